"""What one in-process attempt of an activity did: `ActivityRun` and its `StateCounts`."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Generic, TypeVar

from returns.result import Result

from fnact._heartbeat import Heartbeat
from fnact._state import StateStats

__all__ = ["ActivityRun", "StateCounts"]

R = TypeVar("R")
E = TypeVar("E")


@dataclasses.dataclass(frozen=True, slots=True)
class StateCounts:
    """What the run-state store did during one attempt."""

    builds: int = 0
    refreshes: int = 0
    releases: int = 0
    closes: int = 0

    @classmethod
    def between(cls, before: StateStats, after: StateStats) -> StateCounts:
        """Return the difference of two snapshots of a store's counters."""
        return cls(
            builds=after.builds - before.builds,
            refreshes=after.refreshes - before.refreshes,
            releases=after.releases - before.releases,
            closes=after.closes - before.closes,
        )


@dataclasses.dataclass(slots=True)
class ActivityRun(Generic[R, E]):
    """Everything one in-process attempt of an activity did."""

    attempt: int
    """The attempt number Temporal would have given it."""
    result: Result[R, E] | None
    """The Result the workflow would see, or ``None`` when the attempt raised."""
    exception: BaseException | None
    """The exception that escaped the attempt (Temporal would retry it), if any."""
    heartbeats: list[Heartbeat]
    """Every heartbeat sent, in order (unthrottled in the harness)."""
    logs: list[logging.LogRecord]
    """Records logged through ``ctx.logger`` and fnact's loggers."""
    state: StateCounts
    """Run-state builds, refreshes, releases and handler closes during the attempt."""
    files: dict[str, bytes]
    """Files written or changed under the run's output path, by relative path."""
    output_path: Path | None
    """The run's output folder (``None`` when the output root is on object storage)."""
    cancelled: bool = False
    """Whether the attempt ended by cancellation."""
    writes: list[str] = dataclasses.field(default_factory=list)
    """Every ``write_output`` that completed, in order (paths under the output path)."""
    handed_over: Heartbeat | None = None
    """The heartbeat Temporal would hand the next attempt: the last one sent, or, after a
    rehearsed kill, the last one that reached the server under the throttle."""

    @property
    def checkpoints(self) -> list[Any]:
        """The checkpoints recorded, in order (one per change)."""
        seen: list[Any] = []
        for beat in self.heartbeats:
            if beat.checkpoint is not None and (not seen or seen[-1] is not beat.checkpoint):
                seen.append(beat.checkpoint)
        return seen

    @property
    def progress(self) -> list[float]:
        """The progress values reported, in order (one per change)."""
        seen: list[float] = []
        for beat in self.heartbeats:
            if beat.progress is not None and (not seen or seen[-1] != beat.progress):
                seen.append(beat.progress)
        return seen

    @property
    def log_fields(self) -> list[dict[str, Any]]:
        """The structured fields of each log record (message under ``"message"``)."""
        return [{"message": r.getMessage(), **getattr(r, "fields", {})} for r in self.logs]

    def unwrap(self) -> Result[R, E]:
        """Return the Result, re-raising the attempt's exception if it had one."""
        if self.exception is not None:
            raise self.exception
        assert self.result is not None
        return self.result
