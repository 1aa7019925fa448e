"""``@fnact.activity(max_concurrent=N)``: at most N executions of an activity at once per process.

A `ConcurrencyLimit` belongs to one activity definition and counts its running
attempts across every worker and event loop of the process. An attempt over the
limit waits its turn in the adapter, first come first served, before anything else
of the attempt runs (its input is decoded, its dependencies resolved and its run
state built once it has a slot). A waiting attempt keeps what
Temporal gave it: a slot of the worker's ``max_concurrent_activities``, and its
start-to-close and schedule-to-close timers, which keep running. With a heartbeat
timeout it heartbeats while it waits (resending the heartbeat details it started
with, so the checkpoint a retry resumes from is kept), and learns of cancellation.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable

__all__ = ["ConcurrencyLimit"]

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class ConcurrencyLimit:
    """At most ``limit`` holders at once, process-wide; the others wait in order of arrival.

    Thread-safe and usable from several event loops: a released slot is handed to
    the oldest waiter on that waiter's loop.

    Args:
        limit: the most holders at once (at least 1).
    """

    __slots__ = ("_lock", "_running", "_waiters", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"ConcurrencyLimit: limit must be at least 1, not {limit}")
        self.limit: int = limit
        self._lock = threading.Lock()
        self._running = 0
        self._waiters: collections.deque[_Waiter] = collections.deque()

    @property
    def running(self) -> int:
        """How many hold a slot now."""
        return self._running

    @property
    def waiting(self) -> int:
        """How many wait for a slot now."""
        return len(self._waiters)

    async def acquire(
        self, beat: Callable[[], object] | None = None, interval: float = 1.0
    ) -> None:
        """Take a slot, waiting for one if all are held; call ``beat`` every ``interval`` meanwhile.

        Raises:
            asyncio.CancelledError: the task was cancelled while waiting; it holds no slot.
        """
        with self._lock:
            if self._running < self.limit and not self._waiters:
                self._running += 1
                return
            loop = asyncio.get_running_loop()
            waiter: _Waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        future = waiter[1]
        try:
            if beat is None:
                await future
            else:
                while not (await asyncio.wait((future,), timeout=interval))[0]:
                    beat()
                future.result()
        except BaseException:
            future.cancel()
            with self._lock:
                if waiter in self._waiters:  # still waiting: nothing was handed over
                    self._waiters.remove(waiter)
                    raise
            if future.done() and not future.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            # Otherwise the slot's hand-over sees the cancelled future and passes it on.
            raise

    def release(self) -> None:
        """Give a slot back: to the oldest waiter, or free."""
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._hand_over, future)
                except RuntimeError:  # its loop is closed: it waits no more
                    continue
                return  # the slot stays taken, by the waiter
            self._running -= 1

    def _hand_over(self, future: asyncio.Future[None]) -> None:
        if future.cancelled():
            self.release()
        else:
            future.set_result(None)
