"""Failure values to Temporal's ApplicationError, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from returns.result import Failure
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

import fnact
import fnact.worker
from fnact._outcome import error_from_failure, failure_from_error

converter = fnact.worker.data_converter.payload_converter


class Gone(fnact.Fault):
    key: str


class Throttled(fnact.Fault):
    non_retryable = False
    seconds: float

    def retry_delay(self) -> timedelta | None:
        return timedelta(seconds=self.seconds)


def test_fault_is_non_retryable_by_default() -> None:
    """A Fault's type name, details and non-retryable default become the ApplicationError."""
    error = error_from_failure(Gone(key="a"))
    assert error.type == "Gone"
    assert error.non_retryable is True
    [detail] = error.details
    assert isinstance(detail, RawValue)
    assert detail.payload.data == b'{"key":"a"}'
    assert error.next_retry_delay is None
    assert "Gone(key='a')" in error.message


def test_fault_declares_retry_and_delay() -> None:
    """A Fault can declare itself retryable and choose its next retry delay per instance."""
    error = error_from_failure(Throttled(seconds=2.5))
    assert error.non_retryable is False
    assert error.next_retry_delay == timedelta(seconds=2.5)


def test_secrets_in_a_fault_are_masked_in_message_and_details() -> None:
    """A Secret inside a Fault is masked in the failure's message and in its details."""

    class LoginRejected(fnact.Fault):
        user: str
        password: fnact.Secret

    error = error_from_failure(LoginRejected(user="ada", password=fnact.Secret("hunter2")))
    assert "hunter2" not in error.message
    assert b"hunter2" not in error.details[0].payload.data
    assert b'"password":"********"' in error.details[0].payload.data


def test_bad_retry_delay_type_is_reported() -> None:
    """A retry_delay() returning a non-timedelta raises a TypeError naming the class."""

    class Wrong(fnact.Fault):
        def retry_delay(self) -> timedelta | None:
            return 5  # type: ignore[return-value]

    with pytest.raises(TypeError, match=r"Wrong.retry_delay\(\) returned 5"):
        error_from_failure(Wrong())


def wrap(error: ApplicationError) -> ActivityError:
    activity_error = ActivityError(
        "activity failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="test",
        activity_type="x",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    activity_error.__cause__ = error
    return activity_error


def test_failure_is_rebuilt_with_its_own_type() -> None:
    """An ActivityError caused by a declared error type becomes Failure(e) of that type."""
    error = ApplicationError("x", {"key": "k"}, type="Gone")
    assert failure_from_error(wrap(error), {"Gone": Gone}, converter) == Failure(Gone(key="k"))


@pytest.mark.parametrize(
    "cause",
    [
        ApplicationError("x", {"key": "k"}, type="Unknown"),
        ApplicationError("x", type="Gone"),
        RuntimeError("boom"),
    ],
)
def test_other_failures_are_not_turned_into_values(cause: BaseException) -> None:
    """Undeclared types, missing details and other exceptions stay exceptions (None)."""
    if isinstance(cause, ApplicationError):
        assert failure_from_error(wrap(cause), {"Gone": Gone}, converter) is None
    else:
        assert failure_from_error(cause, {"Gone": Gone}, converter) is None
