"""What an activity knows about the workflow run that scheduled it.

fnact's worker interceptor copies the run's start time and input into the
headers of every activity the run schedules. The activity side reads them from a
context variable set for the duration of one activity attempt.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import temporalio.activity
import temporalio.api.common.v1

from fnact._codec import decoder_for
from fnact.exceptions import NotInActivityError

__all__ = [
    "ARGS_HEADER",
    "START_HEADER",
    "RunHeaders",
    "current_headers",
    "get_workflow_id",
    "get_workflow_run_id",
    "require_info",
]

START_HEADER = "fnact-run-start"
ARGS_HEADER = "fnact-workflow-args"

Payload = temporalio.api.common.v1.Payload


@dataclass(frozen=True, slots=True)
class RunHeaders:
    """Raw run facts carried in an activity's headers."""

    start: Payload | None
    args: Payload | None


_EMPTY = RunHeaders(start=None, args=None)
_headers: contextvars.ContextVar[RunHeaders] = contextvars.ContextVar(
    "fnact_run_headers", default=_EMPTY
)


def set_headers(headers: Mapping[str, Payload]) -> contextvars.Token[RunHeaders]:
    """Record the current activity attempt's run headers."""
    return _headers.set(RunHeaders(start=headers.get(START_HEADER), args=headers.get(ARGS_HEADER)))


def reset_headers(token: contextvars.Token[RunHeaders]) -> None:
    """Forget the headers recorded by `set_headers`."""
    _headers.reset(token)


def current_headers() -> RunHeaders:
    """Return the run headers of the current activity attempt (empty when absent)."""
    return _headers.get()


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


def decode_start(payload: Payload) -> datetime:
    """Decode the run start time header."""
    value: datetime = decoder_for(datetime).decode(payload.data)
    return value
