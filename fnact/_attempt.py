"""What one activity attempt knows about the workflow run that scheduled it.

fnact's worker interceptor records, for one activity attempt, the run headers the
workflow side attached (the run's start time and, when small, its input) and the
worker's `RunContextCache`. The record lives in a context variable for the
duration of the attempt.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import temporalio.activity
import temporalio.api.common.v1

from fnact._headers import ARGS_HEADER, START_HEADER, decode_start
from fnact._run_facts import RunContextCache
from fnact._state import RunKey
from fnact.exceptions import NotInActivityError, StateError

__all__ = [
    "Attempt",
    "attempt_start_time",
    "cancellation_reason",
    "current_attempt",
    "get_workflow_id",
    "get_workflow_run_id",
    "require_info",
    "reset_attempt",
    "set_attempt",
    "start_override",
]

Payload = temporalio.api.common.v1.Payload


_UNREAD: Any = object()
"""An `Attempt` header not read yet."""


class Attempt:
    """Run facts known to one activity attempt: its headers and the worker's cache.

    The headers are read when first asked for: most attempts never need the input.
    """

    __slots__ = ("_args", "_headers", "_start", "cache", "error", "missing_args_advice")

    def __init__(
        self,
        headers: Mapping[str, Payload] | None = None,
        cache: RunContextCache | None = None,
        missing_args_advice: str | None = None,
    ) -> None:
        self._headers = headers
        self._start: Any = _UNREAD
        self._args: Any = _UNREAD
        self.cache: RunContextCache | None = cache
        self.error: StateError | None = None
        """Why the run's start time could not be read, raised when it is asked for."""
        self.missing_args_advice: str | None = missing_args_advice
        """What to do when the run's input is missing, for a caller with no run to read it
        from (the test harness); ``None`` on a worker."""

    @property
    def start(self) -> Payload | None:
        """The run start time header, or ``None`` when the workflow side sent none."""
        start: Payload | None = self._start
        if start is _UNREAD:
            headers = self._headers
            start = self._start = None if headers is None else headers.get(START_HEADER)
        return start

    @property
    def args(self) -> Payload | None:
        """The run's input header, or ``None`` when it was too big to copy (or absent)."""
        args: Payload | None = self._args
        if args is _UNREAD:
            headers = self._headers
            args = self._args = None if headers is None else headers.get(ARGS_HEADER)
        return args


_EMPTY = Attempt()
_attempt: contextvars.ContextVar[Attempt] = contextvars.ContextVar("fnact_attempt", default=_EMPTY)
start_override: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "fnact_run_start_override", default=None
)
"""A run start time set by `fnact.testing.run_started_at`; it wins over everything."""


def set_attempt(
    headers: Mapping[str, Payload],
    cache: RunContextCache | None = None,
    *,
    missing_args_advice: str | None = None,
) -> contextvars.Token[Attempt]:
    """Record the current activity attempt's run headers and the worker's cache.

    ``missing_args_advice`` tells the user what to do when the run's input is
    missing; the test harness gives it, as no run's history backs its attempts.
    """
    return _attempt.set(Attempt(headers, cache, missing_args_advice))


def reset_attempt(token: contextvars.Token[Attempt]) -> None:
    """Forget the attempt recorded by `set_attempt`."""
    _attempt.reset(token)


def current_attempt() -> Attempt:
    """Return the current activity attempt's run facts (empty outside an fnact worker)."""
    return _attempt.get()


def require_info(what: str) -> temporalio.activity.Info:
    """Return the running activity's info, or raise `NotInActivityError` naming ``what``."""
    if not temporalio.activity.in_activity():
        raise NotInActivityError(f"{what} can only be called inside a running Temporal activity")
    return temporalio.activity.info()


def get_workflow_id() -> str:
    """Return the id of the workflow that scheduled the running activity.

    Raises:
        NotInActivityError: called outside an activity, or in an activity that no
            workflow scheduled (a standalone activity).
    """
    workflow_id = require_info("fnact.get_workflow_id()").workflow_id
    if workflow_id is None:
        raise NotInActivityError("fnact.get_workflow_id(): this activity has no workflow")
    return workflow_id


def get_workflow_run_id() -> str:
    """Return the run id of the workflow run that scheduled the running activity.

    Raises:
        NotInActivityError: called outside an activity, or in an activity that no
            workflow scheduled (a standalone activity).
    """
    run_id = require_info("fnact.get_workflow_run_id()").workflow_run_id
    if run_id is None:
        raise NotInActivityError("fnact.get_workflow_run_id(): this activity has no workflow run")
    return run_id


def attempt_start_time(attempt: Attempt, key: RunKey) -> datetime | None:
    """Return the run's start time from the attempt's header, else from the worker's cache."""
    if attempt.start is not None:
        return decode_start(attempt.start)
    if attempt.cache is not None:
        return attempt.cache.start_time(key)
    return None


def cancellation_reason() -> str | None:
    """Return why Temporal cancels the running attempt, or ``None`` when it does not.

    One of ``paused``, ``reset``, ``worker_shutdown``, ``timed_out``, ``not_found``
    and ``cancel_requested`` (a cancel the workflow asked for), in that order of
    precedence: a pause or reset is not a user's cancel.
    """
    if not temporalio.activity.in_activity():
        return None
    if temporalio.activity.is_worker_shutdown():
        return "worker_shutdown"
    details = temporalio.activity.cancellation_details()
    if details is None:
        return None
    for reason in ("paused", "reset", "worker_shutdown", "timed_out", "not_found"):
        if getattr(details, reason, False):
            return reason
    return "cancel_requested" if details.cancel_requested else None
