"""``fnact watch``: a run's activities and their outcomes, until the run closes.

Each look describes the run (pending activities, with their heartbeats) while a
reader follows the run's history (every activity scheduled, and how it ended).
Together they give each activity's outcome, attempt and elapsed time, labelled by
the ``summary`` given to ``execute_activity`` when there is one, in the order the
workflow scheduled them. fnact treats heartbeat progress as a percentage (0 to
100); details that are not fnact's ``{"progress", "message", "checkpoint"}`` are
not shown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import temporalio.client
import temporalio.converter
import temporalio.service
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, PendingActivityState, TimeoutType
from temporalio.api.failure.v1 import Failure as FailureProto
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import WorkflowExecutionStatus

from fnact._converter import data_converter

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import TaskID

__all__ = [
    "ActivityRow",
    "BarsView",
    "PlainView",
    "RunHistory",
    "View",
    "read_activity",
    "watch_run",
]

_STATE_PREFIX = "PENDING_ACTIVITY_STATE_"
_STATE_STYLES = {
    "scheduled": "yellow",
    "started": "green",
    "cancel_requested": "red",
    "completed": "bold green",
    "failed": "bold red",
    "cancelled": "yellow",
    "timed_out": "bold red",
}
_CLOSED = ("completed", "failed", "cancelled", "timed_out")
"""Outcomes of an activity that has ended, in the summary line's order."""


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """What `fnact watch` shows of one activity of a run."""

    run_id: str
    activity_id: str
    activity_type: str
    state: str
    """``scheduled``, ``started`` or ``cancel_requested`` while pending; ``completed``,
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
                parts.append(f"elapsed={_seconds(elapsed)}")
        return " ".join(parts)


def _seconds(elapsed: timedelta) -> str:
    return f"{elapsed.total_seconds():.1f}s"


async def decode_details(
    info: PendingActivityInfo, codec: temporalio.converter.PayloadCodec | None
) -> PendingActivityInfo:
    """Return ``info`` with its heartbeat details run back through ``codec`` (if any)."""
    if codec is None or not info.heartbeat_details.payloads:
        return info
    try:
        decoded = await codec.decode(list(info.heartbeat_details.payloads))
    except Exception:  # not encoded with this codec: show no details rather than fail
        decoded = []
    plain = PendingActivityInfo()
    plain.CopyFrom(info)
    del plain.heartbeat_details.payloads[:]
    plain.heartbeat_details.payloads.extend(decoded)
    return plain


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
    if not info.heartbeat_details.payloads:
        return None, None
    try:
        values = data_converter.payload_converter.from_payloads(info.heartbeat_details.payloads)
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


class View(Protocol):
    """Where `watch_run` shows each look at the run."""

    def update(
        self, run_id: str, status: WorkflowExecutionStatus, rows: Sequence[ActivityRow]
    ) -> None:
        """Show the run's status and its activities."""

    def close(self, status: WorkflowExecutionStatus, reason: str | None) -> None:
        """Show that the run closed with ``status`` (and why, when it did not complete)."""


class _HistoryReader:
    """Follows one run's history in the background, long-polling for new events."""

    def __init__(self, client: temporalio.client.Client, workflow_id: str, run_id: str) -> None:
        self.history = RunHistory(run_id)
        self.read = asyncio.Event()
        """Set once the events the run had when the reader started are applied."""
        self._request = GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            wait_new_event=True,
        )
        self._service = client.workflow_service
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        try:
            while True:
                response = await self._service.get_workflow_execution_history(self._request)
                for event in response.history.events:
                    self.history.apply(event)
                self.read.set()
                if self.history.closed or not response.next_page_token:
                    return
                self._request.next_page_token = response.next_page_token
        finally:
            self.read.set()  # a reader that failed does not hold the view up

    async def wait_read(self, within: float) -> None:
        """Wait up to ``within`` seconds for the events the run had when the reader started."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.read.wait(), within)

    async def finish(self, within: float) -> None:
        """Wait up to ``within`` seconds for the run's last events."""
        with contextlib.suppress(TimeoutError, temporalio.service.RPCError):
            await asyncio.wait_for(asyncio.shield(self._task), within)

    def stop(self) -> None:
        self._task.cancel()


async def watch_run(
    client: temporalio.client.Client,
    workflow_id: str,
    *,
    run_id: str | None,
    interval: float,
    view: View,
) -> WorkflowExecutionStatus:
    """Describe the run every ``interval`` seconds and show it until it closes.

    Without ``run_id`` it follows the workflow's latest run, across continue-as-new.

    Raises:
        temporalio.service.RPCError: describing the workflow failed (``NOT_FOUND``
            when there is no such workflow or run).
    """
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    reader: _HistoryReader | None = None
    try:
        while True:
            description = await handle.describe()
            if reader is None or reader.history.run_id != description.run_id:
                if reader is not None:
                    reader.stop()
                reader = _HistoryReader(client, workflow_id, description.run_id)
                await reader.wait_read(within=5.0)  # label rows by summary from the first look
            status = description.status or WorkflowExecutionStatus.RUNNING
            if status is WorkflowExecutionStatus.CONTINUED_AS_NEW and run_id is None:
                status = WorkflowExecutionStatus.RUNNING  # the next describe finds the new run
            closed = status is not WorkflowExecutionStatus.RUNNING
            if closed:
                await reader.finish(within=5.0)  # the history's end: outcomes and reason
            codec = client.data_converter.payload_codec
            pending = [
                read_activity(description.run_id, await decode_details(info, codec))
                for info in description.raw_description.pending_activities
            ]
            view.update(description.run_id, status, reader.history.rows(pending))
            if closed:
                view.close(status, reader.history.outcome)
                return status
            await asyncio.sleep(interval)
    finally:
        if reader is not None:
            reader.stop()


