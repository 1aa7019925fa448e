"""``metrics-cost``: what fnact's metrics add to an activity call, its outcome counted on a meter.

fnact's adapter built without a meter (Temporal's no-op instruments) against the same
adapter with the instruments of a runtime that serves Prometheus metrics. The target is
the ratio of their medians.
"""

import socket
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import temporalio.testing
from temporalio.common import RawValue
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

import fnact.worker
from benchmarks._models import BenchContainer, Order, quote_fnact
from benchmarks._private import WorkerMetrics, build_adapter
from benchmarks._timing import (
    CALL_ROUNDS,
    TIMES,
    Target,
    scale_to_fastest_rounds,
    timed_call_rounds,
)

METRICS_COST_GOAL = 1.08
"""The adapter with a Prometheus meter over the adapter without one, as a ratio."""


async def bench_metrics_cost() -> list[Target]:
    """Time what fnact's metrics add to an activity call: its outcome counted on a real meter.

    Two sides run fnact's adapter under ``ActivityEnvironment.run``, as ``added-cost``'s
    ``adapter`` side does: one built with no meter (Temporal's no-op instruments), one
    with the instruments of a runtime that serves Prometheus metrics, in interleaved
    rounds scaled as ``added-cost``'s.

    Returns:
        The ``metrics-cost`` target: the median with the meter over the median without
        it, as a ratio.
    """
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{free_port()}"))
    )
    container = BenchContainer()
    metered = WorkerMetrics(runtime.metric_meter, "default", "bench")
    unmetered = build_adapter(quote_fnact.definition, container)
    recorded = build_adapter(quote_fnact.definition, container, metered)
    env = temporalio.testing.ActivityEnvironment()
    env.payload_converter = fnact.worker.data_converter.payload_converter
    raw_value = RawValue(env.payload_converter.to_payload(Order(7, "ada", 3, 2.5)))

    def calling(adapter: Callable[[RawValue], Awaitable[Any]]) -> Callable[[int], Awaitable[None]]:
        async def calls(count: int) -> None:
            for _ in range(count):
                await env.run(adapter, raw_value)

        return calls

    samples = await timed_call_rounds({"no meter": calling(unmetered), "meter": calling(recorded)})
    scaled, _ = scale_to_fastest_rounds(samples)
    us = {label: statistics.median(values) for label, values in scaled.items()}
    print(
        f"metrics-cost: median µs/call of fnact's adapter over {CALL_ROUNDS} rounds: "
        f"no meter {us['no meter']:.2f}, Prometheus meter {us['meter']:.2f}"
    )
    return [
        Target(
            "metrics-cost",
            us["meter"] / us["no meter"],
            METRICS_COST_GOAL,
            TIMES,
            higher_is_better=False,
        )
    ]


def free_port() -> int:
    """Return a TCP port no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
