"""The in-memory run state store: keys, build once, TTL, release, bounds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

import fnact
import fnact.state
import fnact.testing
from fnact.exceptions import StateError


@dataclass
class Handle:
    serial: int
    closed: int = 0

    async def aclose(self) -> None:
        self.closed += 1


class Builder:
    """Builds numbered handlers, optionally slowly or failing."""

    def __init__(self, delay: float = 0.0) -> None:
        self.built: list[Handle] = []
        self.delay = delay
        self.fail = False

    async def __call__(self) -> tuple[Any, Any]:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("credentials expired")
        handle = Handle(len(self.built) + 1)
        self.built.append(handle)
        return handle, {"serial": handle.serial}


KEY = fnact.state.RunKey("wf", "run-1")


@pytest.fixture
def clock() -> fnact.testing.FakeClock:
    return fnact.testing.FakeClock()


@pytest.fixture
def store(clock: fnact.testing.FakeClock) -> fnact.state.InMemoryStateStore:
    return fnact.state.InMemoryStateStore(clock=clock)


async def test_state_is_keyed_by_workflow_and_run(store: fnact.state.InMemoryStateStore) -> None:
    """Two runs of one workflow id get separate states."""
    build = Builder()
    first = await store.get(fnact.state.RunKey("wf", "run-1"), build)
    second = await store.get(fnact.state.RunKey("wf", "run-2"), build)
    again = await store.get(fnact.state.RunKey("wf", "run-1"), build)
    assert first.handler is again.handler
    assert first.handler is not second.handler
    assert store.stats.builds == 2


async def test_concurrent_first_use_builds_once(store: fnact.state.InMemoryStateStore) -> None:
    """Twenty concurrent activities of one run that find no state cause one build."""
    build = Builder(delay=0.01)
    states = await asyncio.gather(*(store.get(KEY, build) for _ in range(20)))
    assert len(build.built) == 1
    assert {id(s.handler) for s in states} == {id(build.built[0])}


async def test_failed_build_fails_every_waiter_then_can_succeed(
    store: fnact.state.InMemoryStateStore,
) -> None:
    """A failed build raises StateError for all waiters; the next attempt builds afresh."""
    build = Builder(delay=0.01)
    build.fail = True
    results = await asyncio.gather(
        *(store.get(KEY, build) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, StateError) for r in results)
    assert "credentials expired" in str(results[0])
    build.fail = False
    assert (await store.get(KEY, build)).handler.serial == 1


async def test_cancelled_builder_lets_a_waiter_build(store: fnact.state.InMemoryStateStore) -> None:
    """If the task building a state is cancelled, a waiting task builds it instead."""
    build = Builder(delay=0.05)
    first = asyncio.create_task(store.get(KEY, build))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(store.get(KEY, build))
    await asyncio.sleep(0.01)
    first.cancel()
    state = await second
    assert state.handler.serial == 1
    assert first.cancelled()


@pytest.mark.parametrize(
    ("age", "rebuilt"),
    [
        (timedelta(minutes=14, seconds=59), False),
        (timedelta(minutes=15), True),
        (timedelta(minutes=15, seconds=1), True),
    ],
)
async def test_state_older_than_ttl_is_rebuilt(
    store: fnact.state.InMemoryStateStore,
    clock: fnact.testing.FakeClock,
    age: timedelta,
    rebuilt: bool,
) -> None:
    """State is reused at 14:59 and rebuilt at 15:00 and 15:01; the old handler is closed."""
    build = Builder()
    old = await store.get(KEY, build)
    clock.advance(age)
    new = await store.get(KEY, build)
    assert (new.handler is not old.handler) is rebuilt
    assert old.handler.closed == (1 if rebuilt else 0)
    assert store.stats.refreshes == (1 if rebuilt else 0)


async def test_failed_refresh_never_hands_out_stale_state(
    store: fnact.state.InMemoryStateStore, clock: fnact.testing.FakeClock
) -> None:
    """When rebuilding stale state fails, the activity gets StateError, not the stale state."""
    build = Builder()
    old = await store.get(KEY, build)
    clock.advance(timedelta(minutes=16))
    build.fail = True
    with pytest.raises(StateError):
        await store.get(KEY, build)
    assert old.handler.closed == 1
    assert len(store) == 0


async def test_release_closes_the_handler_once(store: fnact.state.InMemoryStateStore) -> None:
    """Releasing twice closes once and counts one release."""
    build = Builder()
    state = await store.get(KEY, build)
    assert await store.release(KEY) is True
    assert await store.release(KEY) is False
    assert state.handler.closed == 1
    assert (store.stats.releases, store.stats.closes) == (1, 1)


async def test_handler_in_use_is_closed_when_its_last_lease_ends(
    store: fnact.state.InMemoryStateStore,
) -> None:
    """A released handler is closed only after the activities holding it finish."""
    build = Builder()
    async with store.lease(KEY, build) as state:
        await store.release(KEY)
        assert state.handler.closed == 0
    assert state.handler.closed == 1


async def test_store_is_bounded_least_recently_used_first(clock: fnact.testing.FakeClock) -> None:
    """Past max_runs, the least recently used run's state is dropped and closed."""
    store = fnact.state.InMemoryStateStore(clock=clock, max_runs=2)
    build = Builder()
    a = await store.get(fnact.state.RunKey("a", "1"), build)
    await store.get(fnact.state.RunKey("b", "1"), build)
    await store.get(fnact.state.RunKey("a", "1"), build)  # a is now the most recent
    await store.get(fnact.state.RunKey("c", "1"), build)
    assert len(store) == 2
    assert [h.closed for h in build.built] == [0, 1, 0]
    assert a.handler.closed == 0
    assert store.stats.evictions == 1


