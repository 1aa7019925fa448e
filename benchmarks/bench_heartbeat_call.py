"""``heartbeat-call``: µs per ``ctx.heartbeat`` call against ``temporalio.activity.heartbeat``.

Both loops run as activities of a real worker on the embedded dev server, because
Temporal's heartbeat schedules an encode-and-send task per call, which
``ActivityEnvironment`` does not.
"""

import asyncio
import statistics
import time
import uuid
from datetime import timedelta

import msgspec
import temporalio.activity
import temporalio.workflow
from returns.result import Result, Success
from temporalio.worker import UnsandboxedWorkflowRunner

import fnact
import fnact.worker
from benchmarks._models import BenchContainer
from benchmarks._timing import TIMES, Target, no_gc

HEARTBEAT_CALLS = 20_000
"""Heartbeat calls per activity in the heartbeat-call measurement."""
HEARTBEAT_CHUNKS = 10
"""Stretches the heartbeat calls are timed in, each after a bare loop as long."""
HEARTBEAT_REPEATS = 5
"""Interleaved repeats of the heartbeat-call measurement, each one raw and one fnact activity."""
HEARTBEAT_CALL_GOAL_US = 2.0

HEARTBEAT_TIMEOUT = timedelta(seconds=30)
"""The heartbeat timeout of both heartbeat activities: fnact sends at most every 10 s."""
HEARTBEAT_MESSAGE = "exporting rows"
"""The message every heartbeat in the heartbeat-call measurement carries."""
HEARTBEAT_QUEUE = "fnact-bench-heartbeat"
"""The task queue of the heartbeat-call worker."""


class HeartbeatLoop(msgspec.Struct, frozen=True):
    """The input of the heartbeat activities: how many calls each timed stretch makes, how often."""

    calls: int
    chunks: int


class LoopTimes(msgspec.Struct, frozen=True):
    """What one heartbeat activity measured: its heartbeat loops and as many bare loops, summed."""

    calls: int
    loop_ns: int
    baseline_ns: int

    @property
    def per_call_us(self) -> float:
        """The cost of one heartbeat call, in µs: the loop minus the bare loop, per call."""
        return (self.loop_ns - self.baseline_ns) / self.calls / 1000


async def time_bare_loop(calls: int) -> int:
    """Time ``calls`` iterations of ``await asyncio.sleep(0)`` with nothing else.

    Args:
        calls: iterations of the loop.

    Returns:
        The time the loop took, in nanoseconds.
    """
    start = time.perf_counter_ns()
    for _ in range(calls):
        await asyncio.sleep(0)
    return time.perf_counter_ns() - start


@temporalio.activity.defn
async def heartbeat_raw(spec: HeartbeatLoop) -> LoopTimes:
    """Time ``temporalio.activity.heartbeat`` called before each yield to the event loop.

    Bare and heartbeat loops alternate, so a burst of noise lands on both alike.
    """
    temporalio.activity.heartbeat({"progress": 0, "message": HEARTBEAT_MESSAGE})  # warm-up
    baseline = elapsed = 0
    with no_gc():
        for _ in range(spec.chunks):
            baseline += await time_bare_loop(spec.calls)
            start = time.perf_counter_ns()
            for i in range(spec.calls):
                temporalio.activity.heartbeat({"progress": i, "message": HEARTBEAT_MESSAGE})
                await asyncio.sleep(0)
            elapsed += time.perf_counter_ns() - start
    return LoopTimes(spec.calls * spec.chunks, elapsed, baseline)


@fnact.activity(heartbeat_timeout=HEARTBEAT_TIMEOUT, auto_heartbeat=False)
async def heartbeat_fnact(
    ctx: fnact.ActivityContext, spec: HeartbeatLoop
) -> Result[LoopTimes, fnact.Fault]:
    """Time ``ctx.heartbeat`` called before each yield to the event loop, as `heartbeat_raw`."""
    ctx.heartbeat(progress=0, message=HEARTBEAT_MESSAGE)  # builds the heartbeater, sends once
    baseline = elapsed = 0
    with no_gc():
        for _ in range(spec.chunks):
            baseline += await time_bare_loop(spec.calls)
            start = time.perf_counter_ns()
            for i in range(spec.calls):
                ctx.heartbeat(progress=i, message=HEARTBEAT_MESSAGE)
                await asyncio.sleep(0)
            elapsed += time.perf_counter_ns() - start
    return Success(LoopTimes(spec.calls * spec.chunks, elapsed, baseline))


