"""``state-access``: µs per read of ``ctx.state.handler`` on a context that holds its run state."""

from datetime import UTC, datetime

import fnact
import fnact.state
from benchmarks._models import Args, Handler
from benchmarks._timing import REPEATS, Target, median_ns

STATE_READS = 100_000
"""Reads per repeat in the state-access measurement."""

STATE_ACCESS_GOAL_US = 1.0


def bench_state_access() -> Target:
    """Time reading ``ctx.state.handler`` on a context that holds its run state.

    Returns:
        The ``state-access`` target, in µs per read (loop overhead included).
    """
    handler = Handler()
    state = fnact.state.RunState(handler, Args(1), datetime.now(UTC))
    ctx: fnact.ActivityContext[Handler, Args] = fnact.ActivityContext(state=state)

    def read_state() -> object:
        last: object = None
        for _ in range(STATE_READS):
            last = ctx.state
        return last

    def read_handler() -> object:
        last: object = None
        for _ in range(STATE_READS):
            last = ctx.state.handler
        return last

    def empty_loop() -> object:
        last: object = None
        for _ in range(STATE_READS):
            last = ctx
        return last

    if read_handler() is not handler:
        raise AssertionError("ctx.state.handler is not the handler the state holds")
    per_read = {
        label: median_ns(fn, 1) / STATE_READS
        for label, fn in (("ctx.state", read_state), ("ctx.state.handler", read_handler))
    }
    loop = median_ns(empty_loop, 1) / STATE_READS
    print(
        f"state-access: median ns/read over {REPEATS} x {STATE_READS:,}: "
        f"ctx.state {per_read['ctx.state']:.1f}, "
        f"ctx.state.handler {per_read['ctx.state.handler']:.1f} "
        f"(empty loop {loop:.1f})"
    )
    return Target(
        "state-access",
        per_read["ctx.state.handler"] / 1000,
        STATE_ACCESS_GOAL_US,
        "µs",
        higher_is_better=False,
        digits=3,
    )


async def run_state_access() -> list[Target]:
    """Run the state-access measurement, which is synchronous, as a benchmark of the runner."""
    return [bench_state_access()]
