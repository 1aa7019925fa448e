"""Crash rehearsal: an attempt dies at a chosen point; the retry starts as Temporal starts it.

`Crash` says where the first attempt dies (after its k-th checkpoint, or after its
n-th output file) and how (an exception, a cancellation, a worker shutdown, or a
kill that sends no final heartbeat). `ActivityHarness.rehearse_crash` runs that
attempt, works out the heartbeat the server holds at that moment, runs the next
attempt from it and returns a `CrashRehearsal`: both attempts, what was handed
over, and every output write, so a test can assert that outputs were written once
and whole and what the handler recorded.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import temporalio.testing

from fnact._heartbeat import Heartbeat, send_interval
from fnact.testing._capture import read_files
from fnact.testing._run import ActivityRun

__all__ = ["Crash", "CrashRehearsal", "RehearsedCrash"]

R = TypeVar("R")
E = TypeVar("E")

How = Literal["exception", "cancellation", "worker_shutdown", "kill"]
_HOWS = ("exception", "cancellation", "worker_shutdown", "kill")

# Temporal's worker sends a heartbeat to the server at most this often: fnact's workers
# cap max_heartbeat_throttle_interval (and the default) at 1 s, and the SDK at 0.8 x the
# heartbeat timeout when that is shorter.
_WORKER_THROTTLE = 1.0


class RehearsedCrash(RuntimeError):
    """What the first attempt raises where a `Crash` with ``how="exception"`` strikes."""


class Killed(BaseException):
    """Stops an attempt where a `Crash` with ``how="kill"`` strikes; nothing after it counts."""


@dataclasses.dataclass(frozen=True, slots=True)
class Crash:
    """Where and how the first attempt of a rehearsal dies.

    Give exactly one of ``after_checkpoint`` and ``after_output``.

    Args:
        after_checkpoint: die right after the attempt records its k-th checkpoint (1-based).
        after_output: die right after the attempt's n-th ``write_output`` completes (1-based).
        how: ``"exception"`` (the call raises `RehearsedCrash`), ``"cancellation"``
            (Temporal cancels the activity), ``"worker_shutdown"`` (the worker shuts down)
            or ``"kill"`` (the process dies: no final heartbeat is sent, so the retry
            resumes from the last checkpoint that reached the server under the throttle).
    """

    after_checkpoint: int | None = None
    after_output: int | None = None
    how: How = "kill"

    def __post_init__(self) -> None:
        given = [n for n in (self.after_checkpoint, self.after_output) if n is not None]
        if len(given) != 1:
            raise ValueError("Crash: give exactly one of after_checkpoint and after_output")
        if given[0] < 1:
            raise ValueError(f"Crash: the crash point counts from 1, not {given[0]}")
        if self.how not in _HOWS:
            raise ValueError(f"Crash: how must be one of {', '.join(_HOWS)}, not {self.how!r}")

    def describe(self) -> str:
        """Return where the crash strikes, in words."""
        if self.after_checkpoint is not None:
            return f"after checkpoint {self.after_checkpoint}"
        return f"after output {self.after_output}"


def throttle_interval(
    heartbeat_timeout: timedelta | None, fnact_interval: timedelta | None
) -> float:
    """Return how often, at most, a heartbeat of the attempt reaches the server (seconds).

    fnact's heartbeater sends at most every ``fnact_interval`` (a third of the heartbeat
    timeout by default), and Temporal's worker passes one on at most every second.
    """
    own = (
        fnact_interval.total_seconds()
        if fnact_interval is not None
        else send_interval(heartbeat_timeout)
    )
    worker = _WORKER_THROTTLE
    if heartbeat_timeout is not None:
        worker = min(worker, 0.8 * heartbeat_timeout.total_seconds())
    return max(own, worker)


def reached_server(
    beats: list[tuple[float, Heartbeat]], died_at: float, throttle: float
) -> Heartbeat | None:
    """Return the last heartbeat the server holds when the process dies at ``died_at``.

    The first beat goes out at once; a later one goes out when ``throttle`` seconds
    have passed since the last that went out, or else waits, replaced by any newer
    one, until they have, and is lost if the process dies first.
    """
    sent: Heartbeat | None = None
    sent_at = float("-inf")
    waiting: Heartbeat | None = None
    for at, beat in beats:
        if at > died_at:
            break
        if waiting is not None and sent_at + throttle <= at:
            sent, sent_at, waiting = waiting, sent_at + throttle, None
        if at - sent_at >= throttle:
            sent, sent_at = beat, at
        else:
            waiting = beat
    if waiting is not None and sent_at + throttle <= died_at:
        sent = waiting
    return sent


@dataclasses.dataclass(frozen=True, slots=True)
class CrashRehearsal(Generic[R, E]):
    """The two attempts of a crash rehearsal and their combined effects."""

    crash: Crash
    crashed: Any
    """The first attempt (an `ActivityRun`), which died at the crash point."""
    retry: Any
    """The second attempt (an `ActivityRun`), started from what Temporal would hand over."""
    handed_over: Heartbeat | None
    """The heartbeat the retry started from (``None``: none reached the server)."""
    writes: list[tuple[int, str]]
    """Every completed ``write_output``: (attempt, path under the output path), in order."""
    outputs: dict[str, bytes]
    """The files under the run's output path after both attempts, by relative path."""

    @property
    def resumed_from(self) -> Any:
        """The checkpoint the retry resumed from, or ``None`` when it started afresh."""
        return None if self.handed_over is None else self.handed_over.checkpoint

    @property
    def written_more_than_once(self) -> dict[str, int]:
        """Output paths written more than once across both attempts, with their counts."""
        counts = Counter(path for _, path in self.writes)
        return {path: n for path, n in sorted(counts.items()) if n > 1}

    @property
    def leftover_parts(self) -> list[str]:
        """Temporary ``.part`` files left under the output path (a partial write's traces)."""
        return sorted(p for p in self.outputs if p.endswith(".part"))