class HeartbeatRounds(msgspec.Struct, frozen=True):
    """The input of `HeartbeatBench`: the calls per activity, in how many stretches, how often."""

    calls: int
    chunks: int
    repeats: int


@temporalio.workflow.defn
class HeartbeatBench:
    """Run the raw and the fnact heartbeat activity in turn, once to warm up, then timed."""

    @temporalio.workflow.run
    async def run(self, rounds: HeartbeatRounds) -> dict[str, list[LoopTimes]]:
        """Return each activity's measurements, by variant, in repeat order."""
        names = {"raw": "heartbeat_raw", "fnact": heartbeat_fnact.name}
        labels = list(names)
        times: dict[str, list[LoopTimes]] = {label: [] for label in labels}
        timed = HeartbeatLoop(rounds.calls // rounds.chunks, rounds.chunks)
        warm_up = HeartbeatLoop(timed.calls, 1)
        for repeat in range(-1, rounds.repeats):  # repeat -1 warms the worker up
            # Alternate the order so neither variant always runs first in a repeat.
            for label in labels if repeat % 2 == 0 else labels[::-1]:
                measured = await temporalio.workflow.execute_activity(
                    names[label],
                    timed if repeat >= 0 else warm_up,
                    result_type=LoopTimes,
                    start_to_close_timeout=timedelta(minutes=2),
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                )
                if repeat >= 0:
                    times[label].append(measured)
        return times


async def bench_heartbeat_call() -> Target:
    """Compare ``ctx.heartbeat`` with ``temporalio.activity.heartbeat`` inside a real worker.

    Both loops run in activities of an fnact worker on the embedded dev server:
    Temporal's heartbeat schedules an encode-and-send task per call, a cost
    `temporalio.testing.ActivityEnvironment` does not have. Each activity times
    ``heartbeat; await asyncio.sleep(0)`` and the same loop without the heartbeat;
    the yield lets the scheduled tasks run, so they count against their calls.

    Returns:
        The ``heartbeat-call`` target, in µs per ``ctx.heartbeat`` call.
    """
    with fnact.worker.DevServer(ui=False) as server:
        client = await fnact.worker.connect(server.address)
        worker = fnact.worker.create_worker(
            client,
            task_queue=HEARTBEAT_QUEUE,
            container=BenchContainer(),
            activities=[heartbeat_raw, heartbeat_fnact],
            workflows=[HeartbeatBench],
            # Unsandboxed, as every benchmark worker: the sandbox's re-imports of the
            # workflow's module would be timed too.
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        async with worker:
            times = await client.execute_workflow(
                HeartbeatBench.run,
                HeartbeatRounds(HEARTBEAT_CALLS, HEARTBEAT_CHUNKS, HEARTBEAT_REPEATS),
                id=f"heartbeat-bench-{uuid.uuid4()}",
                task_queue=HEARTBEAT_QUEUE,
            )
    medians = {
        label: statistics.median(measured.per_call_us for measured in runs)
        for label, runs in times.items()
    }
    bare = statistics.median(
        measured.baseline_ns / measured.calls / 1000 for runs in times.values() for measured in runs
    )
    print(
        f"heartbeat-call: median µs/call in a dev-server worker over {HEARTBEAT_REPEATS} x "
        f"{HEARTBEAT_CALLS:,} calls: raw {medians['raw']:.2f}, fnact {medians['fnact']:.2f} "
        f"(raw/fnact {medians['raw'] / medians['fnact']:.0f}{TIMES}; "
        f"bare loop {bare:.2f} µs/iteration, subtracted)"
    )
    return Target(
        "heartbeat-call", medians["fnact"], HEARTBEAT_CALL_GOAL_US, "µs", higher_is_better=False
    )


async def run_heartbeat_call() -> list[Target]:
    """Run the heartbeat-call measurement (it starts a dev server) as a benchmark of the runner."""
    return [await bench_heartbeat_call()]
