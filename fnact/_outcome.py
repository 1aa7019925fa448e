"""Results and Temporal failures, both directions.

This is the one place a `returns` ``Failure(e)`` becomes Temporal's
`ApplicationError`, and the one place such an error becomes ``Failure(e)`` again
(on the workflow side and in the test harness). Every other `ApplicationError`
fnact raises is built here too, by a named constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, dataclass_transform

import msgspec
import temporalio.converter
import temporalio.exceptions
from returns.result import Failure
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

from fnact._converter import masking_encoder

__all__ = [
    "UNENCODABLE_FAILURE",
    "Fault",
    "checkpoint_decode_error",
    "error_from_failure",
    "external_storage_not_configured",
    "failure_from_error",
    "failure_from_details",
    "invalid_activity_input",
    "invalid_activity_result",
    "payload_too_large",
    "plain_activity_call",
    "releases_state",
    "retry_delay_of",
    "state_error",
    "unencodable",
    "unencodable_failure",
    "worker_shutdown",
]

ApplicationError = temporalio.exceptions.ApplicationError


if TYPE_CHECKING:

    @dataclass_transform(field_specifiers=(msgspec.field,))
    class _FaultMeta(msgspec.StructMeta):
        """msgspec's StructMeta, as type checkers see Fault's metaclass.

        Type checkers (PEP 681) treat a class that names a ``dataclass_transform``
        metaclass itself as neither frozen nor unfrozen, so a direct subclass of
        `Fault` may pass ``frozen=True`` or not, as msgspec allows. At run time
        Fault's metaclass is StructMeta, the metaclass of every Struct.
        """

else:
    _FaultMeta = msgspec.StructMeta


class Fault(msgspec.Struct, kw_only=True, metaclass=_FaultMeta):
    """Base for an activity's expected errors: the ``E`` in ``Result[R, E]``.

    A fault is a value, not an exception. Its class name becomes the Temporal
    failure's ``type``; its fields travel as the failure's details and come back
    as the same type in the workflow. Class attributes declare how Temporal
    treats it.

    A fault can be ``frozen=True``: immutable, and hashable. msgspec passes that on to
    subclasses, but mypy and pyright do not, so a subclass of a frozen fault says
    ``frozen=True`` again.

    Examples:
        A retryable fault that tells Temporal when to retry:

        >>> from datetime import timedelta
        >>> class RateLimited(Fault):
        ...     non_retryable = False
        ...     retry_after_s: float
        ...     def retry_delay(self) -> timedelta | None:
        ...         return timedelta(seconds=self.retry_after_s)
        >>> RateLimited(retry_after_s=2.0).retry_delay()
        datetime.timedelta(seconds=2)

        A frozen fault, hashable:

        >>> class Gone(Fault, frozen=True):
        ...     key: str
        >>> Gone(key="a") == Gone(key="a") and hash(Gone(key="a")) == hash(Gone(key="a"))
        True
    """

    non_retryable: ClassVar[bool] = True
    """When true (the default) Temporal does not retry the activity."""

    releases_state: ClassVar[bool] = False
    """When true, this fault means the run's state is suspect (an expired login, a broken
    connection): fnact releases it, and the run's next activity builds it anew.

    The default keeps the state: a fault is an expected outcome, and the handler that
    produced it is as good as before. Raised exceptions declare the same with a
    ``releases_state = True`` attribute.
    """

    def retry_delay(self) -> timedelta | None:
        """Return how long Temporal waits before the next attempt (``None``: its policy)."""
        return None


def releases_state(error: object) -> bool:
    """Whether ``error`` (a fault or an exception) declares that the run's state is suspect.

    >>> class LoginExpired(Fault):
    ...     releases_state = True
    >>> releases_state(LoginExpired()), releases_state(ValueError())
    (True, False)
    """
    return getattr(error, "releases_state", False) is True


def retry_delay_of(error: object) -> timedelta | None:
    """Return the retry delay ``error`` declares, if any."""
    method = getattr(error, "retry_delay", None)
    if not callable(method):
        return None
    delay = method()
    if delay is not None and not isinstance(delay, timedelta):
        raise TypeError(
            f"{type(error).__qualname__}.retry_delay() returned {delay!r}, not a timedelta"
        )
    return delay


def error_from_failure(error: object) -> temporalio.exceptions.ApplicationError:
    """Turn the ``e`` of ``Failure(e)`` into the `ApplicationError` Temporal records."""
    # Details go out masked: a Secret in an error never reaches the server's history.
    details = RawValue(
        Payload(metadata={"encoding": b"json/plain"}, data=masking_encoder.encode(error))
    )
    return temporalio.exceptions.ApplicationError(
        repr(error),
        details,
        type=type(error).__name__,
        non_retryable=bool(getattr(error, "non_retryable", True)),
        next_retry_delay=retry_delay_of(error),
        # An expected outcome, not an incident: Temporal logs it at DEBUG, not as a warning.
        category=temporalio.exceptions.ApplicationErrorCategory.BENIGN,
    )


def failure_from_error(
    error: BaseException,
    error_types: Mapping[str, type[Any]],
    converter: temporalio.converter.PayloadConverter,
) -> Failure[Any] | None:
    """Rebuild ``Failure(e)`` from an activity's failure, or return ``None`` if it is not one.

    ``error`` is what the workflow caught (an `ActivityError` whose cause is the
    `ApplicationError`); ``error_types`` maps type names to the activity's
    declared error types.
    """
    cause = error.__cause__ if isinstance(error, temporalio.exceptions.ActivityError) else error
    if not isinstance(cause, temporalio.exceptions.ApplicationError):
        return None
    error_type = error_types.get(cause.type or "")
    if error_type is None:
        return None
    raw = cause.failure
    if raw is not None and raw.application_failure_info.details.payloads:
        payloads = raw.application_failure_info.details.payloads
        value = converter.from_payloads([payloads[0]], [error_type])[0]
        return Failure(value)
    return failure_from_details(cause, error_type, converter)


def failure_from_details(
    error: temporalio.exceptions.ApplicationError,
    error_type: type[Any],
    converter: temporalio.converter.PayloadConverter,
) -> Failure[Any] | None:
    """Rebuild ``Failure(e)`` from the details an `ApplicationError` carries in process.

    The test harness calls the adapter directly, so its errors carry their details
    as values (or raw payloads), not as a recorded failure.
    """
    if not error.details:
        return None
    detail = error.details[0]
    if isinstance(detail, RawValue):
        return Failure(converter.from_payloads([detail.payload], [error_type])[0])
    return Failure(msgspec.convert(detail, error_type, strict=False))


# --- The other errors fnact ends an activity or a workflow call with, by name.


def payload_too_large(
    what: str, size: int, limit: int, *, advice: str | None = None
) -> ApplicationError:
    """Return the non-retryable error for a payload over Temporal's limit."""
    advice = advice or (
        "write large data with ctx.outputs and return or checkpoint its OutputRef instead, "
        "or configure Temporal's external storage (fnact.worker.ObjectStoreDriver)"
    )
    return ApplicationError(
        f"{what} is {size:,} bytes, over the {limit:,}-byte payload limit; {advice}",
        type="PayloadTooLarge",
        non_retryable=True,
    )


