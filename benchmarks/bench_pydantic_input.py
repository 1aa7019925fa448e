"""``pydantic-input``: what a pydantic input costs an fnact activity over a msgspec Struct.

fnact's adapter for the per-call activity with its 4-field input as a msgspec `Order`
against the same activity with the input as a pydantic `OrderModel` (same fields, same
body, same `Quote` result): only the input's decoding differs, msgspec's strict decoder
against pydantic's strict ``validate_json``. The target is the ratio of their medians,
reported without a goal; the context lines give both medians, the difference in µs and
the decode alone through fnact's payload converter.
"""

import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import temporalio.testing
from temporalio.common import RawValue

import fnact.worker
from benchmarks._models import (
    BenchContainer,
    Order,
    OrderModel,
    quote_fnact,
    quote_fnact_model,
)
from benchmarks._private import build_adapter
from benchmarks._timing import (
    CALL_ROUNDS,
    TIMES,
    Target,
    median_ns,
    scale_to_fastest_rounds,
    timed_call_rounds,
)

DECODES = 20_000
"""Decodes per timed repeat of the context line's converter-only figures."""


async def bench_pydantic_input() -> list[Target]:
    """Time an fnact activity call with a pydantic input against the same with a Struct.

    Two sides run fnact's adapter under ``ActivityEnvironment.run``, as ``added-cost``'s
    ``adapter`` side does, on the same JSON input payload: one built for `quote_fnact`
    (a msgspec `Order`), one for `quote_fnact_model` (a pydantic `OrderModel`), in
    interleaved rounds scaled as ``added-cost``'s. The decode alone (the payload
    converter's ``from_payloads`` with each type) is timed for context, a median of
    repeats.

    Returns:
        The ``pydantic-input`` target: the median with the pydantic input over the median
        with the Struct, as a ratio, held to no goal.
    """
    container = BenchContainer()
    struct_adapter = build_adapter(quote_fnact.definition, container)
    model_adapter = build_adapter(quote_fnact_model.definition, container)
    converter = fnact.worker.data_converter.payload_converter
    env = temporalio.testing.ActivityEnvironment()
    env.payload_converter = converter
    payload = converter.to_payload(Order(7, "ada", 3, 2.5))
    if converter.to_payload(OrderModel(order_id=7, customer="ada", quantity=3, unit_price=2.5)) != (
        payload
    ):
        raise AssertionError("the Struct and the model inputs are not the same JSON")
    raw_value = RawValue(payload)
    struct_result = await env.run(struct_adapter, raw_value)
    model_result = await env.run(model_adapter, raw_value)
    if struct_result != model_result:
        raise AssertionError("the two activities do not return the same payload")

    def calling(adapter: Callable[[RawValue], Awaitable[Any]]) -> Callable[[int], Awaitable[None]]:
        async def calls(count: int) -> None:
            for _ in range(count):
                await env.run(adapter, raw_value)

        return calls

    samples = await timed_call_rounds(
        {"struct": calling(struct_adapter), "model": calling(model_adapter)}
    )
    scaled, _ = scale_to_fastest_rounds(samples)
    us = {label: statistics.median(values) for label, values in scaled.items()}
    added = statistics.median(
        model - struct for model, struct in zip(scaled["model"], scaled["struct"], strict=True)
    )
    decode_us = {
        label: median_ns(lambda hint=hint: converter.from_payloads([payload], [hint]), DECODES)
        / 1000
        for label, hint in (("struct", Order), ("model", OrderModel))
    }
    print(
        f"pydantic-input: median µs/call of fnact's adapter over {CALL_ROUNDS} rounds: "
        f"msgspec Struct input {us['struct']:.2f}, pydantic model input {us['model']:.2f} "
        f"({added:+.2f} µs per call)"
    )
    print(
        f"pydantic-input: decode alone through fnact's payload converter, median µs: "
        f"msgspec Struct {decode_us['struct']:.2f}, pydantic model {decode_us['model']:.2f} "
        f"(strict validate_json)"
    )
    return [Target("pydantic-input", us["model"] / us["struct"], None, TIMES, False)]
