"""Measure fnact's hot paths and check them against their targets.

Run from the project root::

    .venv/bin/python benchmarks/run.py [--strict] [--only NAME[,NAME]]

Context lines (raw medians) come first, then one ``target <name>: ...`` line per
target ending in ``ok`` or ``MISS``. The script exits 0 unless ``--strict`` is
given and a target is missed. ``--only added-cost`` runs only the per-call
measurement (about 15 s), for quick iterations on fnact's hot path.
"""

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pydantic
import temporalio.activity
import temporalio.client
import temporalio.converter
import temporalio.testing
import temporalio.worker
import temporalio.workflow
from dependency_injector import providers
from returns.result import Result, Success
from temporalio.api.common.v1 import Header, Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker._activity import _ActivityInboundImpl, _ActivityOutboundImpl

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import fnact  # noqa: E402
import fnact.workflow  # noqa: E402
from fnact._adapter import build_adapter  # noqa: E402
from fnact._interceptor import RunHeadersInterceptor  # noqa: E402
from fnact._metrics import WorkerMetrics  # noqa: E402
from fnact._runcontext import read_run  # noqa: E402
from fnact._runinfo import START_HEADER  # noqa: E402

REPEATS = 7
"""Timed repeats per measurement; every figure is the median of these."""
CALL_ROUNDS = 41
"""Timed rounds of the added-cost measurement; each runs every side once, in rotated order."""
CALL_WARM_UP_ROUNDS = 2
"""Untimed rounds of the added-cost measurement before the timed ones."""
CALL_STRETCHES = 10
"""Stretches per round of the added-cost measurement; each runs every side, in rotated order."""
CALLS_PER_STRETCH = 100
"""Activity calls per side and stretch in the added-cost measurement."""
FASTEST_ROUNDS = 3
"""The added-cost rounds whose speed every round is scaled to (see `scale_to_fastest_rounds`)."""
RECORDS = 10_000
"""Records in the list payload of the converter measurements."""
CONVERTER_ROUNDS = 9
"""Timed rounds of the converter comparison, after one warm-up round."""
CONVERTER_STRETCHES = 4
"""Stretches per round of the converter comparison; each runs every case, in rotated order."""
CONVERTER_CALLS = {"msgspec": 2}
"""Round trips of the 10,000-record list per stretch, by converter, when more than one."""
SINGLE_CALLS = {"msgspec": 2_000, "default": 400}
"""Round trips per stretch of the single 10-field value, by converter."""
STATE_READS = 100_000
"""Reads per repeat in the state-access measurement."""
HEARTBEAT_CALLS = 20_000
"""Heartbeat calls per activity in the heartbeat-call measurement."""
HEARTBEAT_CHUNKS = 10
"""Stretches the heartbeat calls are timed in, each after a bare loop as long."""
HEARTBEAT_REPEATS = 5
"""Interleaved repeats of the heartbeat-call measurement, each one raw and one fnact activity."""

ADDED_COST_GOAL_US = 3.0
ADDED_COST_VS_BARE_GOAL_US = 5.0
DEFAULT_RATIO_GOAL = 25.0
PYDANTIC_RATIO_GOAL = 3.0
STATE_ACCESS_GOAL_US = 1.0
STATE_MEMORY_GOAL_B = 1024.0
HEARTBEAT_CALL_GOAL_US = 2.0
METRICS_COST_GOAL_US = 2.0
IMPORT_TIME_GOAL = 1.2
IMPORT_ROUNDS = 21

MSGSPEC = fnact.data_converter.payload_converter
DEFAULT = temporalio.converter.DataConverter.default.payload_converter
PYDANTIC = pydantic_data_converter.payload_converter

T = TypeVar("T")

TIMES = "\N{MULTIPLICATION SIGN}"
"""The unit of ratios in the report."""


# --- activities under test -----------------------------------------------------------------------


class Args(msgspec.Struct, frozen=True):
    """The workflow input of the state-access measurement's run state: one number."""

    value: int


class Order(msgspec.Struct, frozen=True):
    """The per-call measurement's activity input: 4 fields."""

    order_id: int
    customer: str
    quantity: int
    unit_price: float


class Quote(msgspec.Struct, frozen=True):
    """The per-call measurement's activity result: 3 fields."""

    order_id: int
    total: float
    label: str


@dataclasses.dataclass(frozen=True)
class OrderClass:
    """`Order` as a dataclass, for Temporal's default converter."""

    order_id: int
    customer: str
    quantity: int
    unit_price: float


@dataclasses.dataclass(frozen=True)
class QuoteClass:
    """`Quote` as a dataclass, for Temporal's default converter."""

    order_id: int
    total: float
    label: str


class OutOfStock(fnact.Fault):
    """The fnact activity's expected error; the measured calls never return it."""

    order_id: int


@fnact.activity
async def quote_fnact(ctx: fnact.ActivityContext, order: Order) -> Result[Quote, OutOfStock]:
    """Price ``order``, as a default fnact activity (no dependencies, no run state)."""
    return Success(
        Quote(
            order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
        )
    )


@temporalio.activity.defn
async def quote_raw(order: Order) -> Quote:
    """Price ``order``, as a plain Temporal activity."""
    return Quote(
        order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
    )


@temporalio.activity.defn
async def echo_raw(raw: RawValue) -> RawValue:
    """Return the input payload untouched: a plain activity that converts nothing."""
    return raw


@temporalio.activity.defn
async def quote_default(order: OrderClass) -> QuoteClass:
    """Price ``order``, as a plain Temporal activity with dataclasses."""
    return QuoteClass(
        order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
    )


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


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect garbage and move every object alive now out of the collector's reach.

    ``gc.freeze()`` puts them in the permanent generation, so the collections
    `no_gc` starts each timed stretch with only walk what the benchmark itself
    allocated since: they are quick, and every stretch starts from the same state.

    Yields:
        Nothing; on exit the frozen objects go back to the collector.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def rotated(sides: list[T], turn: int) -> list[T]:
    """Return ``sides`` rotated by ``turn``, so no side always runs first or last in a round.

    Args:
        sides: the sides of a comparison.
        turn: the round's index.

    Returns:
        The sides, starting with the one at ``turn`` modulo their number.
    """
    shift = turn % len(sides)
    return sides[shift:] + sides[:shift]


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