def unencodable(message: str, *, kind: str) -> ApplicationError:
    """Return the non-retryable error for a value JSON cannot carry (NaN, infinity).

    ``kind`` names the value: ``Input``, ``Result`` or ``Checkpoint``.
    """
    error = ApplicationError(message, type=f"Unencodable{kind}", non_retryable=True)
    error.__cause__ = None  # as `raise ... from None`: the encoder's error is in the message
    return error


UNENCODABLE_FAILURE = "UnencodableFailure"
"""The error type of a returned ``Failure(e)`` whose ``e`` cannot be encoded (a bug)."""


def unencodable_failure(name: str, reason: object) -> ApplicationError:
    """Return the non-retryable error for a returned ``Failure(e)`` that cannot be encoded."""
    return ApplicationError(
        f"activity {name!r} returned a Failure that cannot be encoded: {reason}",
        type=UNENCODABLE_FAILURE,
        non_retryable=True,
    )


def invalid_activity_result(name: str, result: object) -> ApplicationError:
    """Return the non-retryable error for a body that returned something other than a Result."""
    return ApplicationError(
        f"activity {name!r} returned {type(result).__qualname__}, not a returns Result",
        type="InvalidActivityResult",
        non_retryable=True,
    )


def invalid_activity_input(name: str, message: object) -> ApplicationError:
    """Return the non-retryable error for an activity input that does not decode."""
    return ApplicationError(
        f"activity {name!r}: invalid input: {message}",
        type="InvalidActivityInput",
        non_retryable=True,
    )


def external_storage_not_configured(name: str) -> ApplicationError:
    """Return the retryable error for an input in external storage on a worker without it."""
    return ApplicationError(
        f"activity {name!r}: the input is kept in Temporal's external storage, "
        "and this worker's data converter has no external storage configured",
        type="ExternalStorageNotConfigured",
    )


def worker_shutdown(name: str) -> ApplicationError:
    """Return the retryable error for a body that swallowed a worker shutdown's cancellation."""
    return ApplicationError(
        f"activity {name!r} was interrupted by a worker shutdown; retrying",
        type="WorkerShutdown",
    )


def state_error(error: Exception) -> ApplicationError:
    """Return the error an activity fails for good with, for a non-retryable `StateError`.

    Retrying cannot help a deterministic `StateError`: Temporal is told not to.
    """
    return ApplicationError(str(error), type="StateError", non_retryable=True)


def checkpoint_decode_error(type_name: str, reason: object) -> ApplicationError:
    """Return the non-retryable error for a checkpoint that no longer decodes as its type."""
    return ApplicationError(
        f"the last checkpoint does not decode as {type_name}: {reason}; "
        "was the checkpoint type changed while this activity was retrying?",
        type="CheckpointDecodeError",
        non_retryable=True,
    )


def plain_activity_call(name: str, qualname: str) -> ApplicationError:
    """Return the non-retryable error for an fnact activity given to temporalio's calls.

    ``temporalio.workflow.execute_activity`` and its siblings cannot call an fnact
    activity; raised in the workflow, this error fails the run at once instead of
    failing its workflow task over and over.
    """
    return ApplicationError(
        f"fnact activity {name!r} ({qualname}) was given to temporalio.workflow's activity "
        "functions, which cannot call it: call it with fnact.workflow.execute_activity (or "
        "fnact.workflow.start_activity, execute_local_activity, start_local_activity), which "
        "encodes its input and returns its Result",
        type="PlainActivityCall",
        non_retryable=True,
    )
