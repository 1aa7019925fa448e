"""Sync bodies in executor threads: context copied, cancellation raised in the thread.

Also what a sync body calls from its thread: heartbeats and checkpoints handed to the
event loop, and ``ctx.run_on_loop``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator

import msgspec
import pytest
import temporalio.activity
import temporalio.exceptions
import temporalio.testing
from temporalio.exceptions import ApplicationError

import fnact
from fnact._heartbeat import Heartbeat, Heartbeater
from fnact._threads import ThreadCancel, run_in_thread

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


@pytest.fixture
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    """A small thread pool, shut down after the test."""
    with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="test-pool") as pool:
        yield pool


async def test_the_function_runs_in_the_executor_with_the_callers_context(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """The thread is the executor's and sees the context variables of the awaiting task."""
    marker.set("from the task")

    def read(prefix: str, *, suffix: str) -> str:
        return f"{prefix}{marker.get()}{suffix} in {threading.current_thread().name}"

    value = await run_in_thread(executor, read, ("seen ",), {"suffix": "!"})
    assert value.startswith("seen from the task! in test-pool")


async def test_cancelling_the_task_raises_in_the_thread_and_waits_for_it(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """The thread gets Temporal's CancelledError; the task raises only once the thread ended."""
    started = threading.Event()
    seen: list[str] = []

    def nap() -> None:
        started.set()
        try:
            while True:
                time.sleep(0.01)
        except temporalio.exceptions.CancelledError:
            time.sleep(0.2)  # cleanup the task must wait for
            seen.append("cleaned up")
            raise

    task = asyncio.ensure_future(run_in_thread(executor, nap, (), {}))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cleaned up"]


async def test_a_body_cancelled_before_its_thread_starts_never_runs() -> None:
    """Cancelled while queued behind a busy thread, the body is dropped, not started later."""
    with concurrent.futures.ThreadPoolExecutor(1) as single:
        busy = threading.Event()
        single.submit(busy.wait, 5)
        ran: list[bool] = []
        task = asyncio.ensure_future(run_in_thread(single, lambda: ran.append(True), (), {}))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.05)  # the cancellation is handled while the body is queued
        busy.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.to_thread(single.submit(lambda: None).result, 5)
    assert ran == []


