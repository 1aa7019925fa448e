"""Notice when a worker's event loop stops running, and say which activity stopped it.

A blocking call in an ``async def`` activity (``time.sleep``, a synchronous
database driver, a CPU-bound loop) holds the event loop: no other activity on it
runs, heartbeats stop, and Temporal times the activities out. `LoopWatchdog`
runs a thread that notices when the loop has not run for longer than
`Settings.blocked_loop_threshold`, and logs one warning per stall naming the
activities running on that loop and the loop thread's stack at that moment, down
to the file and line of the blocking call.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from datetime import timedelta
from types import FrameType
from typing import Any

import temporalio.activity

from fnact._adapter import BODY_STEP_CODE, attempt_in_body_step
from fnact._metrics import LoopMetrics

__all__ = ["LoopWatchdog", "running_on"]

logger = logging.getLogger("fnact.watchdog")


def _attempt_in(frame: FrameType | None) -> tuple[str, temporalio.activity.Info | None] | None:
    # The activity whose body this frame runs in: the adapter's body step holds both.
    while frame is not None:
        if frame.f_code is BODY_STEP_CODE:
            return attempt_in_body_step(frame)
        frame = frame.f_back
    return None


def _suspended_attempt(coro: Any) -> tuple[str, temporalio.activity.Info | None] | None:
    # Follow what each coroutine awaits down to the adapter's step, if there is one.
    while coro is not None:
        code = getattr(coro, "cr_code", None)
        if code is BODY_STEP_CODE:
            return _attempt_in(coro.cr_frame)
        coro = getattr(coro, "cr_await", None)
    return None


def running_on(
    loop: asyncio.AbstractEventLoop, blocked: FrameType | None
) -> list[tuple[str, temporalio.activity.Info | None]]:
    """Return the activity attempts on ``loop``: the one running ``blocked`` first, then the rest.

    Called from another thread while the loop is held: its tasks are not moving.
    """
    found: list[tuple[str, temporalio.activity.Info | None]] = []
    current = _attempt_in(blocked)
    if current is not None:
        found.append(current)
    try:
        tasks = asyncio.all_tasks(loop)
    except RuntimeError:  # the set changed while it was read: report what is known
        return found
    for task in tasks:
        attempt = _suspended_attempt(task.get_coro())
        if attempt is not None and attempt not in found:
            found.append(attempt)
    return found


class LoopWatchdog:
    """A thread that warns when the event loop it watches has not run for ``threshold`` s.

    Start it from the loop's own thread (`start`), stop it with `stop`. The loop
    records a tick every ``threshold / 4`` seconds; the thread checks as often.
    With ``metrics``, each tick records how late it ran (the loop's lag), and
    each stall is counted.
    """

    def __init__(self, threshold: float, metrics: LoopMetrics | None = None) -> None:
        if threshold <= 0:
            raise ValueError(f"blocked-loop threshold must be positive, not {threshold}")
        self.threshold = threshold
        self.metrics = metrics
        """Where each tick's lag and each stall are recorded, if anywhere."""
        self.stalls = 0
        """How many stalls this watchdog has reported."""
        self._interval = threshold / 4
        self._last_tick = time.monotonic()
        self._due = self._last_tick
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Watch the running event loop (call this from it)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._tick()
        self._thread = threading.Thread(target=self._watch, name="fnact-loop-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; the thread ends within one check interval."""
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(self._interval * 2 + 1)

    def _tick(self) -> None:
        now = time.monotonic()
        self._last_tick = now
        if self.metrics is not None:
            self.metrics.lag.record(timedelta(seconds=max(now - self._due, 0.0)))
        self._due = now + self._interval
        assert self._loop is not None
        self._handle = self._loop.call_later(self._interval, self._tick)

    def _watch(self) -> None:
        reported_tick = 0.0
        while not self._stop.wait(self._interval):
            tick = self._last_tick
            stalled = time.monotonic() - tick
            if stalled > self.threshold and tick != reported_tick:
                reported_tick = tick  # one warning per stall
                self.stalls += 1
                if self.metrics is not None:
                    self.metrics.blocked.add(1)
                self._report(stalled)

    def _report(self, stalled: float) -> None:
        frame = sys._current_frames().get(self._loop_thread)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "(not found)\n"
        assert self._loop is not None
        attempts = running_on(self._loop, frame)
        described = [
            {
                "activity_type": name,
                "activity_id": info.activity_id if info else None,
                "workflow_id": info.workflow_id if info else None,
            }
            for name, info in attempts
        ]
        activities = "; ".join(
            f"{a['activity_type']} (activity id {a['activity_id']}, workflow id {a['workflow_id']})"
            for a in described
        )
        logger.warning(
            "the event loop has not run for %.1f s (threshold %.1f s): a blocking call holds "
            "it, and every activity on it is stalled. Activities running on it, the one "
            "holding it first: %s. The loop thread's stack, innermost call last:\n%s",
            stalled,
            self.threshold,
            activities or "none",
            stack.rstrip("\n"),
            extra={"fields": {"stalled_seconds": round(stalled, 3), "activities": described}},
        )
