"""``fnact watch``: a run's pending activities, read from their heartbeats, until it closes.

fnact treats heartbeat progress as a percentage (0 to 100); details that are
not fnact's ``{"progress", "message", "checkpoint"}`` are not shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import temporalio.client
import temporalio.converter
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import WorkflowExecutionStatus

from fnact._codec import data_converter

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import TaskID

__all__ = ["ActivityRow", "BarsView", "PlainView", "View", "read_activity", "watch_run"]

_STATE_PREFIX = "PENDING_ACTIVITY_STATE_"
_STATE_STYLES = {"SCHEDULED": "yellow", "STARTED": "green", "CANCEL_REQUESTED": "red"}


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """What `fnact watch` shows of one pending activity."""

    run_id: str
    activity_id: str
    activity_type: str
    state: str
    attempt: int
    progress: float | None
    message: str | None
    last_failure: str | None

    @property
    def key(self) -> tuple[str, str]:
        """The activity's identity: its run and its id within the run."""
        return self.run_id, self.activity_id

    @property
    def label(self) -> str:
        """The activity's type and id, e.g. ``list_tables#1``."""
        return f"{self.activity_type}#{self.activity_id}"

    def line(self) -> str:
        """Return the activity as one plain line."""
        parts = [self.label, f"attempt={self.attempt}", f"state={self.state}"]
        if self.progress is not None:
            parts.append(f"progress={self.progress:g}%")
        if self.message:
            parts.append(f"message={self.message}")
        if self.last_failure:
            parts.append(f"last_failure={self.last_failure}")
        return " ".join(parts)


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
        state = PendingActivityState.Name(info.state).removeprefix(_STATE_PREFIX)
    except ValueError:  # a state this SDK does not know yet
        state = str(info.state)
    failure = info.last_failure.message if info.HasField("last_failure") else ""
    return ActivityRow(
        run_id=run_id,
        activity_id=info.activity_id,
        activity_type=info.activity_type.name,
        state=state,
        attempt=info.attempt,
        progress=progress,
        message=_single_line(message),
        last_failure=_single_line(failure),
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


def _single_line(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(text.split()) or None


class View(Protocol):
    """Where `watch_run` shows each look at the run."""

    def update(
        self, run_id: str, status: WorkflowExecutionStatus, rows: Sequence[ActivityRow]
    ) -> None:
        """Show the run's status and its pending activities."""

    def close(self, status: WorkflowExecutionStatus) -> None:
        """Show that the run closed with ``status``."""


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
    while True:
        description = await handle.describe()
        status = description.status or WorkflowExecutionStatus.RUNNING
        if status is WorkflowExecutionStatus.CONTINUED_AS_NEW and run_id is None:
            status = WorkflowExecutionStatus.RUNNING  # the next describe finds the new run
        codec = client.data_converter.payload_codec
        rows = [
            read_activity(description.run_id, await decode_details(info, codec))
            for info in description.raw_description.pending_activities
        ]
        view.update(description.run_id, status, rows)
        if status is not WorkflowExecutionStatus.RUNNING:
            view.close(status)
            return status
        await asyncio.sleep(interval)


class PlainView:
    """Print a line whenever an activity or the run changes: for logs and pipes.

    Args:
        out: where lines go.
        workflow_id: the watched workflow.
    """

    def __init__(self, out: TextIO, workflow_id: str) -> None:
        self._out = out
        self._workflow_id = workflow_id
        self._shown: dict[tuple[str, str], tuple[str, str]] = {}
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
        current = {row.key: (row.label, row.line()) for row in rows}
        for key, (_, line) in current.items():
            if key not in self._shown or self._shown[key][1] != line:
                self._print(line)
        for key, (label, _) in self._shown.items():
            if key not in current:
                self._print(f"{label} ended")
        self._shown = current

    def close(self, status: WorkflowExecutionStatus) -> None:
        """Print the run's final status."""
        self._print(f"workflow {self._workflow_id} {status.name}")

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
        self._progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(bar_width=30),
            TaskProgressColumn(),
            TextColumn("{task.fields[state]}"),
            TextColumn("{task.fields[attempt]}"),
            TextColumn("{task.fields[message]}", markup=False),
            console=console,
        )
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._live = Live(get_renderable=self.frame, console=console, refresh_per_second=8)
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
        if not self._tasks:
            return Group(header, Text("no pending activities", style="dim"))
        return Group(header, self._progress)

    def update(
        self, run_id: str, status: WorkflowExecutionStatus, rows: Sequence[ActivityRow]
    ) -> None:
        """Update the bars of pending activities; mark those no longer pending as ended."""
        self._status = status
        current = {row.key for row in rows}
        for row in rows:
            task = self._tasks.get(row.key)
            if task is None:
                task = self._progress.add_task(
                    row.label, total=None, state="", attempt="", message=""
                )
                self._tasks[row.key] = task
            attempt_style = "red" if row.attempt > 1 else "dim"
            self._progress.update(
                task,
                # None leaves a bar as it was: without progress, it stays indeterminate.
                total=None if row.progress is None else 100.0,
                completed=None if row.progress is None else min(max(row.progress, 0.0), 100.0),
                state=f"[{_STATE_STYLES.get(row.state, 'white')}]{row.state.lower()}[/]",
                attempt=f"[{attempt_style}]attempt {row.attempt}[/]",
                message=row.message
                or (f"last failure: {row.last_failure}" if row.last_failure else ""),
            )
        for key, task in self._tasks.items():
            if key not in current:
                self._progress.update(task, state="[dim]ended[/]", message="")

    def close(self, status: WorkflowExecutionStatus) -> None:
        """Draw the final frame (bars of a completed run full) and stop redrawing."""
        self._status = status
        if status is WorkflowExecutionStatus.COMPLETED:
            for task in self._tasks.values():
                self._progress.update(task, total=100.0, completed=100.0)
        self._live.refresh()
        self._live.stop()

    def stop(self) -> None:
        """Stop redrawing (idempotent), e.g. when the watch is interrupted."""
        self._live.stop()