async def test_a_cancellation_never_lands_in_a_later_body(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """Cancellations racing short bodies leave the executor's threads clean for later ones."""
    for n in range(100):
        task = asyncio.ensure_future(run_in_thread(executor, time.sleep, (0.001 * (n % 3),), {}))
        await asyncio.sleep(0.0005 * (n % 4))
        task.cancel()  # before, during or after the body: each must be clean
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for _ in range(4):
        assert await run_in_thread(executor, lambda: (time.sleep(0.02), "clean")[1], (), {})


def test_a_cancel_request_is_raised_in_the_thread_once() -> None:
    """A second request does not raise again in a body that caught the first."""
    cancel = ThreadCancel()
    entered = threading.Event()
    caught: list[str] = []

    def body() -> None:
        cancel.enter()
        try:
            entered.set()
            for _ in range(2):
                try:
                    deadline = time.monotonic() + 0.5
                    while time.monotonic() < deadline:
                        time.sleep(0.005)
                    caught.append("no exception")
                except temporalio.exceptions.CancelledError:
                    caught.append("cancelled")
        finally:
            cancel.leave()

    thread = threading.Thread(target=body)
    thread.start()
    entered.wait(5)
    cancel.request()
    cancel.request()
    thread.join(5)
    assert caught == ["cancelled", "no exception"]
    assert cancel.requested


class Point(msgspec.Struct):
    """A checkpoint."""

    i: int


async def test_heartbeats_and_checkpoints_from_a_thread_are_sent_by_the_loop(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """A thread's progress and checkpoint reach the sink on the loop's thread, in order."""
    sent: list[tuple[Heartbeat, int]] = []
    heartbeater = Heartbeater(
        interval=0.0, sink=lambda beat: sent.append((beat, threading.get_ident()))
    )
    ctx = fnact.ActivityContext(heartbeat=heartbeater)

    def body() -> int:
        ctx.heartbeat(progress=1)
        ctx.checkpoint(Point(2), progress=2)
        return len(sent)  # the checkpoint is recorded (and sent) when checkpoint() returns

    assert await run_in_thread(executor, body, (), {}) == 2
    assert [(beat.progress, beat.checkpoint) for beat, _ in sent] == [(1, None), (2, Point(2))]
    assert {thread for _, thread in sent} == {threading.get_ident()}


async def test_a_checkpoint_too_large_raises_in_the_thread(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """The size check runs in the calling thread: the body can catch the error itself."""
    heartbeater = Heartbeater(interval=0.0, sink=lambda beat: None, payload_limit=1000)
    ctx = fnact.ActivityContext(heartbeat=heartbeater)

    def body() -> str:
        try:
            ctx.checkpoint({"pad": "x" * 5000})
        except ApplicationError as exc:
            return f"{exc.type} in {threading.current_thread().name}"
        return "accepted"

    assert await run_in_thread(executor, body, (), {}) == "PayloadTooLarge in test-pool_0"


async def test_what_recording_a_checkpoint_raises_on_the_loop_is_raised_in_the_thread(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """A sink that raises while the loop records a thread's checkpoint raises in that thread."""

    def refuse(beat: Heartbeat) -> None:
        raise RuntimeError("sink refused")

    ctx = fnact.ActivityContext(heartbeat=Heartbeater(interval=0.0, sink=refuse))

    def body() -> None:
        ctx.checkpoint(Point(1))

    with pytest.raises(RuntimeError, match="sink refused"):
        await run_in_thread(executor, body, (), {})


async def test_run_on_loop_awaits_on_the_workers_loop_from_the_thread(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """ctx.run_on_loop runs a coroutine on the loop the adapter gave the context."""
    ctx = fnact.ActivityContext()
    ctx._loop = asyncio.get_running_loop()

    async def where() -> int:
        await asyncio.sleep(0)
        return threading.get_ident()

    assert await run_in_thread(executor, lambda: ctx.run_on_loop(where()), (), {}) == (
        threading.get_ident()
    )


async def test_run_on_loop_refuses_to_block_a_running_loop() -> None:
    """Called on the loop's own thread, run_on_loop raises instead of blocking the loop."""

    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="await the awaitable instead"):
        fnact.ActivityContext().run_on_loop(nothing())


def test_run_on_loop_outside_a_worker_runs_the_awaitable_itself() -> None:
    """In a sync unit test, with no loop anywhere, run_on_loop runs the coroutine to its end."""

    async def answer() -> int:
        return 42

    assert fnact.ActivityContext().run_on_loop(answer()) == 42


async def test_temporals_own_heartbeat_in_the_thread_is_sent_on_the_loop(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """temporalio.activity.heartbeat() called in the thread is handed to the event loop."""
    env = temporalio.testing.ActivityEnvironment()
    seen: list[tuple[tuple[object, ...], int]] = []
    env.on_heartbeat = lambda *details: seen.append((details, threading.get_ident()))

    async def adapter() -> None:
        await run_in_thread(executor, temporalio.activity.heartbeat, ("raw", 1), {})

    await env.run(adapter)
    assert seen == [(("raw", 1), threading.get_ident())]


async def test_a_shielded_block_finishes_before_the_cancellation_is_raised(
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """In shield_thread_cancel_exception, the thread's cancellation waits for the block's end."""
    env = temporalio.testing.ActivityEnvironment()
    entered = threading.Event()
    steps: list[str] = []

    def body() -> None:
        try:
            with temporalio.activity.shield_thread_cancel_exception():
                entered.set()
                temporalio.activity.wait_for_cancelled_sync(5)
                for _ in range(20):  # unshielded, the cancellation would land in here
                    time.sleep(0.005)
                steps.append("block finished")
        except temporalio.exceptions.CancelledError:
            steps.append("cancelled after the block")
            raise

    async def adapter() -> None:
        await run_in_thread(executor, body, (), {})

    task = asyncio.ensure_future(env.run(adapter))
    await asyncio.to_thread(entered.wait, 5)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["block finished", "cancelled after the block"]
