"""`ConcurrencyLimit`: at most N holders, the rest waiting in order, cancellable, beating."""

from __future__ import annotations

import asyncio
import threading

import pytest

from fnact._concurrency import ConcurrencyLimit


async def settle() -> None:
    """Let every ready callback and task of the loop run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_limit_admits_n_and_then_one_per_release_in_order_of_arrival() -> None:
    """Two of five acquire at once; each release admits the oldest waiter."""
    limit = ConcurrencyLimit(2)
    admitted: list[int] = []

    async def take(n: int) -> None:
        await limit.acquire()
        admitted.append(n)

    tasks = [asyncio.ensure_future(take(n)) for n in range(5)]
    await settle()
    assert (admitted, limit.running, limit.waiting) == ([0, 1], 2, 3)
    limit.release()
    await settle()
    assert admitted == [0, 1, 2]
    limit.release()
    limit.release()
    await settle()
    assert admitted == [0, 1, 2, 3, 4]
    assert (limit.running, limit.waiting) == (2, 0)
    await asyncio.gather(*tasks)


async def test_a_waiter_cancelled_takes_no_slot() -> None:
    """A cancelled waiter leaves the queue; the slot goes free when its holder releases it."""
    limit = ConcurrencyLimit(1)
    await limit.acquire()
    waiter = asyncio.ensure_future(limit.acquire())
    await settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limit.waiting == 0
    limit.release()
    assert limit.running == 0
    await asyncio.wait_for(limit.acquire(), timeout=1)
    assert limit.running == 1


async def test_a_slot_handed_to_a_waiter_being_cancelled_passes_to_the_next() -> None:
    """Released to a waiter that is cancelled before it runs, the slot goes to the next one."""
    limit = ConcurrencyLimit(1)
    await limit.acquire()
    first = asyncio.ensure_future(limit.acquire())
    second = asyncio.ensure_future(limit.acquire())
    await settle()
    limit.release()  # handed to `first`...
    first.cancel()  # ...which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, timeout=1)
    assert (limit.running, limit.waiting) == (1, 0)


async def test_a_waiting_acquire_beats_every_interval_until_it_holds_a_slot() -> None:
    """With ``beat``, a waiter calls it every interval while it waits, and not once it holds."""
    limit = ConcurrencyLimit(1)
    await limit.acquire()
    beats: list[float] = []
    loop = asyncio.get_running_loop()
    waiter = asyncio.ensure_future(limit.acquire(lambda: beats.append(loop.time()), 0.02))
    await asyncio.sleep(0.2)
    assert len(beats) >= 3
    limit.release()
    await asyncio.wait_for(waiter, timeout=1)
    counted = len(beats)
    await asyncio.sleep(0.1)
    assert len(beats) == counted
    assert limit.running == 1


async def test_a_beating_waiter_cancelled_takes_no_slot() -> None:
    """Cancelled while it beats, a waiter leaves the queue and holds nothing."""
    limit = ConcurrencyLimit(1)
    await limit.acquire()
    waiter = asyncio.ensure_future(limit.acquire(lambda: None, 0.01))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limit.release()
    assert (limit.running, limit.waiting) == (0, 0)


async def test_the_limit_is_shared_by_event_loops_in_other_threads() -> None:
    """A slot held by another thread's loop is handed to this loop's waiter when released."""
    limit = ConcurrencyLimit(1)
    held = threading.Event()
    release = threading.Event()

    def other_loop() -> None:
        async def hold() -> None:
            await limit.acquire()
            held.set()
            await asyncio.to_thread(release.wait)
            limit.release()

        asyncio.run(hold())

    thread = threading.Thread(target=other_loop)
    thread.start()
    await asyncio.to_thread(held.wait, 5)
    waiter = asyncio.ensure_future(limit.acquire())
    await settle()
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(waiter, timeout=5)
    await asyncio.to_thread(thread.join, 5)
    assert limit.running == 1


def test_the_limit_must_be_positive() -> None:
    """A limit below one is refused."""
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrencyLimit(0)
