"""What an activity attempt knows about the workflow run that scheduled it.

fnact's worker interceptor records, for one activity attempt, the run headers the
workflow side attached (the run's start time and, when small, its input) and the
worker's `RunContextCache`. The record lives in a context variable for the
duration of the attempt.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import temporalio.activity
import temporalio.api.common.v1
from temporalio.exceptions import ApplicationError

from fnact._codec import decoder_for
from fnact._state import RunKey
from fnact.exceptions import NotInActivityError, StateError

if TYPE_CHECKING:  # only for annotations: _runcontext imports this module
    from fnact._runcontext import RunContextCache

__all__ = [
    "ARGS_HEADER",
    "FNACT_ADAPTER",
    "START_HEADER",
    "Attempt",
    "final_state_error",
    "current_attempt",
    "decode_start",
    "get_workflow_id",
    "get_workflow_run_id",
    "require_info",
    "reset_attempt",
    "run_key",
    "set_attempt",
    "start_override",
]

START_HEADER = "fnact-run-start"
ARGS_HEADER = "fnact-workflow-args"

FNACT_ADAPTER = "__fnact_adapter__"
"""Attribute set on fnact's activity adapters, which learn their run's facts themselves."""

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


def final_state_error(error: StateError) -> ApplicationError:
    """Return the error an activity fails for good with, for a non-retryable ``error``.

    Retrying cannot help a deterministic `StateError`: Temporal is told not to.
    """
    return ApplicationError(str(error), type="StateError", non_retryable=True)


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


def run_key(info: temporalio.activity.Info, what: str) -> RunKey:
    """Return the key of the workflow run that scheduled the activity.

    Raises:
        StateError: non-retryable, the activity is standalone (no workflow started it).
    """
    if info.workflow_id is None or info.workflow_run_id is None:
        raise StateError(
            f"activity {info.activity_type!r} (id {info.activity_id!r}) is a standalone "
            f"activity: {what} needs a workflow run, and no workflow started this activity",
            non_retryable=True,
        )
    return RunKey(info.workflow_id, info.workflow_run_id)


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


def decode_start(payload: Payload) -> datetime:
    """Decode the run start time header."""
    value: datetime = decoder_for(datetime).decode(payload.data)
    return value
