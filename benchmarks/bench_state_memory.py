"""``state-memory``: bytes the in-memory state store holds per live run, with 10,000 live runs."""

import tracemalloc

import fnact.state
import fnact.testing
from benchmarks._timing import Target

STATE_MEMORY_GOAL_B = 1024.0


async def bench_state_memory() -> Target:
    """Measure the store's memory per live run with 10,000 runs holding a state.

    The handler and workflow arguments are small objects, so the figure is the
    store's own bookkeeping per run (key, state record, LRU links).

    Returns:
        The ``state-memory`` target, in bytes per live run.
    """
    runs = 10_000
    store = fnact.state.InMemoryStateStore(clock=fnact.testing.FakeClock(), max_runs=runs)
    keys = [fnact.state.RunKey(f"workflow-{n:05d}", f"run-{n:05d}") for n in range(runs)]

    async def build() -> tuple[object, object]:
        return None, None

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for key in keys:
        await store.get(key, build)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    if len(store) != runs:
        raise AssertionError(f"expected {runs} live runs, found {len(store)}")
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    per_run = grown / runs
    print(
        f"state-memory: {runs:,} live runs hold {grown / 1024 / 1024:.2f} MiB ({per_run:.0f} B/run)"
    )
    return Target(
        "state-memory", per_run, STATE_MEMORY_GOAL_B, "B/run", higher_is_better=False, digits=0
    )


async def run_state_memory() -> list[Target]:
    """Run the state-memory measurement as a benchmark of the runner."""
    return [await bench_state_memory()]