async def execute_as_worker(
    fn: Callable[..., Awaitable[Any]],
    args: Sequence[Any],
    headers: Mapping[str, Payload],
    interceptors: Sequence[temporalio.worker.Interceptor],
    info: temporalio.activity.Info,
) -> Any:
    """Run ``fn`` on decoded ``args`` as temporalio's worker does, through its interceptors.

    The end of ``temporalio.worker._activity._ActivityWorker._execute_activity``: build
    the `ExecuteActivityInput`, chain the worker's interceptors in front of Temporal's
    own last link (``_ActivityInboundImpl``, which awaits ``fn(*args)``), initialize
    the chain with Temporal's outbound link and execute it. Called under
    `temporalio.testing.ActivityEnvironment.run`, which stands for the rest of what
    the worker does per call: set the activity context and run the call in its own task.

    Args:
        fn: the registered activity function.
        args: its decoded arguments.
        headers: the activity task's headers.
        interceptors: the worker's interceptors, outermost first.
        info: the activity's info.

    Returns:
        What ``fn`` returned.
    """
    input = temporalio.worker.ExecuteActivityInput(fn=fn, args=args, executor=None, headers=headers)
    # Temporal's last link: for an async activity it uses neither the worker nor the
    # running activity it is built with, which are the worker's own bookkeeping.
    last = _ActivityInboundImpl(None, None)  # type: ignore[arg-type]
    impl: temporalio.worker.ActivityInboundInterceptor = last
    for interceptor in reversed(list(interceptors)):
        impl = interceptor.intercept_activity(impl)
    impl.init(_ActivityOutboundImpl(None, info))  # type: ignore[arg-type]
    return await impl.execute_activity(input)


def arg_types(fn: Callable[..., Any], payloads: Sequence[Payload]) -> list[type] | None:
    """Return the type hints temporalio's worker decodes ``fn``'s input payloads with.

    Args:
        fn: the registered activity function.
        payloads: its input payloads.

    Returns:
        The definition's argument types, or ``None`` when their number does not match.
    """
    types = temporalio.activity._Definition.must_from_callable(fn).arg_types
    return types if types is not None and len(types) == len(payloads) else None


def scale_to_fastest_rounds(
    samples: dict[str, list[float]],
) -> tuple[dict[str, list[float]], float]:
    """Scale every round's figures to the speed of the run's `FASTEST_ROUNDS` fastest rounds.

    A round's factor is its total (the sum of its sides' figures) over the mean total
    of the fastest rounds; each figure of the round is divided by it. On a shared
    machine the host slows every side of a round alike, for seconds at a time, and
    thread CPU time counts that slowdown: scaled, the rounds measure the same thing.

    Args:
        samples: per side, one figure per round, rounds in the same order for every side.

    Returns:
        The scaled figures, and the largest factor (how much slower the slowest round ran).
    """
    totals = [sum(figures) for figures in zip(*samples.values(), strict=True)]
    reference = statistics.fmean(sorted(totals)[:FASTEST_ROUNDS])
    factors = [total / reference for total in totals]
    scaled = {
        label: [figure / factor for figure, factor in zip(figures, factors, strict=True)]
        for label, figures in samples.items()
    }
    return scaled, max(factors)


async def timed_call_rounds(
    sides: Mapping[str, Callable[[int], Awaitable[None]]],
) -> dict[str, list[float]]:
    """Return each side's thread CPU µs per call in each of `CALL_ROUNDS` rounds.

    A round is `CALL_STRETCHES` stretches of `CALLS_PER_STRETCH` calls of every side,
    in rotated order, with the garbage collector off over a frozen heap, so a round's
    sides share its noise; `CALL_WARM_UP_ROUNDS` untimed rounds come first.
    """
    samples: dict[str, list[float]] = {label: [] for label in sides}
    labels = list(sides)
    with frozen_heap():
        for turn in range(-CALL_WARM_UP_ROUNDS, CALL_ROUNDS):
            spent = dict.fromkeys(labels, 0)
            with no_gc():
                for stretch in range(CALL_STRETCHES):
                    # Short stretches, every side in each: a round's sides share its noise.
                    for label in rotated(labels, turn + stretch):
                        began = time.thread_time_ns()
                        await sides[label](CALLS_PER_STRETCH)
                        spent[label] += time.thread_time_ns() - began
            if turn >= 0:
                for label in labels:
                    samples[label].append(spent[label] / CALL_STRETCHES / CALLS_PER_STRETCH / 1000)
    return samples


