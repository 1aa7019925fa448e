"""The model of a watched run: one row per activity, from its description and its history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, PendingActivityState, TimeoutType
from temporalio.api.failure.v1 import Failure as FailureProto
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from fnact._converter import data_converter

__all__ = [
    "ActivityRow",
    "RunHistory",
    "format_seconds",
    "read_activity",
    "read_progress",
    "summary_line",
]

_STATE_PREFIX = "PENDING_ACTIVITY_STATE_"
_CLOSED = ("completed", "failed", "cancelled", "timed_out")
"""Outcomes of an activity that has ended, in the summary line's order."""


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """What `fnact watch` shows of one activity of a run."""

    run_id: str
    activity_id: str
    activity_type: str
    state: str
    """``scheduled``, ``started``, ``cancel_requested``, ``pause_requested`` or ``paused``
    while pending; ``completed``,
    ``failed``, ``cancelled`` or ``timed_out`` once it ended."""
    attempt: int
    progress: float | None = None
    message: str | None = None
    last_failure: str | None = None
    """For a pending activity, why its last attempt failed; for a failed or timed-out
    one, why it ended (``TableMissing: no table orders``)."""
    summary: str | None = None
    order: int = 0
    """The scheduling event's id: rows are shown in the order the workflow scheduled them."""
    scheduled_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The activity's identity: its run and its id within the run."""
        return self.run_id, self.activity_id

    @property
    def label(self) -> str:
        """The ``summary`` given to ``execute_activity``, else type and id (``list_tables#1``)."""
        return self.summary or f"{self.activity_type}#{self.activity_id}"

    @property
    def ended(self) -> bool:
        """Whether the activity has ended (completed, failed, cancelled or timed out)."""
        return self.state in _CLOSED

    def elapsed(self, now: datetime) -> timedelta | None:
        """Return the time from its first scheduling to its end (or to ``now``, while pending)."""
        if self.scheduled_at is None:
            return None
        return max((self.closed_at or now) - self.scheduled_at, timedelta(0))

    def line(self, now: datetime | None = None) -> str:
        """Return the activity as one plain line."""
        parts = [self.label, f"attempt={self.attempt}", f"state={self.state}"]
        if self.progress is not None and not self.ended:
            parts.append(f"progress={self.progress:g}%")
        if self.message and not self.ended:
            parts.append(f"message={self.message}")
        if self.last_failure:
            parts.append(f"{'error' if self.ended else 'last_failure'}={self.last_failure}")
        if self.ended:
            elapsed = self.elapsed(now or datetime.now(UTC))
            if elapsed is not None:
                parts.append(f"elapsed={format_seconds(elapsed)}")
        return " ".join(parts)


def format_seconds(elapsed: timedelta) -> str:
    """Return ``elapsed`` as seconds with one decimal: ``2.5s``."""
    return f"{elapsed.total_seconds():.1f}s"


def read_activity(run_id: str, info: PendingActivityInfo) -> ActivityRow:
    """Return what to show of a pending activity, decoding fnact's heartbeat details."""
    progress, message = _read_heartbeat(info)
    try:
        state = PendingActivityState.Name(info.state).removeprefix(_STATE_PREFIX).lower()
    except ValueError:  # a state this SDK does not know yet
        state = str(info.state)
    failure = _failure_text(info.last_failure) if info.HasField("last_failure") else ""
    scheduled = info.scheduled_time.ToDatetime(UTC) if info.HasField("scheduled_time") else None
    return ActivityRow(
        run_id=run_id,
        activity_id=info.activity_id,
        activity_type=info.activity_type.name,
        state=state,
        attempt=info.attempt,
        progress=progress,
        message=_single_line(message),
        last_failure=_single_line(failure),
        order=1 << 62,  # after those the history has shown, until it shows this one
        scheduled_at=scheduled,
    )


def _read_heartbeat(info: PendingActivityInfo) -> tuple[float | None, str | None]:
    return read_progress(list(info.heartbeat_details.payloads))


def read_progress(payloads: list[Payload]) -> tuple[float | None, str | None]:
    """Return the progress and message of fnact heartbeat details (``None`` for others)."""
    if not payloads:
        return None, None
    try:
        values = data_converter.payload_converter.from_payloads(payloads)
    except Exception:  # details of any SDK, encoding or codec: show none rather than fail
        return None, None
    details: Any = values[0] if values else None
    if not isinstance(details, dict):
        return None, None
    progress: Any = details.get("progress")
    message: Any = details.get("message")
    if not isinstance(progress, int | float) or isinstance(progress, bool):
        progress = None
    return (None if progress is None else float(progress)), (
        message if isinstance(message, str) else None
    )


