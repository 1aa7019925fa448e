"""Sync activities: the body of a plain ``def`` activity on the worker's activity executor.

The adapter Temporal awaits stays an ``async def``; for a sync activity it hands the
body to a `concurrent.futures.ThreadPoolExecutor` with a copy of its context
variables, so ``temporalio.activity.info()``, ``ctx.info``, ``ctx.logger`` and
``fnact.get_workflow_id()`` work in the thread, and awaits the thread's future. The
event loop stays free meanwhile: the auto-heartbeat beats and Temporal's
cancellation arrives.

Cancellation reaches the thread as Temporal delivers it to its own sync activities:
a `temporalio.exceptions.CancelledError` raised in the thread
(``PyThreadState_SetAsyncExc``), at the body's next Python instruction; a call
blocked in C (one long ``time.sleep``, a socket read) returns first. Inside
``temporalio.activity.shield_thread_cancel_exception()`` it waits for the block's end,
as in Temporal's sync activities. The adapter then waits for the thread to finish and
raises `asyncio.CancelledError`, so what follows a cancellation (the last checkpoint
sent, the run's state released or kept, the outcome counted) is the same as for an
``async def``. In the thread, ``temporalio.activity.heartbeat()`` is handed to the
event loop, as ``ctx.heartbeat`` is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import ctypes
import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

import temporalio.activity
import temporalio.exceptions

__all__ = ["ThreadCancel", "run_in_thread"]

CANCELLED_IN_THREAD = temporalio.exceptions.CancelledError
"""What a sync activity's thread raises when Temporal cancels the attempt, as Temporal's own."""


def _raise_in_thread(thread_id: int, exc_type: type[BaseException]) -> None:
    """Make the thread ``thread_id`` raise ``exc_type`` at its next Python instruction."""
    changed = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type)
    )
    if changed > 1:  # never expected: undo rather than hit threads that are not ours
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


class ThreadCancel:
    """Cancels one sync body: before it starts, or by raising in its thread while it runs.

    The thread registers itself with `enter` and leaves with `leave`; `request`
    (from the event loop) raises in the thread only between the two, under a lock,
    so the exception never lands in another body the executor's thread runs later.
    """

    __slots__ = ("_lock", "_pending", "_requested", "_shields", "_thread")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._requested = False
        self._shields = 0
        self._pending = False

    @property
    def requested(self) -> bool:
        """Whether the body was asked to stop."""
        return self._requested

    def enter(self) -> None:
        """Register the running thread; raise at once if the attempt was cancelled already.

        Raises:
            temporalio.exceptions.CancelledError: cancellation came before the thread started.
        """
        with self._lock:
            if self._requested:
                raise CANCELLED_IN_THREAD("Activity cancelled")
            self._thread = threading.get_ident()

    def leave(self) -> None:
        """Unregister the thread: no cancellation is raised in it from now on."""
        with self._lock:
            self._thread = None

    def request(self) -> None:
        """Ask the body to stop: raise in its thread if it runs (once), else stop it starting.

        Inside a `shielded` block, the exception waits for the outermost block's end.
        """
        with self._lock:
            if self._requested:
                return
            self._requested = True
            if self._thread is not None:
                if self._shields:
                    self._pending = True
                else:
                    _raise_in_thread(self._thread, CANCELLED_IN_THREAD)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """Hold a cancellation back until the block ends, then raise it (in the thread).

        What ``temporalio.activity.shield_thread_cancel_exception()`` uses in the thread.

        Raises:
            temporalio.exceptions.CancelledError: cancellation came during the block,
                whatever the block returned or raised.
        """
        with self._lock:
            self._shields += 1
        try:
            yield
        finally:
            with self._lock:
                self._shields -= 1
                fire = self._pending and not self._shields
                if fire:
                    self._pending = False
            if fire:
                raise CANCELLED_IN_THREAD("Activity cancelled")


def _settle() -> None:
    """Run a few instructions, so a cancellation raised just before `leave` lands here."""
    for _ in range(2):
        pass


def _for_this_thread(
    cancel: ThreadCancel, loop: asyncio.AbstractEventLoop, loop_thread: int
) -> None:
    """Give the thread Temporal's activity context with a sync activity's shield and heartbeat.

    It is the adapter's, copied into the thread; Temporal's ``heartbeat`` there must run
    on the loop, and ``shield_thread_cancel_exception`` holds `cancel` back.
    """
    try:
        current = temporalio.activity._Context.current()
    except RuntimeError:  # not in an activity: nothing to adapt
        return
    beat = current.heartbeat

    def heartbeat(*details: Any) -> None:
        if beat is None:
            return
        if threading.get_ident() == loop_thread:  # fnact's heartbeater, sending on the loop
            beat(*details)
        else:
            loop.call_soon_threadsafe(beat, *details)

    temporalio.activity._Context.set(
        dataclasses.replace(
            current, heartbeat=heartbeat, shield_thread_cancel_exception=cancel.shielded
        )
    )


def _call_in_thread(
    fn: Callable[..., Any],
    cancel: ThreadCancel,
    loop: tuple[asyncio.AbstractEventLoop, int],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run ``fn`` in the executor's thread, registered with ``cancel`` while it runs.

    ``loop`` is the event loop awaiting it, and the id of that loop's thread.
    """
    _for_this_thread(cancel, *loop)  # in this thread's copy of the context only
    cancel.enter()
    try:
        return fn(*args, **kwargs)
    finally:
        cancel.leave()
        _settle()  # still inside the work item: its future gets the exception


async def run_in_thread(
    executor: concurrent.futures.Executor,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run sync ``fn(*args, **kwargs)`` in ``executor`` with this task's context; return its value.

    Raises:
        asyncio.CancelledError: the task was cancelled; the thread was told (see
            the module's docstring) and has finished.
    """
    cancel = ThreadCancel()
    context = contextvars.copy_context()
    loop = (asyncio.get_running_loop(), threading.get_ident())
    future = executor.submit(context.run, _call_in_thread, fn, cancel, loop, args, kwargs)
    done = asyncio.wrap_future(future)
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        cancel.request()
        future.cancel()  # succeeds only if the thread has not started: it never will
        await _finished(done)
        raise


async def _finished(done: asyncio.Future[Any]) -> None:
    """Wait until ``done`` completes, whatever cancels this task meanwhile; ignore its outcome."""
    while not done.done():
        try:
            await asyncio.wait((done,))
        except asyncio.CancelledError:
            continue  # the thread still runs: the attempt ends when it does
    if not done.cancelled():
        done.exception()  # retrieved: the cancellation is what the attempt ends with