async def bench_added_cost() -> list[Target]:
    """Time one activity call as a worker pays it: fnact against plain Temporal activities.

    Each side but the bare one does per call what temporalio's worker does: decode the
    input payloads with its data converter (``DataConverter.decode`` with the
    activity's argument types), run the activity through the worker's interceptors
    (`execute_as_worker`, under `ActivityEnvironment.run`) and encode the result
    (``DataConverter.encode``). The sides, each pricing a 4-field `Order` into a
    3-field `Quote`:

    - ``bare``: the plain activity awaited under ``ActivityEnvironment.run`` on an
      already decoded input, its result not encoded;
    - ``adapter``: fnact's adapter alone, the same way (it decodes its own input and
      returns its result encoded, but no worker decode, encode or interceptor);
    - ``raw msgspec``: the plain activity through fnact's msgspec data converter;
    - ``raw default``: the plain activity with dataclasses through Temporal's default
      data converter;
    - ``fnact``: fnact's worker path: the adapter a worker builds (one `RawValue`
      parameter, so the converter hands it the payload undecoded; its `RawValue` result
      passes through the encode) behind fnact's `RunHeadersInterceptor`, with the
      run-start header an fnact workflow sets.

    Thread CPU time, which other processes' share of the CPU does not inflate, is taken
    around every stretch of `CALLS_PER_STRETCH` calls of one side, in one running event
    loop. A round is `CALL_STRETCHES` stretches of every side, in rotated order, with
    the garbage collector off (over a frozen heap, see `frozen_heap`), so a round's
    sides share its noise; its figure per side is CPU time per call. Each round is
    then scaled to the speed of the run's fastest rounds (`scale_to_fastest_rounds`);
    the figures are medians over `CALL_ROUNDS` rounds, the targets the medians of the
    per-round differences. The unscaled medians are printed too.

    Returns:
        The ``added-cost`` (over ``raw msgspec``) and ``added-cost-vs-bare`` targets, in µs.
    """
    fast, slow = fnact.data_converter, temporalio.converter.DataConverter.default
    container = BenchContainer()
    adapter = build_adapter(quote_fnact.definition, container)
    interceptors = [RunHeadersInterceptor(cache=container.run_context())]
    env = temporalio.testing.ActivityEnvironment()
    env.payload_converter = fast.payload_converter
    default_env = temporalio.testing.ActivityEnvironment()
    info = env.info
    order = Order(7, "ada", 3, 2.5)
    order_class = OrderClass(7, "ada", 3, 2.5)
    # What the worker receives: the task's input payloads and header fields (protobuf
    # containers); an fnact workflow puts its run's start time in the headers.
    fast_input = Payloads(payloads=fast.payload_converter.to_payloads([order])).payloads
    slow_input = Payloads(payloads=slow.payload_converter.to_payloads([order_class])).payloads
    start = fast.payload_converter.to_payload(datetime(2026, 1, 1, tzinfo=UTC))
    fnact_headers = Header(fields={START_HEADER: start}).fields
    no_headers = Header().fields
    raw_value = RawValue(fast_input[0])
    fnact_types = arg_types(adapter, fast_input)
    raw_types = arg_types(quote_raw, fast_input)
    default_types = arg_types(quote_default, slow_input)
    if fnact_types != [RawValue]:
        raise AssertionError(f"the adapter's input would be decoded as {fnact_types}")

    async def bare(calls: int) -> None:
        for _ in range(calls):
            await env.run(quote_raw, order)

    async def adapter_alone(calls: int) -> None:
        for _ in range(calls):
            await env.run(adapter, raw_value)

    async def raw_msgspec(calls: int) -> None:
        for _ in range(calls):
            args = await fast.decode(fast_input, type_hints=raw_types)
            result = await env.run(execute_as_worker, quote_raw, args, no_headers, (), info)
            [_payload] = await fast.encode([result])

    async def raw_default(calls: int) -> None:
        for _ in range(calls):
            args = await slow.decode(slow_input, type_hints=default_types)
            result = await default_env.run(
                execute_as_worker, quote_default, args, no_headers, (), info
            )
            [_payload] = await slow.encode([result])

    async def floor(calls: int) -> None:
        for _ in range(calls):
            args = await fast.decode(fast_input, type_hints=fnact_types)
            result = await env.run(execute_as_worker, echo_raw, args, no_headers, (), info)
            [_payload] = await fast.encode([result])

    async def fnact_worker(calls: int) -> None:
        for _ in range(calls):
            args = await fast.decode(fast_input, type_hints=fnact_types)
            result = await env.run(
                execute_as_worker, adapter, args, fnact_headers, interceptors, info
            )
            [_payload] = await fast.encode([result])

    expected = await quote_raw(order)
    args = await fast.decode(fast_input, type_hints=fnact_types)
    result = await env.run(execute_as_worker, adapter, args, fnact_headers, interceptors, info)
    [payload] = await fast.encode([result])
    [default_payload] = await slow.encode(
        [await default_env.run(execute_as_worker, quote_default, [order_class], {}, (), info)]
    )
    fnact_quote = fast.payload_converter.from_payload(payload, Quote)
    default_quote = slow.payload_converter.from_payload(default_payload, QuoteClass)
    if fnact_quote != expected or dataclasses.asdict(default_quote) != msgspec.structs.asdict(
        expected
    ):
        raise AssertionError("the benchmark activities do not compute the same result")

    sides = {
        "bare": bare,
        "adapter": adapter_alone,
        "raw msgspec": raw_msgspec,
        "raw default": raw_default,
        "floor": floor,
        "fnact": fnact_worker,
    }
    samples = await timed_call_rounds(sides)
    scaled, slowest = scale_to_fastest_rounds(samples)
    us = {label: statistics.median(values) for label, values in scaled.items()}
    unscaled = {label: statistics.median(values) for label, values in samples.items()}

    def over(baseline: str, side: str = "fnact") -> float:
        return statistics.median(f - b for f, b in zip(scaled[side], scaled[baseline], strict=True))

    def sides_line(medians: dict[str, float]) -> str:
        return (
            f"bare {medians['bare']:.1f}, fnact adapter alone {medians['adapter']:.1f}, raw with "
            f"the msgspec converter {medians['raw msgspec']:.1f}, raw with Temporal's default "
            f"converter {medians['raw default']:.1f}, fnact worker path {medians['fnact']:.1f}"
        )

    print(
        f"added-cost: median µs/call (thread CPU time) over {CALL_ROUNDS} rounds of "
        f"{CALL_STRETCHES} x {CALLS_PER_STRETCH} calls per side, order rotated, each round "
        f"scaled to the speed of the {FASTEST_ROUNDS} fastest: {sides_line(us)}"
    )
    print(
        f"added-cost: unscaled medians (rounds ran up to {slowest:.2f}{TIMES} slower than the "
        f"fastest): {sides_line(unscaled)}"
    )
    print(
        f"added-cost: fnact worker path over raw with the msgspec converter "
        f"{over('raw msgspec'):+.2f} µs, over bare {over('bare'):+.2f} µs, over its adapter "
        f"alone {over('adapter'):+.2f} µs (worker decode, encode, interceptors); fnact / raw "
        f"with the default converter {us['fnact'] / us['raw default']:.2f}{TIMES} "
        f"(the default-converter call is {us['raw default'] / us['fnact']:.1f}{TIMES} slower)"
    )
    print(
        f"added-cost: floor of added-cost-vs-bare: a plain activity that converts nothing "
        f"(RawValue in and out, no interceptor) costs {over('bare', 'floor'):+.2f} µs over bare "
        f"on the worker path (decode, Temporal's interceptor chain, encode); fnact's worker "
        f"path is {over('floor'):+.2f} µs over it"
    )
    return [
        Target("added-cost", over("raw msgspec"), ADDED_COST_GOAL_US, "µs", higher_is_better=False),
        Target(
            "added-cost-vs-bare",
            over("bare"),
            ADDED_COST_VS_BARE_GOAL_US,
            "µs",
            higher_is_better=False,
        ),
    ]


async def bench_metrics_cost() -> list[Target]:
    """Time what fnact's metrics add to an activity call: its outcome counted on a real meter.

    Two sides run fnact's adapter under ``ActivityEnvironment.run``, as `bench_added_cost`'s
    ``adapter`` side does: one built with no meter (Temporal's no-op instruments), one
    with the instruments of a runtime that serves Prometheus metrics. The target is the
    median of the per-round differences, in µs per call.
    """
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{free_port()}"))
    )
    container = BenchContainer()
    metered = WorkerMetrics(runtime.metric_meter, "default", "bench")
    unmetered = build_adapter(quote_fnact.definition, container)
    recorded = build_adapter(quote_fnact.definition, container, metered)
    env = temporalio.testing.ActivityEnvironment()
    env.payload_converter = fnact.data_converter.payload_converter
    raw_value = RawValue(env.payload_converter.to_payload(Order(7, "ada", 3, 2.5)))

    def calling(adapter: Callable[[RawValue], Awaitable[Any]]) -> Callable[[int], Awaitable[None]]:
        async def calls(count: int) -> None:
            for _ in range(count):
                await env.run(adapter, raw_value)

        return calls

    samples = await timed_call_rounds({"no meter": calling(unmetered), "meter": calling(recorded)})
    scaled, _ = scale_to_fastest_rounds(samples)
    added = statistics.median(
        m - n for m, n in zip(scaled["meter"], scaled["no meter"], strict=True)
    )
    print(
        f"metrics-cost: median µs/call of fnact's adapter over {CALL_ROUNDS} rounds: "
        f"no meter {statistics.median(scaled['no meter']):.2f}, Prometheus meter "
        f"{statistics.median(scaled['meter']):.2f}"
    )
    return [Target("metrics-cost", added, METRICS_COST_GOAL_US, "µs", higher_is_better=False)]


