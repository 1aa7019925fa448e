"""fnact's metrics: how an attempt's end is labelled, the span it marks, the state counters."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig

import fnact
import fnact.state
import fnact.testing
from fnact._metrics import METRICS, LoopMetrics, StateMetrics, WorkerMetrics, classify

BENIGN = ApplicationErrorCategory.BENIGN


@pytest.mark.parametrize(
    ("error", "labels"),
    [
        (ApplicationError("gone", type="NotFound", non_retryable=True, category=BENIGN),
         ("failure", "NotFound")),
        (ApplicationError("busy", type="Busy", category=BENIGN), ("retryable_failure", "Busy")),
        (ApplicationError("down", type="WorkerShutdown"), ("worker_shutdown", "")),
        (ApplicationError("bad input", type="InvalidActivityInput", non_retryable=True),
         ("exception", "InvalidActivityInput")),
        (ValueError("bug"), ("exception", "ValueError")),
        (asyncio.CancelledError(), ("cancelled", "")),
    ],
)  # fmt: skip
def test_an_attempt_end_is_labelled_by_outcome_and_error_type(
    error: BaseException, labels: tuple[str, str]
) -> None:
    """Returned Failures (benign errors) are failures; raises are exceptions, by type."""
    assert classify(error) == labels


def _buffered() -> tuple[Runtime, MetricBuffer]:
    buffer = MetricBuffer(1000)
    return Runtime(telemetry=TelemetryConfig(metrics=buffer)), buffer


def test_outcome_counters_carry_bounded_labels() -> None:
    """Each count names the namespace, task queue, activity type, outcome and error type."""
    runtime, buffer = _buffered()
    metrics = WorkerMetrics(runtime.metric_meter, "default", "reports").for_activity("export")
    metrics.succeeded()
    metrics.ended(ApplicationError("busy", type="Busy", category=BENIGN))
    metrics.ended(ApplicationError("busy", type="Busy", category=BENIGN))
    counts = [
        (dict(u.attributes), u.value)
        for u in buffer.retrieve_updates()
        if u.metric.name == "fnact_activity_outcomes"
    ]
    base = {
        "service_name": "temporal-core-sdk",
        "namespace": "default",
        "task_queue": "reports",
        "activity_type": "export",
    }
    assert counts == [
        ({**base, "outcome": "success", "error_type": ""}, 1),
        ({**base, "outcome": "retryable_failure", "error_type": "Busy"}, 1),
        ({**base, "outcome": "retryable_failure", "error_type": "Busy"}, 1),
    ]


async def test_state_counters_publish_what_the_store_did_since_the_last_look() -> None:
    """Builds, hits, refreshes, releases and evictions are added as they grow; the gauge is set."""
    runtime, buffer = _buffered()
    store = fnact.state.InMemoryStateStore(clock=fnact.testing.FakeClock())
    publisher = StateMetrics(runtime.metric_meter, store)
    key = fnact.state.RunKey("wf", "run")

    async def build() -> tuple[object, None]:
        return object(), None

    async with store.lease(key, build):
        pass
    await store.get(key, build)
    publisher.publish()
    await store.release(key)
    publisher.publish()
    publisher.publish()  # nothing grew: nothing is added
    updates = [(u.metric.name, u.value) for u in buffer.retrieve_updates()]
    assert [u for u in updates if u[0] != "fnact_run_states"] == [
        ("fnact_run_state_builds", 1),
        ("fnact_run_state_hits", 1),
        ("fnact_run_state_releases", 1),
    ]
    assert [v for n, v in updates if n == "fnact_run_states"] == [1, 0, 0]


async def test_every_recorded_metric_is_listed() -> None:
    """METRICS, which the operations page documents, names each instrument fnact records to."""
    runtime, buffer = _buffered()
    meter = runtime.metric_meter
    clock = fnact.testing.FakeClock()
    store = fnact.state.InMemoryStateStore(
        clock=clock, ttl=timedelta(minutes=1), idle_expiry=timedelta(minutes=2)
    )

    async def build() -> tuple[object, None]:
        return object(), None

    key = fnact.state.RunKey("wf", "run")
    await store.get(key, build)  # a build
    await store.get(key, build)  # a hit
    clock.advance(timedelta(seconds=90))
    await store.get(key, build)  # a refresh
    clock.advance(timedelta(minutes=3))
    await store.sweep()  # an eviction
    await store.get(key, build)
    await store.release(key)
    StateMetrics(meter, store).publish()
    loop = LoopMetrics(meter)
    loop.blocked.add(1)
    loop.lag.record(timedelta(milliseconds=1))
    metrics = WorkerMetrics(meter, "ns", "q").for_activity("a")
    metrics.succeeded()
    metrics.heartbeats.add(1)
    metrics.checkpoint_bytes.record(1)
    recorded = {u.metric.name for u in buffer.retrieve_updates()}
    assert recorded == set(METRICS)


def test_a_retryable_failure_marks_the_span_but_leaves_its_status_unset() -> None:
    """Only a terminal Failure sets ERROR; a retryable one is an expected, retried outcome."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import StatusCode

    tracer = TracerProvider().get_tracer("test")
    metrics = WorkerMetrics.noop().for_activity("export")
    with tracer.start_as_current_span("RunActivity:export") as span:
        metrics.ended(ApplicationError("busy", type="Busy", category=BENIGN))
    assert span.attributes == {"fnact.outcome": "retryable_failure", "fnact.error_type": "Busy"}
    assert span.status.status_code is StatusCode.UNSET


def test_the_operations_page_documents_every_metric_and_outcome() -> None:
    """Each metric fnact records, and each outcome label, is in the operations guide's tables."""
    from pathlib import Path

    from fnact._metrics import OUTCOMES

    page = Path(__file__).parents[2] / "docs/how-to/operate-in-production.md"
    text = page.read_text()
    for name in METRICS:
        assert f"| `{name}` |" in text, name
    for outcome in OUTCOMES:
        assert f"| `{outcome}` |" in text, outcome


async def test_a_blocked_loop_is_counted_and_shows_in_the_lag() -> None:
    """The watchdog's stall counts once in fnact_event_loop_blocked; its lag is recorded."""
    from fnact._worker._watchdog import LoopWatchdog

    runtime, buffer = _buffered()
    watchdog = LoopWatchdog(0.2, LoopMetrics(runtime.metric_meter))
    watchdog.start()
    try:
        await asyncio.sleep(0.1)
        time.sleep(0.6)  # noqa: ASYNC251 - the blocking call under test
        await asyncio.sleep(0.2)
    finally:
        watchdog.stop()
    updates = buffer.retrieve_updates()
    assert [u.value for u in updates if u.metric.name == "fnact_event_loop_blocked"] == [1]
    lags = [u.value for u in updates if u.metric.name == "fnact_event_loop_lag"]
    assert max(lags) >= 500  # ms: the tick the blocking call held back
    assert min(lags) < 100