async def rehearse(
    run_attempt: Callable[..., Awaitable[ActivityRun[R, E]]],
    output_path: Path | None,
    crash: Crash,
    **options: Any,
) -> CrashRehearsal[R, E]:
    """Run an attempt that dies at ``crash``, then the retry Temporal would start."""
    first = await run_attempt(attempt=1, crash=crash, **options)
    details = [first.handed_over] if first.handed_over is not None else []
    retry = await run_attempt(attempt=2, heartbeat_details=details, **options)
    writes = [(1, path) for path in first.writes] + [(2, path) for path in retry.writes]
    return CrashRehearsal(crash, first, retry, first.handed_over, writes, read_files(output_path))


class CrashPoint:
    """Counts an attempt's checkpoints and outputs, and strikes where its `Crash` says."""

    def __init__(self, crash: Crash | None, env: temporalio.testing.ActivityEnvironment) -> None:
        self.crash = crash
        self.env = env
        self.checkpoints = 0
        self.outputs = 0
        self.died_at: float | None = None

    @property
    def killed_at(self) -> float | None:
        """When (`time.monotonic`) a kill struck the attempt, or ``None`` if none did."""
        if self.crash is None or self.crash.how != "kill":
            return None
        return self.died_at

    def checkpointed(self) -> None:
        """Count a new checkpoint, and strike if the crash comes after it."""
        self.checkpoints += 1
        if self.crash is not None and self.crash.after_checkpoint == self.checkpoints:
            self.strike()

    def wrote(self) -> None:
        """Count a completed output, and strike if the crash comes after it."""
        self.outputs += 1
        if self.crash is not None and self.crash.after_output == self.outputs:
            self.strike()

    def strike(self) -> None:
        """Make the attempt die the way the crash says, once."""
        assert self.crash is not None
        if self.died_at is not None:
            return
        self.died_at = time.monotonic()
        how = self.crash.how
        if how == "exception":
            raise RehearsedCrash(f"rehearsed crash {self.crash.describe()}")
        if how == "kill":
            raise Killed
        if how == "worker_shutdown":
            self.env.worker_shutdown()
        self.env.cancel()  # delivered at the body's next await, as Temporal's is

    def check_reached(self) -> None:
        """Raise `ValueError` when the attempt ended before its crash struck.

        Raises:
            ValueError: the attempt ended before reaching the crash point.
        """
        if self.crash is not None and self.died_at is None:
            raise ValueError(
                f"ActivityHarness: the attempt ended before the crash point "
                f"({self.crash.describe()}): it recorded {self.checkpoints} checkpoint(s) "
                f"and wrote {self.outputs} output(s)"
            )