def free_port() -> int:
    """Return a TCP port no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


@dataclasses.dataclass(frozen=True, slots=True)
class RoundTrip:
    """One case of the converter comparison: a value, its converter and how often per round."""

    label: str
    """How the context line names the case."""
    converter: temporalio.converter.PayloadConverter
    value: Any
    hint: Any
    """The type hint to decode with; ``None`` decodes untyped."""
    calls: int
    """Round trips per stretch, so every stretch is long enough to time."""
    once_per_round: bool = False
    """Run in one stretch per round rather than in every stretch (the slowest case)."""

    def per_round(self) -> int:
        """Return how many round trips the case makes per round."""
        return self.calls if self.once_per_round else self.calls * CONVERTER_STRETCHES

    def run(self) -> None:
        """Make `calls` round trips."""
        converter, value, hint = self.converter, self.value, self.hint
        for _ in range(self.calls):
            round_trip(converter, value, hint)


def bench_converters() -> tuple[Target, Target]:
    """Time list and single-value round trips through msgspec, default and pydantic.

    A round is `CONVERTER_STRETCHES` stretches, each running every case in rotated
    order (the slow default-converter list in one stretch per round only); each case's
    stretch is timed in thread CPU time with the garbage collector off over a frozen
    heap (see `frozen_heap`). A case's figure per round is its CPU time per round
    trip; the context lines give medians over `CONVERTER_ROUNDS` rounds, and a ratio is
    the median of its per-round ratios, so both sides of a ratio share each round's speed.

    Returns:
        The ``converter-vs-default`` and ``converter-vs-pydantic`` targets, as ratios.
    """
    rows = [record_fields(index) for index in range(RECORDS)]
    wide = wide_fields()
    many = f"{RECORDS:,} records of 8 fields"
    cases = [
        RoundTrip(
            f"msgspec, {many}",
            MSGSPEC,
            [RecordStruct(**row) for row in rows],
            list[RecordStruct],
            CONVERTER_CALLS["msgspec"],
        ),
        RoundTrip(
            f"default, dataclasses, {many}",
            DEFAULT,
            [RecordClass(**row) for row in rows],
            list[RecordClass],
            1,
            once_per_round=True,  # half a second or so: once per round is long enough
        ),
        RoundTrip(f"default, plain dicts (untyped), {many}", DEFAULT, rows, None, 1),
        RoundTrip(
            f"pydantic, BaseModel, {many}",
            PYDANTIC,
            [RecordModel(**row) for row in rows],
            list[RecordModel],
            1,
        ),
        RoundTrip(
            "msgspec, one 10-field Struct",
            MSGSPEC,
            WideStruct(**wide),
            WideStruct,
            SINGLE_CALLS["msgspec"],
        ),
        RoundTrip(
            "default, one 10-field dataclass",
            DEFAULT,
            WideClass(**wide),
            WideClass,
            SINGLE_CALLS["default"],
        ),
    ]
    for case in cases:
        if round_trip(case.converter, case.value, case.hint) != case.value:
            raise AssertionError(f"{case.label}: the round trip changed the value")
    samples: dict[str, list[float]] = {case.label: [] for case in cases}
    each = [case for case in cases if not case.once_per_round]
    once = [case for case in cases if case.once_per_round]
    with frozen_heap():
        for turn in range(-1, CONVERTER_ROUNDS):  # round -1 warms decoders and type adapters
            spent = {case.label: 0 for case in cases}
            for stretch in range(CONVERTER_STRETCHES):
                order = rotated(each, turn + stretch)
                if stretch == turn % CONVERTER_STRETCHES:
                    position = turn % (len(order) + 1)
                    order[position:position] = once
                for case in order:
                    with no_gc():
                        began = time.thread_time_ns()
                        case.run()
                        spent[case.label] += time.thread_time_ns() - began
            if turn >= 0:
                for case in cases:
                    samples[case.label].append(spent[case.label] / case.per_round() / 1000)

    def ratio(slow: RoundTrip, fast: RoundTrip) -> float:
        pairs = zip(samples[slow.label], samples[fast.label], strict=True)
        return statistics.median(s / f for s, f in pairs)

    fast, default, _, pydantic_, single_fast, single_default = cases
    for case in cases:
        print(
            f"converters: {case.label}: {statistics.median(samples[case.label]):,.1f} µs per "
            f"round trip (thread CPU time, median of {CONVERTER_ROUNDS} rounds)"
        )
    print(
        f"converters: 10-field single value: msgspec "
        f"{ratio(single_default, single_fast):.1f}{TIMES} faster"
    )
    return (
        Target(
            "converter-vs-default",
            ratio(default, fast),
            DEFAULT_RATIO_GOAL,
            TIMES,
            higher_is_better=True,
        ),
        Target(
            "converter-vs-pydantic",
            ratio(pydantic_, fast),
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


# --- 7. run context in a real worker: history, stateful runs, history reads ----------------------

KIB = 1024
ACTIVITY_TIMEOUT = timedelta(seconds=30)
"""The start-to-close timeout of every activity in the run-context measurements."""
RUN_QUEUES = {"fnact": "fnact-bench-run-fnact", "plain": "fnact-bench-run-plain"}
FLEET_QUEUES = {"fleet": "fnact-bench-run-fleet", "raw-fleet": "fnact-bench-run-rawfl"}
"""Each served by a workflow-only and an activity-only worker (fnact, and raw)."""
"""The task queue of each side's worker; the names are as long, so histories compare."""
IDLE_QUEUE = "fnact-bench-run-idle"
"""A task queue no worker polls: runs started on it only exist, for the history reads."""
FAN_OUT = 20
"""Activities each run of the history-per-activity measurement starts at once."""
HISTORY_PADS = (10 * KIB, 100 * KIB)
"""Padding of the workflow input in the history-per-activity measurement, in characters."""
HISTORY_REPEATS = 5
"""Runs per side and input size in the history-per-activity measurement; medians are used."""
STATEFUL_RUNS = 100
"""Runs started at once in each timed round of the stateful-run measurement."""
STATEFUL_STEPS = 5
"""Activities each run of the stateful-run measurement runs, one after another."""
STATEFUL_PAD = 2 * KIB
"""Padding of the workflow input in the stateful-run measurement, in characters."""
STATEFUL_ROUNDS = 5
"""Interleaved timed rounds per side in the stateful-run measurement."""
STATEFUL_WARM_UP = 10
"""Runs each side does before the timed rounds."""
MAX_CONCURRENT_ACTIVITIES = 100
"""The ``max_concurrent_activities`` of both sides' workers."""
HISTORY_READS = 50
"""Runs whose first history event is read in the history-read measurement."""
FIRST_ACTIVITY_RUNS = 20
"""One-activity runs per variant (input inline, input read) in the first-activity comparison."""

HISTORY_PER_ACTIVITY_GOAL_B = 1024.0
STATEFUL_RUN_GOAL = 0.95


class Job(msgspec.Struct, frozen=True):
    """A run's input: a name, padding to give it a size, and how many activities to run."""

    name: str
    pad: str
    activities: int


class Step(msgspec.Struct, frozen=True):
    """The input of the raw stateful activity: its index and the run's whole input."""

    n: int
    job: Job