async def test_idle_states_expire_on_sweep(clock: fnact.testing.FakeClock) -> None:
    """States unused for idle_expiry are dropped by sweep and their handlers closed."""
    store = fnact.state.InMemoryStateStore(clock=clock, idle_expiry=timedelta(minutes=5))
    build = Builder()
    await store.get(fnact.state.RunKey("a", "1"), build)
    clock.advance(timedelta(minutes=3))
    await store.get(fnact.state.RunKey("b", "1"), build)
    clock.advance(timedelta(minutes=2))
    assert await store.sweep() == 1
    assert [h.closed for h in build.built] == [1, 0]
    clock.advance(timedelta(minutes=3))
    assert await store.sweep() == 1
    assert len(store) == 0


async def test_five_thousand_short_runs_leave_nothing_behind(
    store: fnact.state.InMemoryStateStore,
) -> None:
    """5,000 runs that each end with a release leave 0 entries and close 5,000 handlers."""
    build = Builder()
    for n in range(5000):
        key = fnact.state.RunKey(f"wf-{n}", "run")
        async with store.lease(key, build):
            pass
        await store.release(key)
    assert len(store) == 0
    assert store.stats.closes == 5000
    assert all(h.closed == 1 for h in build.built)


async def test_close_errors_are_counted_not_raised(store: fnact.state.InMemoryStateStore) -> None:
    """A handler whose close fails does not break the release; the error is counted."""

    class Broken:
        def close(self) -> None:
            raise OSError("socket already gone")

    async def build() -> tuple[Any, Any]:
        return Broken(), None

    await store.get(KEY, build)
    assert await store.release(KEY) is True
    assert store.stats.close_errors == 1


def test_invalid_bounds_are_rejected(clock: fnact.testing.FakeClock) -> None:
    """Non-positive TTL, idle expiry or max_runs are rejected with the field's name."""
    with pytest.raises(ValueError, match="ttl"):
        fnact.state.InMemoryStateStore(clock=clock, ttl=timedelta(0))
    with pytest.raises(ValueError, match="max_runs"):
        fnact.state.InMemoryStateStore(clock=clock, max_runs=0)


async def test_ten_thousand_live_runs_memory_is_reported(
    clock: fnact.testing.FakeClock, record_property: Any
) -> None:
    """The store's own memory for 10,000 live runs is measured and stays a few hundred KB/MB."""
    import tracemalloc

    store = fnact.state.InMemoryStateStore(clock=clock, max_runs=10_000)
    keys = [fnact.state.RunKey(f"wf-{n}", "run") for n in range(10_000)]

    async def build() -> tuple[Any, Any]:
        return None, None

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for key in keys:
        await store.get(key, build)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    record_property("state_store_bytes_10k_runs", grown)
    print(f"state store: 10,000 live runs use {grown / 1024:.0f} KiB ({grown / 10_000:.0f} B/run)")
    assert len(store) == 10_000
    assert grown / 10_000 < 2048, "bookkeeping per run should stay well under 2 KiB"
