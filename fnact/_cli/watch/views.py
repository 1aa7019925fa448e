"""The views of a watched run: plain lines for logs and pipes, live bars on a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from temporalio.client import WorkflowExecutionStatus

from fnact._cli.watch.model import ActivityRow, format_seconds, summary_line

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import TaskID

__all__ = ["BarsView", "PlainView"]

_STATE_STYLES = {
    "scheduled": "yellow",
    "started": "green",
    "cancel_requested": "red",
    "completed": "bold green",
    "failed": "bold red",
    "cancelled": "yellow",
    "timed_out": "bold red",
}


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
                elapsed="" if elapsed is None else format_seconds(elapsed),
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