class Db:
    """A run's handler: a SQLite connection to the benchmark's database file.

    Args:
        path: the database file.
        job: the run's input, which the queries use.
    """

    def __init__(self, path: str, job: Job) -> None:
        self.job = job
        self.connection = sqlite3.connect(path)
        self.connection.execute("SELECT count(*) FROM jobs").fetchone()

    def lookup(self, n: int) -> int:
        """Return ``n`` plus the number of jobs named like the run's, by a trivial query."""
        row = self.connection.execute(
            "SELECT ? + count(*) FROM jobs WHERE name = ?", (n, self.job.name)
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def create_db(path: str) -> None:
    """Create the benchmark's database file with one ``jobs`` row, named ``bench``.

    Args:
        path: the database file.
    """
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE jobs (name TEXT NOT NULL)")
        connection.execute("INSERT INTO jobs VALUES ('bench')")


def open_db(path: str, workflow_args: Job) -> Db:
    """Build a run's handler, as the container's ``handler`` provider.

    Args:
        path: the database file.
        workflow_args: the run's input, which fnact passes.

    Returns:
        The run's open connection.
    """
    return Db(path, workflow_args)


class SqliteContainer(fnact.Container):
    """fnact's container with a SQLite connection as each run's handler."""

    db_path = providers.Object(":memory:")
    handler = providers.Callable(open_db, path=db_path)


@fnact.activity(start_to_close_timeout=ACTIVITY_TIMEOUT)
async def fan_fnact(ctx: fnact.ActivityContext[Db, Job], n: int) -> Result[int, fnact.Fault]:
    """Return ``n`` once the run's input is in hand, as an fnact activity with run state."""
    if n >= ctx.state.workflow_args.activities:
        raise AssertionError(f"activity {n} is not one of the run's")
    return Success(n)


@temporalio.activity.defn
async def fan_plain(n: int) -> int:
    """Return ``n``, as a plain Temporal activity."""
    return n


@fnact.activity(start_to_close_timeout=ACTIVITY_TIMEOUT)
async def step_fnact(ctx: fnact.ActivityContext[Db, Job], n: int) -> Result[int, fnact.Fault]:
    """Run one query on the run's connection, which fnact builds once per run."""
    return Success(ctx.state.handler.lookup(n))


@dataclasses.dataclass(frozen=True)
class RawSteps:
    """The raw stateful activity, bound to the database file.

    Args:
        path: the database file.
    """

    path: str

    @temporalio.activity.defn(name="step_raw")
    async def step_raw(self, step: Step) -> int:
        """Open a connection for the run's input, run one query on it and close it."""
        db = Db(self.path, step.job)
        try:
            return db.lookup(step.n)
        finally:
            db.close()


@temporalio.workflow.defn
class FnactFanOut:
    """Start ``job.activities`` fnact activities at once; return their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> list[int]:
        """Return each activity's result, in order."""
        results = await asyncio.gather(
            *(fnact.workflow.execute_activity(fan_fnact, n) for n in range(job.activities))
        )
        return [result.unwrap() for result in results]


@temporalio.workflow.defn
class PlainFanOut:
    """Start ``job.activities`` plain activities at once; return their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> list[int]:
        """Return each activity's result, in order."""
        return list(
            await asyncio.gather(
                *(
                    temporalio.workflow.execute_activity(
                        fan_plain, n, start_to_close_timeout=ACTIVITY_TIMEOUT
                    )
                    for n in range(job.activities)
                )
            )
        )


@temporalio.workflow.defn
class FnactSteps:
    """Run ``job.activities`` stateful fnact activities one after another; sum their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> int:
        """Return the sum of the activities' results."""
        total = 0
        for n in range(job.activities):
            total += (await fnact.workflow.execute_activity(step_fnact, n)).unwrap()
        return total


@temporalio.workflow.defn
class PlainSteps:
    """Run ``job.activities`` raw stateful activities one after another; sum their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> int:
        """Return the sum of the activities' results."""
        total = 0
        for n in range(job.activities):
            total += await temporalio.workflow.execute_activity(
                "step_raw", Step(n, job), result_type=int, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        return total


def new_job(pad: int, activities: int) -> Job:
    """Return a run input named ``bench`` with ``pad`` characters of padding.

    Args:
        pad: characters of padding.
        activities: how many activities the run runs.

    Returns:
        The run's input.
    """
    return Job("bench", "x" * pad, activities)


def run_id(label: str) -> str:
    """Return a fresh workflow id; ids of one label are all as long.

    Args:
        label: what the run is for.

    Returns:
        The workflow id.
    """
    return f"bench-{label}-{uuid.uuid4()}"


@dataclasses.dataclass(frozen=True, slots=True)
class HistorySize:
    """The encoded size of a run's history, whole and in parts."""

    total: int
    """The whole history, in bytes."""
    activity_events: int
    """The activities' scheduled, started and completed events, in bytes."""
    headers: int
    """The headers of the activities' scheduled events, in bytes."""
    workflow_tasks: int
    """How many workflow tasks the run completed."""


ACTIVITY_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    }
)
"""The event types an activity that succeeds first time adds to its run's history."""


async def run_history(
    client: temporalio.client.Client, workflow: Any, queue: str, job: Job
) -> HistorySize:
    """Run ``workflow`` with ``job`` to completion and measure its history.

    Args:
        client: the client to start the run with.
        workflow: the workflow's run method.
        queue: the task queue of the worker that runs it.
        job: the run's input.

    Returns:
        The size of the run's history.
    """
    handle = await client.start_workflow(workflow, job, id=run_id("history"), task_queue=queue)
    if await handle.result() != list(range(job.activities)):
        raise AssertionError("the fan-out workflow returned the wrong results")
    events = (await handle.fetch_history()).events
    return HistorySize(
        total=History(events=events).ByteSize(),
        activity_events=sum(e.ByteSize() for e in events if e.event_type in ACTIVITY_EVENTS),
        headers=sum(e.activity_task_scheduled_event_attributes.header.ByteSize() for e in events),
        workflow_tasks=sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events
        ),
    )


def added_per_activity(
    sizes: dict[str, list[HistorySize]], part: Callable[[HistorySize], int]
) -> float:
    """Return the bytes of ``part`` of a history that fnact adds per activity.

    Args:
        sizes: the histories of each side's runs, under ``fnact`` and ``plain``.
        part: which part of a history to compare.

    Returns:
        The difference of the two sides' medians, per activity.
    """
    fnact_, plain = (statistics.median(map(part, sizes[label])) for label in ("fnact", "plain"))
    return (fnact_ - plain) / FAN_OUT


