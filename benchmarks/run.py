"""Measure fnact's hot paths and check them against their targets.

Run from the project root::

    .venv/bin/python benchmarks/run.py [--strict]

Context lines (raw medians) come first, then one ``target <name>: ...`` line per
target ending in ``ok`` or ``MISS``. The script exits 0 unless ``--strict`` is
given and a target is missed.
"""

import argparse
import asyncio
import dataclasses
import gc
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pydantic
import temporalio.activity
import temporalio.converter
import temporalio.testing
import temporalio.workflow
from returns.result import Result, Success
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import fnact  # noqa: E402
from fnact._adapter import build_adapter  # noqa: E402

REPEATS = 7
"""Timed repeats per measurement; every figure is the median of these."""
ACTIVITY_CALLS = 5_000
"""Activity calls per repeat in the added-cost measurement."""
RECORDS = 10_000
"""Records in the list payload of the converter measurements."""
SINGLE_CALLS = {"msgspec": 20_000, "default": 2_000}
"""Round trips per repeat of the single 10-field value, by converter."""
STATE_READS = 100_000
"""Reads per repeat in the state-access measurement."""
HEARTBEAT_CALLS = 20_000
"""Heartbeat calls per activity in the heartbeat-call measurement."""
HEARTBEAT_CHUNKS = 10
"""Stretches the heartbeat calls are timed in, each after a bare loop as long."""
HEARTBEAT_REPEATS = 5
"""Interleaved repeats of the heartbeat-call measurement, each one raw and one fnact activity."""

ADDED_COST_GOAL_US = 5.0
DEFAULT_RATIO_GOAL = 25.0
PYDANTIC_RATIO_GOAL = 3.0
STATE_ACCESS_GOAL_US = 1.0
STATE_MEMORY_GOAL_B = 1024.0
HEARTBEAT_CALL_GOAL_US = 2.0

MSGSPEC = fnact.data_converter.payload_converter
DEFAULT = temporalio.converter.DataConverter.default.payload_converter
PYDANTIC = pydantic_data_converter.payload_converter

TIMES = "\N{MULTIPLICATION SIGN}"
"""The unit of ratios in the report."""


# --- activity under test -------------------------------------------------------------------------


class Args(msgspec.Struct, frozen=True):
    """The activity input: one number to double."""

    value: int


@fnact.activity
async def double_fnact(ctx: fnact.ActivityContext, args: Args) -> Result[int, fnact.Fault]:
    """Double ``args.value`` as an fnact activity."""
    return Success(args.value * 2)


@temporalio.activity.defn
async def double_raw(args: Args) -> int:
    """Double ``args.value`` as a plain Temporal activity."""
    return args.value * 2


class BenchContainer(fnact.Container):
    """fnact's container with nothing added: the adapter's own overhead only."""


# --- converter records ---------------------------------------------------------------------------


class RecordStruct(msgspec.Struct):
    """An 8-field record for the msgspec converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str


@dataclasses.dataclass
class RecordClass:
    """An 8-field record for Temporal's default converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str


class RecordModel(pydantic.BaseModel):
    """An 8-field record for Temporal's pydantic converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str


class WideStruct(msgspec.Struct):
    """A 10-field single value for the msgspec converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str
    country: str
    balance: float


@dataclasses.dataclass
class WideClass:
    """A 10-field single value for Temporal's default converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str
    country: str
    balance: float


def record_fields(index: int) -> dict[str, Any]:
    """Return the fields of record ``index``; the same values feed every record type.

    Args:
        index: the record's position, which determines every field.

    Returns:
        The 8 fields, keyed by name.
    """
    return {
        "id": index,
        "name": f"user-{index}",
        "email": f"user-{index}@example.com",
        "age": 18 + index % 60,
        "score": index * 0.5 + 0.25,
        "active": index % 3 != 0,
        "tags": ["alpha", f"group-{index % 7}"],
        "city": f"city-{index % 100}",
    }


def wide_fields() -> dict[str, Any]:
    """Return the fields of the 10-field single value.

    Returns:
        The 10 fields, keyed by name.
    """
    return {**record_fields(42), "country": "NL", "balance": 1234.5}


# --- timing helpers ------------------------------------------------------------------------------


@contextmanager
def no_gc() -> Iterator[None]:
    """Collect garbage, then keep the collector off for the duration of the block.

    Yields:
        Nothing; the block runs with the garbage collector disabled.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def median_ns(fn: Callable[[], object], calls: int, repeats: int = REPEATS) -> float:
    """Time ``calls`` calls of ``fn`` ``repeats`` times; return the median ns per call.

    Args:
        fn: the operation to time.
        calls: calls per timed repeat.
        repeats: timed repeats.

    Returns:
        The median over the repeats of the time per call, in nanoseconds.
    """
    fn()  # warm caches (decoders, type adapters) outside the timing
    per_call: list[float] = []
    for _ in range(repeats):
        with no_gc():
            start = time.perf_counter_ns()
            for _ in range(calls):
                fn()
            per_call.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(per_call)


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """A measured figure and the goal it is held to."""

    name: str
    measured: float
    goal: float
    unit: str
    higher_is_better: bool
    digits: int = 2

    @property
    def met(self) -> bool:
        """Whether the measured figure meets the goal."""
        if self.higher_is_better:
            return self.measured >= self.goal
        return self.measured <= self.goal

    def line(self) -> str:
        """Return the report line: ``target <name>: <measured> (goal <goal>) ok|MISS``."""
        sep = "" if self.unit == TIMES else " "
        relation = "≥" if self.higher_is_better else "≤"
        measured = f"{self.measured:.{self.digits}f}{sep}{self.unit}"
        goal = f"{relation} {self.goal:g}{sep}{self.unit}"
        return f"target {self.name}: {measured} (goal {goal}) {'ok' if self.met else 'MISS'}"


