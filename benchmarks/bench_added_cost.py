"""``added-cost``: what fnact adds to one activity call, as temporalio's worker pays it.

fnact's worker path (decode, interceptors, the adapter, encode) against a plain Temporal
activity through the same msgspec converter, a plain activity through Temporal's default
converter, the plain activity awaited directly (``bare``) and a plain activity that converts
nothing (the ``floor``). The target is the ratio of the medians of fnact's worker path and
the plain activity through the same converter; ``added-cost-vs-bare`` is printed for context.
"""

import dataclasses
import statistics
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import temporalio.activity
import temporalio.converter
import temporalio.testing
import temporalio.worker
from temporalio.api.common.v1 import Header, Payload, Payloads
from temporalio.common import RawValue

import fnact.worker
from benchmarks._models import (
    BenchContainer,
    Order,
    OrderClass,
    Quote,
    QuoteClass,
    echo_raw,
    quote_default,
    quote_fnact,
    quote_raw,
)
from benchmarks._private import (
    START_HEADER,
    ActivityDefinition,
    ActivityInboundImpl,
    ActivityOutboundImpl,
    RunHeadersInterceptor,
    build_adapter,
)
from benchmarks._timing import (
    CALL_ROUNDS,
    CALL_STRETCHES,
    CALLS_PER_STRETCH,
    FASTEST_ROUNDS,
    TIMES,
    Target,
    scale_to_fastest_rounds,
    timed_call_rounds,
)

ADDED_COST_GOAL = 1.10
"""fnact's worker path over a plain activity through the same converter, as a ratio."""


async def execute_as_worker(
    fn: Callable[..., Awaitable[Any]],
    args: Sequence[Any],
    headers: Mapping[str, Payload],
    interceptors: Sequence[temporalio.worker.Interceptor],
    info: temporalio.activity.Info,
) -> Any:
    """Run ``fn`` on decoded ``args`` as temporalio's worker does, through its interceptors.

    The end of temporalio's ``_ActivityWorker._execute_activity``: build the
    `ExecuteActivityInput`, chain the worker's interceptors in front of Temporal's own
    last link (`ActivityInboundImpl`, which awaits ``fn(*args)``), initialize
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
    last = ActivityInboundImpl(None, None)  # type: ignore[arg-type]
    impl: temporalio.worker.ActivityInboundInterceptor = last
    for interceptor in reversed(list(interceptors)):
        impl = interceptor.intercept_activity(impl)
    impl.init(ActivityOutboundImpl(None, info))  # type: ignore[arg-type]
    return await impl.execute_activity(input)


def arg_types(fn: Callable[..., Any], payloads: Sequence[Payload]) -> list[type] | None:
    """Return the type hints temporalio's worker decodes ``fn``'s input payloads with.

    Args:
        fn: the registered activity function.
        payloads: its input payloads.

    Returns:
        The definition's argument types, or ``None`` when their number does not match.
    """
    types = ActivityDefinition.must_from_callable(fn).arg_types
    return types if types is not None and len(types) == len(payloads) else None


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
    the figures are medians over `CALL_ROUNDS` rounds, the differences in µs the medians
    of the per-round differences. The unscaled medians are printed too.

    Returns:
        The ``added-cost`` target: the median of ``fnact`` over the median of ``raw
        msgspec``, as a ratio. ``added-cost-vs-bare`` (``fnact`` minus ``bare``, in µs) is
        a context line beside the floor, not a target.
    """
    fast, slow = fnact.worker.data_converter, temporalio.converter.DataConverter.default
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
        f"added-cost: added-cost-vs-bare (context, no goal): fnact worker path over bare "
        f"{over('bare'):+.2f} µs; its floor, a plain activity that converts nothing (RawValue "
        f"in and out, no interceptor), costs {over('bare', 'floor'):+.2f} µs over bare on the "
        f"worker path (decode, Temporal's interceptor chain, encode); fnact's worker path is "
        f"{over('floor'):+.2f} µs over the floor"
    )
    return [
        Target(
            "added-cost",
            us["fnact"] / us["raw msgspec"],
            ADDED_COST_GOAL,
            TIMES,
            higher_is_better=False,
        )
    ]