async def bench_history_per_activity(client: temporalio.client.Client) -> Target:
    """Compare the history of an fnact fan-out with the same fan-out of plain activities.

    Each run starts `FAN_OUT` activities at once, each with a tiny input and result;
    the fnact activities read the run's input from their run state. Both sides run
    on the same client, on task queues and with type names as long. Per input size
    the figure is the difference of the median history sizes, per activity. How
    many workflow tasks a run takes depends on when its activities finish, so the
    figure varies by some tens of bytes; the activities' own events, also printed,
    do not.

    Args:
        client: a client of the dev server the workers poll.

    Returns:
        The ``history-per-activity`` target, in bytes per activity: the larger of the two
        input sizes' figures.
    """
    workflows = {"fnact": FnactFanOut.run, "plain": PlainFanOut.run}
    per_activity: list[float] = []
    for pad in HISTORY_PADS:
        job = new_job(pad, FAN_OUT)
        sizes: dict[str, list[HistorySize]] = {label: [] for label in workflows}
        for repeat in range(HISTORY_REPEATS):
            # Alternate the order so neither side always runs first.
            for label in list(workflows)[:: 1 if repeat % 2 == 0 else -1]:
                sizes[label].append(
                    await run_history(client, workflows[label], RUN_QUEUES[label], job)
                )

        whole = added_per_activity(sizes, lambda size: size.total)
        events = added_per_activity(sizes, lambda size: size.activity_events)
        headers = added_per_activity(sizes, lambda size: size.headers)
        per_activity.append(whole)
        totals = {label: statistics.median(s.total for s in sizes[label]) for label in workflows}
        tasks = {label: [s.workflow_tasks for s in sizes[label]] for label in workflows}
        print(
            f"history-per-activity: {MSGSPEC.to_payload(job).ByteSize() / KIB:,.1f} KiB input, "
            f"{FAN_OUT} activities at once: median history over {HISTORY_REPEATS} runs "
            f"fnact {totals['fnact']:,.0f} B, plain {totals['plain']:,.0f} B "
            f"(workflow tasks fnact {tasks['fnact']}, plain {tasks['plain']}): "
            f"fnact adds {whole:,.0f} B/activity; activity events alone {events:+,.0f} B/activity, "
            f"of which headers {headers:+,.0f} B"
        )
    return Target(
        "history-per-activity",
        max(per_activity),
        HISTORY_PER_ACTIVITY_GOAL_B,
        "B",
        higher_is_better=False,
        digits=0,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Throughput:
    """How fast a batch of runs went, and what it cost this process."""

    runs_per_s: float
    """Runs per second, from the first start to the last result."""
    cpu_ms_per_run: float
    """CPU time of this process (its workers, the Temporal core's threads, the client), per run."""


async def time_stateful_runs(
    client: temporalio.client.Client, workflow: Any, queue: str, runs: int
) -> Throughput:
    """Start ``runs`` runs of ``workflow`` at once and time them until the last result.

    Args:
        client: the client to start the runs with.
        workflow: the workflow's run method.
        queue: the task queue of the worker that runs it.
        runs: how many runs to start.

    Returns:
        The runs' throughput and this process's CPU time per run.
    """
    job = new_job(STATEFUL_PAD, STATEFUL_STEPS)
    cpu = time.process_time()
    start = time.perf_counter()
    handles = await asyncio.gather(
        *(
            client.start_workflow(workflow, job, id=run_id("stateful"), task_queue=queue)
            for _ in range(runs)
        )
    )
    results = await asyncio.gather(*(handle.result() for handle in handles))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    expected = sum(range(STATEFUL_STEPS)) + STATEFUL_STEPS  # each query adds the one jobs row
    if set(results) != {expected}:
        raise AssertionError(f"the stateful runs returned {set(results)}, not {expected}")
    return Throughput(runs / elapsed, cpu / runs * 1000)


async def bench_stateful_run(
    client: temporalio.client.Client, container: SqliteContainer, fleet: SqliteContainer
) -> Target:
    """Compare the throughput of runs of stateful fnact activities with raw ones.

    A run's handler is a SQLite connection. fnact builds it once per run with the
    container's ``handler`` provider from the run's input (over
    `fnact.Settings.inline_args_limit`, so not in the headers: the workflow worker, in
    this process, hands it over) and closes it when the run ends; a raw activity gets
    the run's input as its argument and opens and
    closes a connection in every call.

    Args:
        client: a client of the dev server the workers poll.
        container: the fnact worker's container.
        fleet: the container of the activity-only fnact worker of the fleet-shaped side,
            whose workflows run in another worker: it reads each run's input from history.

    Returns:
        The ``stateful-run`` target: fnact's runs per second over raw's.
    """
    workflows = {
        "fnact": FnactSteps.run,
        "raw": PlainSteps.run,
        "fleet": FnactSteps.run,
        "raw-fleet": PlainSteps.run,
    }
    queues = {"fnact": RUN_QUEUES["fnact"], "raw": RUN_QUEUES["plain"], **FLEET_QUEUES}
    for label in workflows:
        await time_stateful_runs(client, workflows[label], queues[label], STATEFUL_WARM_UP)
    store, cache = container.state_store(), container.run_context()
    builds, closes, reads = store.stats.builds, store.stats.closes, cache.stats.reads
    samples: dict[str, list[Throughput]] = {label: [] for label in workflows}
    for repeat in range(STATEFUL_ROUNDS):
        # Alternate the order so neither side always runs first in a round.
        for label in list(workflows)[:: 1 if repeat % 2 == 0 else -1]:
            samples[label].append(
                await time_stateful_runs(client, workflows[label], queues[label], STATEFUL_RUNS)
            )
    await asyncio.sleep(0.1)  # the last runs' releases, which their ends set off
    builds, closes = store.stats.builds - builds, store.stats.closes - closes
    reads = cache.stats.reads - reads
    fleet_reads = fleet.run_context().stats.reads
    medians = {
        label: statistics.median(s.runs_per_s for s in values) for label, values in samples.items()
    }
    cpu = {
        label: statistics.median(s.cpu_ms_per_run for s in values)
        for label, values in samples.items()
    }
    rounds = {
        label: ", ".join(f"{s.runs_per_s:.1f}" for s in values) for label, values in samples.items()
    }
    ratio = medians["fnact"] / medians["raw"]
    timed = STATEFUL_ROUNDS * STATEFUL_RUNS
    print(
        f"stateful-run: {STATEFUL_RUNS} runs x {STATEFUL_STEPS} activities at once, "
        f"{MSGSPEC.to_payload(new_job(STATEFUL_PAD, STATEFUL_STEPS)).ByteSize():,} B input: "
        f"median runs/s over {STATEFUL_ROUNDS} rounds: fnact {medians['fnact']:.1f}, "
        f"raw {medians['raw']:.1f} (fnact/raw {ratio:.2f}{TIMES}; rounds fnact {rounds['fnact']}, "
        f"raw {rounds['raw']}); this process's CPU per run: fnact {cpu['fnact']:.1f} ms, "
        f"raw {cpu['raw']:.1f} ms"
    )
    print(
        f"stateful-run: fleet-shaped (workflows and activities in two workers each, so no "
        f"eager activity dispatch; fnact reads each input from history): median runs/s fnact "
        f"{medians['fleet']:.1f}, raw {medians['raw-fleet']:.1f} "
        f"(fnact/raw {medians['fleet'] / medians['raw-fleet']:.2f}{TIMES}; rounds fnact "
        f"{rounds['fleet']}, raw {rounds['raw-fleet']}); CPU per run fnact {cpu['fleet']:.1f} "
        f"ms, raw {cpu['raw-fleet']:.1f} ms; fnact read {fleet_reads} histories"
    )
    print(
        f"stateful-run: in the {timed} timed fnact runs fnact read {reads} histories and built "
        f"{builds} handlers, closed {closes} ({len(store)} still held); the raw runs opened and "
        f"closed {timed * STATEFUL_STEPS} connections"
    )
    return Target("stateful-run", ratio, STATEFUL_RUN_GOAL, TIMES, higher_is_better=True)


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``values`` (``0.9`` for the 90th percentile).

    Args:
        values: the samples.
        fraction: the quantile, between 0 and 1.

    Returns:
        The quantile, interpolated between samples.
    """
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def bench_history_read(
    client: temporalio.client.Client, inline_queue: str, read_queue: str
) -> None:
    """Print what reading a run's input from its history costs an activity.

    First the read itself: `fnact._runcontext.read_run`, the call a worker makes, over
    runs with a 10 KiB input that no worker runs. Then one-activity runs, one at a
    time, on a worker whose input limit puts the input in the headers and on one that
    reads it: the difference of the median time from the activity's started to its
    completed event (server times) is what the read adds to the first activity of a
    run. The runs' whole latencies are printed too; they vary more.

    Args:
        client: a client of the dev server the workers poll.
        inline_queue: the queue of a worker that copies the input into the headers.
        read_queue: the queue of a worker that reads the input from the history.
    """
    job = new_job(HISTORY_PADS[0], 1)
    handles = await asyncio.gather(
        *(
            client.start_workflow(FnactSteps.run, job, id=run_id("read"), task_queue=IDLE_QUEUE)
            for _ in range(HISTORY_READS)
        )
    )
    keys = [fnact.RunKey(handle.id, str(handle.result_run_id)) for handle in handles]
    await read_run(client, client.namespace, keys[0])  # warm-up
    latencies: list[float] = []
    for key in keys:
        start = time.perf_counter()
        facts = await read_run(client, client.namespace, key)
        latencies.append((time.perf_counter() - start) * 1000)
        if facts.input is None or MSGSPEC.from_payload(facts.input, Job) != job:
            raise AssertionError(f"run {key}: the history read did not return the run's input")
    print(
        f"history-read: read_run of a {MSGSPEC.to_payload(job).ByteSize() / KIB:.1f} KiB input "
        f"over {HISTORY_READS} runs: median {statistics.median(latencies):.2f} ms, "
        f"p90 {percentile(latencies, 0.9):.2f} ms"
    )
    await asyncio.gather(*(handle.terminate() for handle in handles))

    queues = {"inline": inline_queue, "read": read_queue}
    runs: dict[str, list[float]] = {label: [] for label in queues}
    activities: dict[str, list[float]] = {label: [] for label in queues}
    for repeat in range(-1, FIRST_ACTIVITY_RUNS):  # repeat -1 warms the workers up
        for label in list(queues)[:: 1 if repeat % 2 == 0 else -1]:
            start = time.perf_counter()
            handle = await client.start_workflow(
                FnactSteps.run, job, id=run_id("first"), task_queue=queues[label]
            )
            await handle.result()
            elapsed = (time.perf_counter() - start) * 1000
            if repeat >= 0:
                runs[label].append(elapsed)
                activities[label].append(await activity_ms(handle))
    run_ms = {label: statistics.median(values) for label, values in runs.items()}
    activity = {label: statistics.median(values) for label, values in activities.items()}
    print(
        f"history-read: one-activity runs, one at a time, median ms over {FIRST_ACTIVITY_RUNS}: "
        f"activity started to completed (server times) input inline {activity['inline']:.2f}, "
        f"read from history {activity['read']:.2f} (the read adds "
        f"{activity['read'] - activity['inline']:.2f} ms to a run's first activity); "
        f"whole run inline {run_ms['inline']:.1f}, read {run_ms['read']:.1f}"
    )


async def activity_ms(handle: temporalio.client.WorkflowHandle[Any, Any]) -> float:
    """Return how long the run's first activity ran, by its history's event times.

    Args:
        handle: the finished run.

    Returns:
        The time from its ``ActivityTaskStarted`` to its ``ActivityTaskCompleted`` event, in ms.
    """
    times: dict[int, datetime] = {}
    async for event in handle.fetch_history_events():
        if event.event_type in ACTIVITY_EVENTS and event.event_type not in times:
            times[event.event_type] = event.event_time.ToDatetime(tzinfo=UTC)
    started = times[EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    completed = times[EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    return (completed - started).total_seconds() * 1000


def sqlite_container(path: str, **settings: Any) -> SqliteContainer:
    """Return a container whose handlers open ``path``, with fnact's settings changed.

    Args:
        path: the database file.
        settings: `fnact.Settings` fields to change from their defaults.

    Returns:
        The container.
    """
    container = SqliteContainer()
    container.db_path.override(providers.Object(path))
    if settings:
        container.settings.override(providers.Object(fnact.Settings(**settings)))
    return container


async def bench_run_context() -> list[Target]:
    """Run the run-context measurements on one embedded dev server.

    The fnact worker and the plain worker run in this process side by side, each
    polling its own task queue with its workflows and activities, both with
    ``max_concurrent_activities`` `MAX_CONCURRENT_ACTIVITIES` and the unsandboxed
    workflow runner (this module runs as __main__, which the sandbox cannot
    re-import). Two more fnact workers serve the first-activity comparison.

    Returns:
        The ``history-per-activity`` and ``stateful-run`` targets.
    """
    with tempfile.TemporaryDirectory(prefix="fnact-bench-") as folder:
        path = str(Path(folder) / "bench.sqlite3")
        create_db(path)
        container = sqlite_container(path)
        with fnact.DevServer(ui=False) as server:
            client = await fnact.connect(server.address, use_environment=False)
            fnact_worker = fnact.create_worker(
                client,
                task_queue=RUN_QUEUES["fnact"],
                container=container,
                activities=[fan_fnact, step_fnact],
                workflows=[FnactFanOut, FnactSteps],
                workflow_runner=UnsandboxedWorkflowRunner(),
                max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
            )
            plain_worker = temporalio.worker.Worker(
                client,
                task_queue=RUN_QUEUES["plain"],
                activities=[fan_plain, RawSteps(path).step_raw],
                workflows=[PlainFanOut, PlainSteps],
                workflow_runner=UnsandboxedWorkflowRunner(),
                max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
            )
            first = {
                label: fnact.create_worker(
                    client,
                    task_queue=f"fnact-bench-first-{label}",
                    container=sqlite_container(path, inline_args_limit=limit),
                    activities=[step_fnact],
                    # The "read" side runs the workflow in another worker (and container), as
                    # a fleet does: a workflow worker hands the input to its own activities.
                    workflows=[FnactSteps] if label == "inline" else [],
                    workflow_runner=UnsandboxedWorkflowRunner(),
                )
                for label, limit in (("inline", 1024 * KIB), ("read", 0))
            }
            read_workflows = fnact.create_worker(
                client,
                task_queue="fnact-bench-first-read",
                container=sqlite_container(path, inline_args_limit=0),
                workflows=[FnactSteps],
                workflow_runner=UnsandboxedWorkflowRunner(),
            )
            fleet = sqlite_container(path)
            fleet_workers = [
                fnact.create_worker(
                    client,
                    task_queue=FLEET_QUEUES["fleet"],
                    container=sqlite_container(path),
                    workflows=[FnactSteps],
                    workflow_runner=UnsandboxedWorkflowRunner(),
                ),
                fnact.create_worker(
                    client,
                    task_queue=FLEET_QUEUES["fleet"],
                    container=fleet,
                    activities=[step_fnact],
                    max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
                ),
                temporalio.worker.Worker(
                    client,
                    task_queue=FLEET_QUEUES["raw-fleet"],
                    workflows=[PlainSteps],
                    workflow_runner=UnsandboxedWorkflowRunner(),
                ),
                temporalio.worker.Worker(
                    client,
                    task_queue=FLEET_QUEUES["raw-fleet"],
                    activities=[RawSteps(path).step_raw],
                    max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
                ),
            ]
            async with contextlib.AsyncExitStack() as stack:
                for worker in (fnact_worker, plain_worker, *fleet_workers):
                    await stack.enter_async_context(worker)
                history = await bench_history_per_activity(client)
                stateful = await bench_stateful_run(client, container, fleet)
            async with first["inline"], first["read"], read_workflows:
                await bench_history_read(
                    client, first["inline"].task_queue, first["read"].task_queue
                )
    return [history, stateful]


# --- entry point ---------------------------------------------------------------------------------


async def run_converters() -> list[Target]:
    """Run the converter comparison, which is synchronous, as a benchmark of `main`."""
    return list(bench_converters())


async def run_state_access() -> list[Target]:
    """Run the state-access measurement, which is synchronous, as a benchmark of `main`."""
    return [bench_state_access()]


async def run_state_memory() -> list[Target]:
    """Run the state-memory measurement as a benchmark of `main`."""
    return [await bench_state_memory()]


def time_import(statement: str) -> float:
    """Return the wall time, in ms, of a fresh interpreter running ``statement`` and exiting.

    Bytecode is not written (``PYTHONDONTWRITEBYTECODE=1``): every run reads the same
    files, whatever earlier runs left behind.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True, env=env)
    return (time.perf_counter() - began) * 1000


