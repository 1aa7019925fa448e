"""Retries in the harness: what Temporal hands the next attempt, and attempts run in turn."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import msgspec
import msgspec.structs
from returns.result import Failure
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from fnact._converter import data_converter
from fnact._heartbeat import Heartbeat
from fnact.testing._capture import Capture
from fnact.testing._rehearsal import CrashPoint, reached_server, throttle_interval
from fnact.testing._run import ActivityRun

__all__ = ["as_retry_sees", "handed_over", "run_attempts"]

R = TypeVar("R")
E = TypeVar("E")

_converter = data_converter.payload_converter
_HEARTBEAT_FIELDS = frozenset(f.encode_name for f in msgspec.structs.fields(Heartbeat))
_ACCEPTED_DETAILS = (
    "a list of one item: a fnact.Heartbeat (as in run.heartbeats), a checkpoint (a msgspec "
    "Struct), or a Heartbeat in builtins form (a dict of progress, message and checkpoint)"
)


async def run_attempts(
    run_attempt: Callable[..., Awaitable[ActivityRun[R, E]]],
    *,
    max_attempts: int,
    heartbeat_timeout: timedelta | None,
    between: Any,
) -> list[ActivityRun[R, E]]:
    """Run attempts 1..``max_attempts`` of ``run_attempt`` the way Temporal would retry them."""
    policy = RetryPolicy(maximum_attempts=max_attempts)
    runs: list[ActivityRun[R, E]] = []
    details: list[Any] = []
    for attempt in range(1, max_attempts + 1):
        run = await run_attempt(
            attempt=attempt, retry_policy=policy,
            heartbeat_timeout=heartbeat_timeout, heartbeat_details=details,
        )  # fmt: skip
        runs.append(run)
        if between is not None:
            between(run)
        if not _retried(run):
            break
        if run.handed_over is not None:
            details = [run.handed_over]  # what Temporal hands the next attempt
    return runs


def handed_over(
    capture: Capture,
    crash_point: CrashPoint,
    heartbeat_timeout: timedelta | None,
    heartbeat_interval: timedelta | None,
) -> Heartbeat | None:
    """Return the heartbeat Temporal hands the next attempt (`ActivityRun.handed_over`).

    That is the last heartbeat sent; after a rehearsed kill, the last one that reached
    the server under the throttle of a worker whose fnact sends every ``heartbeat_interval``.
    """
    if crash_point.killed_at is None:
        return capture.heartbeats[-1] if capture.heartbeats else None
    throttle = throttle_interval(heartbeat_timeout, heartbeat_interval)
    return reached_server(capture.timed, crash_point.killed_at, throttle)


def as_retry_sees(details: Sequence[Any] | None) -> list[Any]:
    """Return ``details`` as the next attempt of a worker sees them.

    fnact sends one `Heartbeat` per beat; Temporal encodes it with the worker's
    converter and hands the next attempt the last one, decoded without a type: a
    dict of ``progress``, ``message`` and ``checkpoint``.

    Raises:
        TypeError: ``details`` is not a list, or its item is none of those accepted.
        ValueError: ``details`` has more than one item, or a dict that is not a heartbeat.
    """
    where = "ActivityHarness.run: heartbeat_details"
    if details is None:
        return []
    if isinstance(details, dict | msgspec.Struct):
        raise TypeError(
            f"{where} must be {_ACCEPTED_DETAILS}; got a {type(details).__qualname__} "
            "outside a list: pass [it]"
        )
    if isinstance(details, str | bytes) or not isinstance(details, Sequence):
        raise TypeError(f"{where} must be {_ACCEPTED_DETAILS}; got {type(details).__qualname__}")
    if not details:
        return []
    if len(details) > 1:
        raise ValueError(
            f"{where} has {len(details)} items: fnact sends one Heartbeat per beat and a retry "
            "sees the last one, so pass one, such as [run.heartbeats[-1]]"
        )
    item = details[0]
    if isinstance(item, Heartbeat):
        beat = item
    elif isinstance(item, msgspec.Struct) or (
        dataclasses.is_dataclass(item) and not isinstance(item, type)
    ):
        beat = Heartbeat(checkpoint=item)  # the checkpoint itself
    elif isinstance(item, dict):
        unknown = sorted(map(repr, set(item) - _HEARTBEAT_FIELDS))
        if unknown:
            raise ValueError(
                f"{where}[0] is a dict with the key(s) {', '.join(unknown)}, which a Heartbeat "
                "does not have (progress, message, checkpoint); for a checkpoint, pass "
                '[{"checkpoint": ...}] or the checkpoint Struct itself'
            )
        try:
            beat = msgspec.convert(item, Heartbeat)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{where}[0] is not a Heartbeat in builtins form: {exc}") from None
    else:
        raise TypeError(f"{where} must be {_ACCEPTED_DETAILS}; got [{type(item).__qualname__}]")
    decoded: list[Any] = _converter.from_payloads(_converter.to_payloads([beat]))
    return decoded


def _retried(run: ActivityRun[Any, Any]) -> bool:
    """Return whether Temporal starts another attempt after ``run``."""
    if run.cancelled:
        return False
    if run.exception is not None:
        return not (isinstance(run.exception, ApplicationError) and run.exception.non_retryable)
    if isinstance(run.result, Failure):
        return not bool(getattr(run.result.failure(), "non_retryable", True))
    return False