def _failure_text(failure: FailureProto) -> str:
    """Return ``Type: message`` of a failure, following its causes to the root one."""
    while failure.HasField("cause") and not failure.message:
        failure = failure.cause
    kind = (
        failure.application_failure_info.type
        if failure.HasField("application_failure_info")
        else ""
    )
    if failure.HasField("timeout_failure_info"):
        timeout = TimeoutType.Name(failure.timeout_failure_info.timeout_type)
        kind = timeout.removeprefix("TIMEOUT_TYPE_").lower().replace("_", "-") + " timeout"
    text = f"{kind}: {failure.message}" if kind and failure.message else kind or failure.message
    cause = failure.cause if failure.HasField("cause") else None
    if cause is not None and (cause.message or cause.HasField("application_failure_info")):
        text = f"{text} (cause: {_failure_text(cause)})"
    return text


def _single_line(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(text.split()) or None


@dataclass(slots=True)
class _Activity:
    activity_id: str
    activity_type: str
    summary: str | None
    order: int
    scheduled_at: datetime
    attempt: int = 1
    state: str = "scheduled"
    error: str | None = None
    closed_at: datetime | None = None


@dataclass(slots=True)
class RunHistory:
    """What a run's history says about its activities and its end, event by event."""

    run_id: str
    activities: dict[int, _Activity] = field(default_factory=dict)
    """Activities by the id of the event that scheduled them."""
    by_activity_id: dict[str, int] = field(default_factory=dict)
    outcome: str | None = None
    """Why the run failed, timed out or was terminated, once its history says so."""
    closed: bool = False

    def apply(self, event: HistoryEvent) -> None:
        """Take one event of the run's history into account."""
        kind = event.event_type
        when = event.event_time.ToDatetime(UTC)
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            summary = _summary(event)
            self.activities[event.event_id] = _Activity(
                scheduled.activity_id, scheduled.activity_type.name, summary, event.event_id, when
            )
            self.by_activity_id[scheduled.activity_id] = event.event_id
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            if (activity := self.activities.get(started.scheduled_event_id)) is not None:
                activity.attempt = max(started.attempt, 1)
                activity.state = "started"
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            self._close(event.activity_task_completed_event_attributes.scheduled_event_id,
                        "completed", when, None)  # fmt: skip
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failed = event.activity_task_failed_event_attributes
            self._close(failed.scheduled_event_id, "failed", when, _failure_text(failed.failure))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            timed_out = event.activity_task_timed_out_event_attributes
            self._close(
                timed_out.scheduled_event_id, "timed_out", when, _failure_text(timed_out.failure)
            )
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
            cancelled = event.activity_task_canceled_event_attributes
            self._close(cancelled.scheduled_event_id, "cancelled", when, None)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            self.outcome = _failure_text(event.workflow_execution_failed_event_attributes.failure)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            self.outcome = event.workflow_execution_terminated_event_attributes.reason or None
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            self.outcome = "the run timed out"
        if kind in _RUN_CLOSE_EVENTS:
            self.closed = True

    def _close(self, scheduled_id: int, state: str, when: datetime, error: str | None) -> None:
        activity = self.activities.get(scheduled_id)
        if activity is not None:
            activity.state, activity.closed_at = state, when
            activity.error = _single_line(error)

    def rows(self, pending: Sequence[ActivityRow]) -> list[ActivityRow]:
        """Merge the pending activities' rows with what the history says, in scheduling order."""
        rows: dict[str, ActivityRow] = {}
        for activity in self.activities.values():
            rows[activity.activity_id] = ActivityRow(
                run_id=self.run_id,
                activity_id=activity.activity_id,
                activity_type=activity.activity_type,
                state=activity.state,
                attempt=activity.attempt,
                last_failure=activity.error,
                summary=activity.summary,
                order=activity.order,
                scheduled_at=activity.scheduled_at,
                closed_at=activity.closed_at,
            )
        for row in pending:
            known = rows.get(row.activity_id)
            if known is not None and known.ended:
                continue  # the history has its end; the description was read before it
            if known is not None:
                row = replace(
                    row, summary=known.summary, order=known.order, scheduled_at=known.scheduled_at
                )
            rows[row.activity_id] = row
        return sorted(rows.values(), key=lambda r: (r.order, r.activity_id))


_RUN_CLOSE_EVENTS = frozenset({
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
})  # fmt: skip


def _summary(event: HistoryEvent) -> str | None:
    if not event.HasField("user_metadata") or not event.user_metadata.HasField("summary"):
        return None
    try:
        value = data_converter.payload_converter.from_payloads([event.user_metadata.summary])[0]
    except Exception:  # encrypted, or not a string: label the row by type and id instead
        return None
    return _single_line(value) if isinstance(value, str) else None


def summary_line(rows: Sequence[ActivityRow]) -> str:
    """Return the counts of activities by outcome: ``3 activities: 2 completed, 1 failed``."""
    counts = {state: 0 for state in (*_CLOSED, "running")}
    for row in rows:
        counts[row.state if row.ended else "running"] += 1
    shown = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in counts.items() if n)
    noun = "activity" if len(rows) == 1 else "activities"
    return f"{len(rows)} {noun}: {shown}" if rows else "no activities yet"