def _closing_line(workflow_id: str, status: WorkflowExecutionStatus, reason: str | None) -> str:
    line = f"workflow {workflow_id} {status.name}"
    return (
        f"{line}: {reason}" if reason and status is not WorkflowExecutionStatus.COMPLETED else line
    )


class PlainView:
    """Print a line whenever an activity or the run changes: for logs and pipes.

    Args:
        out: where lines go.
        workflow_id: the watched workflow.
    """

    def __init__(self, out: TextIO, workflow_id: str) -> None:
        self._out = out
        self._workflow_id = workflow_id
        self._shown: dict[tuple[str, str], str] = {}
        self._rows: list[ActivityRow] = []
        self._status: WorkflowExecutionStatus | None = None
        self._run_id: str | None = None
        self.lines: list[str] = []
        """Every line printed, in order."""

    def update(
        self, run_id: str, status: WorkflowExecutionStatus, rows: Sequence[ActivityRow]
    ) -> None:
        """Print the lines that changed since the last update."""
        if self._run_id is not None and run_id != self._run_id:
            self._print(f"workflow {self._workflow_id} continued as new: run {run_id}")
        self._run_id = run_id
        if status is WorkflowExecutionStatus.RUNNING and status is not self._status:
            self._status = status
            self._print(f"workflow {self._workflow_id} {status.name}")
        for row in rows:
            line = row.line()
            if self._shown.get(row.key) != line:
                self._print(line)
                self._shown[row.key] = line
        self._rows = list(rows)

    def close(self, status: WorkflowExecutionStatus, reason: str | None = None) -> None:
        """Print the counts by outcome, then the run's final status (and why it failed)."""
        self._print(summary_line(self._rows))
        self._print(_closing_line(self._workflow_id, status, reason))

    def _print(self, line: str) -> None:
        self.lines.append(line)
        print(line, file=self._out, flush=True)


class BarsView:
    """Live progress bars on a terminal, one per activity, redrawn in place.

    Args:
        console: the rich console to draw on.
        workflow_id: the watched workflow.
    """

    def __init__(self, console: Console, workflow_id: str) -> None:
        from rich.live import Live
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        self._workflow_id = workflow_id
        self._status = WorkflowExecutionStatus.RUNNING
        self._reason: str | None = None
        self._rows: list[ActivityRow] = []
        self._progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            TextColumn("{task.fields[state]}"),
            TextColumn("{task.fields[attempt]}"),
            TextColumn("{task.fields[elapsed]}", style="dim"),
            TextColumn("{task.fields[message]}", markup=False),
            console=console,
        )
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._live = Live(
            get_renderable=self.frame,
            console=console,
            refresh_per_second=8,
            redirect_stderr=False,  # nothing else writing to stderr is drawn into the view
        )
        self._live.start()

    def frame(self) -> RenderableType:
        """Return what the view shows now."""
        from rich.console import Group
        from rich.text import Text

        style = {"RUNNING": "bold cyan", "COMPLETED": "bold green"}.get(
            self._status.name, "bold red"
        )
        header = Text.assemble(
            ("workflow ", "dim"), (self._workflow_id, "bold"), " ", (self._status.name, style)
        )
        if self._reason and self._status is not WorkflowExecutionStatus.COMPLETED:
            header.append(f": {self._reason}", style="red")
        if not self._tasks:
            return Group(header, Text("no activities yet", style="dim"))
        return Group(header, self._progress, Text(summary_line(self._rows), style="dim"))

    def update(
        self, run_id: str, status: WorkflowExecutionStatus, rows: Sequence[ActivityRow]
    ) -> None:
        """Update each activity's bar, outcome, attempt and elapsed time."""
        self._status = status
        self._rows = list(rows)
        now = datetime.now(UTC)
        for row in rows:
            task = self._tasks.get(row.key)
            if task is None:  # rows come in scheduling order: bars are added in it
                task = self._progress.add_task(
                    row.label, total=None, state="", attempt="", elapsed="", message=""
                )
                self._tasks[row.key] = task
            elapsed = row.elapsed(now)
            progress = 100.0 if row.state == "completed" else row.progress
            if row.ended and progress is None:
                progress = 0.0  # an ended bar stands still
            self._progress.update(
                task,
                description=row.label,
                # None leaves a bar as it was: without progress, it stays indeterminate.
                total=None if progress is None else 100.0,
                completed=None if progress is None else min(max(progress, 0.0), 100.0),
                state=f"[{_STATE_STYLES.get(row.state, 'white')}]{row.state.replace('_', ' ')}[/]",
                attempt=f"[{'red' if row.attempt > 1 else 'dim'}]attempt {row.attempt}[/]",
                elapsed="" if elapsed is None else _seconds(elapsed),
                message=_row_message(row),
            )

    def close(self, status: WorkflowExecutionStatus, reason: str | None = None) -> None:
        """Draw the final frame and stop redrawing."""
        self._status = status
        self._reason = reason
        self._live.refresh()
        self._live.stop()

    def stop(self) -> None:
        """Stop redrawing (idempotent), e.g. when the watch is interrupted."""
        self._live.stop()

    def closing_line(self) -> str:
        """Return the line printed below the final frame: the run's status, and why it failed."""
        return _closing_line(self._workflow_id, self._status, self._reason)


def _row_message(row: ActivityRow) -> str:
    if row.ended:
        return row.last_failure or ""
    if row.message:
        return row.message
    return f"last failure: {row.last_failure}" if row.last_failure else ""