async def run_import_time() -> list[Target]:
    """Time ``import fnact`` against ``import temporalio.worker, temporalio.client``.

    Each round starts a fresh interpreter for each statement, in rotated order (an
    empty one too, for the interpreter's own start); the target is the ratio of the
    medians over `IMPORT_ROUNDS` rounds. Wall time: a child process has no thread
    CPU time to read, so a busy machine adds noise, which the interleaving shares.
    """
    statements = {
        "python": "pass",
        "temporal": "import temporalio.worker, temporalio.client",
        "fnact": "import fnact",
        "fnact worker": "import fnact; fnact.create_worker",
    }
    times: dict[str, list[float]] = {label: [] for label in statements}
    labels = list(statements)
    for turn in range(IMPORT_ROUNDS):
        for label in rotated(labels, turn):
            times[label].append(time_import(statements[label]))
    ms = {label: statistics.median(values) for label, values in times.items()}
    print(
        f"import-time: median ms over {IMPORT_ROUNDS} fresh interpreters each, bytecode not "
        f"written: python alone {ms['python']:.0f}, import temporalio.worker, temporalio.client "
        f"{ms['temporal']:.0f}, import fnact {ms['fnact']:.0f}, import fnact and its worker "
        f"side (fnact.create_worker) {ms['fnact worker']:.0f} "
        f"({ms['fnact worker'] / ms['temporal']:.2f}{TIMES} the temporalio imports)"
    )
    return [
        Target(
            "import-time",
            ms["fnact"] / ms["temporal"],
            IMPORT_TIME_GOAL,
            TIMES,
            higher_is_better=False,
        )
    ]