# --- 1. added cost per activity call -------------------------------------------------------------


async def bench_added_cost() -> Target:
    """Compare an fnact activity run through its adapter with a raw Temporal activity.

    Both run under `temporalio.testing.ActivityEnvironment` and do the work a worker
    does around an activity: decode the input payload, run, encode the result into
    a payload. The raw activity's input is decoded and its result encoded with the
    same msgspec converter; fnact's adapter decodes its own input and returns the
    result already encoded (a `RawValue` the converter passes through). The target is
    the difference. Context lines also give the bare raw activity, which neither
    decodes nor encodes, and fnact's cost against it.

    Returns:
        The ``added-cost`` target, in µs per call.
    """
    adapter = build_adapter(double_fnact.definition, BenchContainer())
    env = temporalio.testing.ActivityEnvironment()
    env.payload_converter = MSGSPEC
    args = Args(21)
    payload = MSGSPEC.to_payload(args)
    raw_value = RawValue(payload)

    async def run_raw(calls: int) -> None:
        for _ in range(calls):
            await env.run(double_raw, args)

    async def run_raw_decoding(calls: int) -> None:
        for _ in range(calls):
            result = await env.run(double_raw, MSGSPEC.from_payload(payload, Args))
            MSGSPEC.to_payloads([result])

    async def run_fnact(calls: int) -> None:
        for _ in range(calls):
            MSGSPEC.to_payloads([await env.run(adapter, raw_value)])

    encoded = MSGSPEC.to_payloads([await env.run(adapter, raw_value)])
    if MSGSPEC.from_payloads(encoded, [int]) != [42] or await env.run(double_raw, args) != 42:
        raise AssertionError("the benchmark activities do not compute the same result")

    runners = {"raw": run_raw, "raw+decode": run_raw_decoding, "fnact": run_fnact}
    for runner in runners.values():
        await runner(ACTIVITY_CALLS // 2)  # warm-up
    samples: dict[str, list[float]] = {label: [] for label in runners}
    labels = list(runners)
    for repeat in range(REPEATS):
        # Rotate the order so no variant always runs first (or last) in a repeat.
        for label in labels[repeat % 3 :] + labels[: repeat % 3]:
            with no_gc():
                start = time.perf_counter_ns()
                await runners[label](ACTIVITY_CALLS)
                elapsed = time.perf_counter_ns() - start
            samples[label].append(elapsed / ACTIVITY_CALLS / 1000)
    medians = {label: statistics.median(values) for label, values in samples.items()}
    print(
        f"added-cost: median µs/call over {REPEATS} x {ACTIVITY_CALLS} calls: "
        f"bare raw {medians['raw']:.2f}, raw with decode+encode {medians['raw+decode']:.2f}, "
        f"fnact with encode {medians['fnact']:.2f}"
    )
    print(
        f"added-cost: fnact vs the bare raw activity (no decode, no encode) "
        f"{medians['fnact'] - medians['raw']:.2f} µs"
    )
    return Target(
        "added-cost",
        medians["fnact"] - medians["raw+decode"],
        ADDED_COST_GOAL_US,
        "µs",
        higher_is_better=False,
    )


# --- 2 and 3. payload converters -----------------------------------------------------------------


def round_trip(converter: temporalio.converter.PayloadConverter, value: Any, hint: Any) -> Any:
    """Encode ``value`` into one payload and decode it back as ``hint``.

    Args:
        converter: the payload converter under test.
        value: the value to encode.
        hint: the type hint to decode with; ``None`` decodes untyped.

    Returns:
        The decoded value.
    """
    payloads = converter.to_payloads([value])
    return converter.from_payloads(payloads, None if hint is None else [hint])[0]


def time_round_trip(
    label: str,
    converter: temporalio.converter.PayloadConverter,
    value: Any,
    hint: Any,
    calls: int = 1,
) -> float:
    """Check a round trip gives ``value`` back, then time it and print the median.

    Args:
        label: how the context line names the case.
        converter: the payload converter under test.
        value: the value to encode.
        hint: the type hint to decode with; ``None`` decodes untyped.
        calls: round trips per timed repeat.

    Returns:
        The median time of one round trip, in µs.
    """
    if round_trip(converter, value, hint) != value:
        raise AssertionError(f"{label}: the round trip changed the value")
    micros = median_ns(lambda: round_trip(converter, value, hint), calls) / 1000
    print(f"converters: {label}: {micros:,.1f} µs per round trip")
    return micros


def bench_converters() -> tuple[Target, Target]:
    """Time list and single-value round trips through msgspec, default and pydantic.

    Returns:
        The ``converter-vs-default`` and ``converter-vs-pydantic`` targets, as ratios.
    """
    rows = [record_fields(index) for index in range(RECORDS)]
    structs = [RecordStruct(**row) for row in rows]
    classes = [RecordClass(**row) for row in rows]
    models = [RecordModel(**row) for row in rows]
    many = f"{RECORDS:,} records of 8 fields"

    fast = time_round_trip(f"msgspec, {many}", MSGSPEC, structs, list[RecordStruct])
    default = time_round_trip(f"default, dataclasses, {many}", DEFAULT, classes, list[RecordClass])
    time_round_trip(f"default, plain dicts (untyped), {many}", DEFAULT, rows, None)
    pydantic_ = time_round_trip(f"pydantic, BaseModel, {many}", PYDANTIC, models, list[RecordModel])

    wide = wide_fields()
    single_fast = time_round_trip(
        "msgspec, one 10-field Struct",
        MSGSPEC,
        WideStruct(**wide),
        WideStruct,
        calls=SINGLE_CALLS["msgspec"],
    )
    single_default = time_round_trip(
        "default, one 10-field dataclass",
        DEFAULT,
        WideClass(**wide),
        WideClass,
        calls=SINGLE_CALLS["default"],
    )
    single_ratio = single_default / single_fast
    print(f"converters: 10-field single value: msgspec {single_ratio:.1f}{TIMES} faster")
    return (
        Target(
            "converter-vs-default", default / fast, DEFAULT_RATIO_GOAL, TIMES, higher_is_better=True
        ),
        Target(
            "converter-vs-pydantic",
            pydantic_ / fast,
            PYDANTIC_RATIO_GOAL,
            TIMES,
            higher_is_better=True,
        ),
    )


# --- 4. cached run-state reads -------------------------------------------------------------------


class Handler:
    """A stand-in for a run's handler (a database client, say)."""


def bench_state_access() -> Target:
    """Time reading ``ctx.state.handler`` on a context that holds its run state.

    Returns:
        The ``state-access`` target, in µs per read (loop overhead included).
    """
    handler = Handler()
    state = fnact.RunState(handler, Args(1), datetime.now(UTC))
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


async def bench_state_memory() -> Target:
    """Measure the store's memory per live run with 10,000 runs holding a state.

    The handler and workflow arguments are small objects, so the figure is the
    store's own bookkeeping per run (key, state record, LRU links).

    Returns:
        The ``state-memory`` target, in bytes per live run.
    """
    import tracemalloc

    runs = 10_000
    store = fnact.InMemoryStateStore(clock=fnact.FakeClock(), max_runs=runs)
    keys = [fnact.RunKey(f"workflow-{n:05d}", f"run-{n:05d}") for n in range(runs)]

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


# --- 6. heartbeat calls in a real worker ---------------------------------------------------------

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
    with fnact.DevServer(ui=False) as server:
        client = await fnact.connect(server.address)
        worker = fnact.create_worker(
            client,
            task_queue=HEARTBEAT_QUEUE,
            container=BenchContainer(),
            activities=[heartbeat_raw, heartbeat_fnact],
            workflows=[HeartbeatBench],
            # This module runs as __main__, which the workflow sandbox cannot re-import.
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


# --- entry point ---------------------------------------------------------------------------------


async def main() -> list[Target]:
    """Run every benchmark once, print the context lines and return the targets.

    Returns:
        The targets, in report order.
    """
    added = await bench_added_cost()
    vs_default, vs_pydantic = bench_converters()
    state = bench_state_access()
    memory = await bench_state_memory()
    heartbeat = await bench_heartbeat_call()  # last: it starts a dev server
    return [added, vs_default, vs_pydantic, state, memory, heartbeat]


def cli() -> int:
    """Parse the command line, run the benchmarks and print the target lines.

    Returns:
        The exit status: 1 when ``--strict`` is given and a target is missed, else 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when any target is missed")
    options = parser.parse_args()
    started = time.perf_counter()
    targets = asyncio.run(main())
    print(f"(benchmarks took {time.perf_counter() - started:.1f} s)")
    for target in targets:
        print(target.line())
    return 1 if options.strict and not all(target.met for target in targets) else 0


if __name__ == "__main__":
    sys.exit(cli())