async def run_heartbeat_call() -> list[Target]:
    """Run the heartbeat-call measurement (it starts a dev server) as a benchmark of `main`."""
    return [await bench_heartbeat_call()]


BENCHMARKS: dict[str, Callable[[], Awaitable[list[Target]]]] = {
    "added-cost": bench_added_cost,
    "metrics-cost": bench_metrics_cost,
    "converters": run_converters,
    "state-access": run_state_access,
    "state-memory": run_state_memory,
    "heartbeat-call": run_heartbeat_call,
    "import-time": run_import_time,
    "run-context": bench_run_context,  # starts a dev server
}
"""Every benchmark by the name ``--only`` takes, in report order."""
ALIASES = {
    "added-cost-vs-bare": "added-cost",
    "converter-vs-default": "converters",
    "converter-vs-pydantic": "converters",
    "history-per-activity": "run-context",
    "stateful-run": "run-context",
    "history-read": "run-context",
}
"""Target (and context-line) names ``--only`` also takes, by the benchmark that reports them."""


async def main(names: Sequence[str]) -> list[Target]:
    """Run the named benchmarks once each, print their context lines and return the targets.

    Args:
        names: the benchmarks to run, keys of `BENCHMARKS`.

    Returns:
        The targets, in report order.
    """
    targets: list[Target] = []
    for name, benchmark in BENCHMARKS.items():
        if name in names:
            targets.extend(await benchmark())
    return targets


def benchmark_names(value: str) -> list[str]:
    """Parse ``--only``'s comma-separated names into benchmark names.

    Args:
        value: the option's value: benchmark or target names, separated by commas.

    Returns:
        The benchmarks to run.

    Raises:
        argparse.ArgumentTypeError: a name is neither a benchmark's nor a target's.
    """
    names: list[str] = []
    for name in filter(None, (part.strip() for part in value.split(","))):
        name = ALIASES.get(name, name)
        if name not in BENCHMARKS:
            known = ", ".join([*BENCHMARKS, *ALIASES])
            raise argparse.ArgumentTypeError(f"unknown benchmark {name!r} (known: {known})")
        names.append(name)
    if not names:
        raise argparse.ArgumentTypeError("no benchmark named")
    return names


def cli() -> int:
    """Parse the command line, run the benchmarks and print the target lines.

    Returns:
        The exit status: 1 when ``--strict`` is given and a target is missed, else 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when any target is missed")
    parser.add_argument(
        "--only",
        type=benchmark_names,
        default=list(BENCHMARKS),
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)} (or a target's name)",
    )
    options = parser.parse_args()
    started = time.perf_counter()
    targets = asyncio.run(main(options.only))
    print(f"(benchmarks took {time.perf_counter() - started:.1f} s)")
    for target in targets:
        print(target.line())
    return 1 if options.strict and not all(target.met for target in targets) else 0


if __name__ == "__main__":
    sys.exit(cli())
