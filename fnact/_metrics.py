"""fnact's own metrics, recorded through Temporal's runtime metric meter.

They go wherever the client's `temporalio.runtime.Runtime` sends Temporal's own
metrics (a Prometheus endpoint, an OpenTelemetry collector, a buffer); with no
metrics configured the meter is Temporal's no-op one. Labels are bounded: the
namespace, task queue, activity type, outcome and error type, never a workflow or
run id. `METRICS` names every metric; the "Operate fnact in production" page
lists them with what to alert on.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import temporalio.activity
import temporalio.client
import temporalio.common
import temporalio.runtime
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from fnact._attempt import cancellation_reason
from fnact._state import StateStats, StateStore

__all__ = [
    "METRICS",
    "ActivityMetrics",
    "LoopMetrics",
    "StateMetrics",
    "WorkerMetrics",
    "classify",
    "meter_of",
]

METRICS: Mapping[str, str] = {
    "fnact_activity_outcomes": "counter: activity attempts by activity_type, outcome and "
    "error_type",
    "fnact_heartbeats": "counter: heartbeats fnact sent to Temporal, by activity_type",
    "fnact_checkpoint_bytes": "histogram: encoded size of each new checkpoint sent, by "
    "activity_type",
    "fnact_run_state_builds": "counter: run states built",
    "fnact_run_state_hits": "counter: attempts that found their run's state built",
    "fnact_run_state_refreshes": "counter: run states rebuilt because they were older than "
    "Settings.state_ttl",
    "fnact_run_state_releases": "counter: run states released (the run ended or failed)",
    "fnact_run_state_evictions": "counter: run states dropped idle or over Settings.state_max_runs",
    "fnact_run_states": "gauge: run states held",
    "fnact_event_loop_lag": "histogram: how late the worker's event loop ran a timer "
    "(milliseconds; seconds with durations_as_seconds)",
    "fnact_event_loop_blocked": "counter: stalls the blocked-loop watchdog warned about",
}
"""Every metric fnact records, with its kind and meaning."""

OUTCOMES = (
    "success", "failure", "retryable_failure", "exception", "cancelled", "worker_shutdown",
    "paused", "reset",
)  # fmt: skip
"""The values of the ``outcome`` label of ``fnact_activity_outcomes``."""

_BENIGN = ApplicationErrorCategory.BENIGN


def meter_of(client: temporalio.client.Client | None) -> temporalio.common.MetricMeter:
    """Return the metric meter of ``client``'s runtime (or of Temporal's default runtime)."""
    runtime = client.service_client.config.runtime if client is not None else None
    return (runtime or temporalio.runtime.Runtime.default()).metric_meter


def classify(exc: BaseException) -> tuple[str, str]:
    """Return the ``(outcome, error_type)`` labels of an attempt that ended with ``exc``.

    fnact raises a returned `Failure` as a benign `ApplicationError`, so a benign
    error counts as a failure, whoever raised it.
    """
    if isinstance(exc, asyncio.CancelledError):
        reason = cancellation_reason()
        if reason in ("paused", "reset", "worker_shutdown"):
            return reason, ""
        return "cancelled", ""
    if isinstance(exc, ApplicationError):
        kind = exc.type or "ApplicationError"
        if exc.category is _BENIGN:
            return ("failure" if exc.non_retryable else "retryable_failure"), kind
        if kind == "WorkerShutdown":
            return "worker_shutdown", ""
        return "exception", kind
    return "exception", type(exc).__name__


def _record_on_span(outcome: str, error_type: str, exc: BaseException | None) -> None:
    """Put the outcome on the current OpenTelemetry span, when OpenTelemetry is in use.

    A terminal `Failure` also sets the span's status to ERROR: the activity failed
    for good. A retryable one leaves it UNSET, as Temporal leaves benign errors.
    """
    trace: Any = sys.modules.get("opentelemetry.trace")
    if trace is None:  # never imported: no tracer can be recording
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("fnact.outcome", outcome)
    if error_type:
        span.set_attribute("fnact.error_type", error_type)
    if outcome == "failure" and exc is not None:
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"{error_type}: {exc}"))


class ActivityMetrics:
    """The instruments one activity records to, bound to its labels once."""

    __slots__ = ("_bound", "_outcomes", "checkpoint_bytes", "heartbeats", "success")

    def __init__(self, worker: WorkerMetrics, activity_type: str) -> None:
        labels = {"activity_type": activity_type}
        self._outcomes = worker.outcomes.with_additional_attributes(labels)
        self.success = self._bound_to("success", "")
        self._bound: dict[tuple[str, str], temporalio.common.MetricCounter] = {}
        self.heartbeats = worker.heartbeats.with_additional_attributes(labels)
        self.checkpoint_bytes = worker.checkpoint_bytes.with_additional_attributes(labels)

    def _bound_to(self, outcome: str, error_type: str) -> temporalio.common.MetricCounter:
        return self._outcomes.with_additional_attributes(
            {"outcome": outcome, "error_type": error_type}
        )

    def succeeded(self) -> None:
        """Count a success (and note it on the span, when tracing)."""
        self.success.add(1)
        if "opentelemetry.trace" in sys.modules:
            _record_on_span("success", "", None)

    def ended(self, exc: BaseException) -> None:
        """Count an attempt that ended with ``exc`` (and note it on the span, when tracing)."""
        outcome, error_type = classify(exc)
        key = (outcome, error_type)
        counter = self._bound.get(key)
        if counter is None:
            counter = self._bound[key] = self._bound_to(outcome, error_type)
        counter.add(1)
        _record_on_span(outcome, error_type, exc)


class WorkerMetrics:
    """fnact's instruments on one worker's meter, labelled with its namespace and task queue."""

    def __init__(
        self, meter: temporalio.common.MetricMeter, namespace: str, task_queue: str
    ) -> None:
        meter = meter.with_additional_attributes({"namespace": namespace, "task_queue": task_queue})
        self.meter = meter
        self.outcomes = meter.create_counter(
            "fnact_activity_outcomes", METRICS["fnact_activity_outcomes"]
        )
        self.heartbeats = meter.create_counter("fnact_heartbeats", METRICS["fnact_heartbeats"])
        self.checkpoint_bytes = meter.create_histogram(
            "fnact_checkpoint_bytes", METRICS["fnact_checkpoint_bytes"], "By"
        )

    @classmethod
    def noop(cls) -> WorkerMetrics:
        """Return instruments that record nothing (a worker with no runtime meter)."""
        return cls(temporalio.common.MetricMeter.noop, "", "")

    def for_activity(self, activity_type: str) -> ActivityMetrics:
        """Return the instruments of ``activity_type``."""
        return ActivityMetrics(self, activity_type)


_STATE_COUNTERS = (
    ("builds", "fnact_run_state_builds"),
    ("hits", "fnact_run_state_hits"),
    ("refreshes", "fnact_run_state_refreshes"),
    ("releases", "fnact_run_state_releases"),
    ("evictions", "fnact_run_state_evictions"),
)


class StateMetrics:
    """Publishes a state store's `StateStats` as counters (their growth) and a live-states gauge.

    Any `StateStore` keeps its counts in ``stats``; reading them now and then
    costs the attempts nothing.
    """

    def __init__(self, meter: temporalio.common.MetricMeter, store: StateStore) -> None:
        self.store = store
        self._counters = {
            field: meter.create_counter(name, METRICS[name]) for field, name in _STATE_COUNTERS
        }
        self._published = dict.fromkeys(self._counters, 0)
        self._gauge = meter.create_gauge("fnact_run_states", METRICS["fnact_run_states"])

    def publish(self) -> None:
        """Add what the store's counters grew by since the last call, and set the gauge."""
        stats: StateStats = self.store.stats
        for field, counter in self._counters.items():
            value = getattr(stats, field, 0)
            grown = value - self._published[field]
            if grown > 0:
                counter.add(grown)
                self._published[field] = value
        self._gauge.set(len(self.store))

    async def run(self, interval: timedelta) -> None:
        """Publish every ``interval`` until cancelled, and once more then."""
        try:
            while True:
                self.publish()
                await asyncio.sleep(interval.total_seconds())
        finally:
            self.publish()


class LoopMetrics:
    """The event loop's lag histogram and blocked-loop counter, for `LoopWatchdog`."""

    def __init__(self, meter: temporalio.common.MetricMeter) -> None:
        self.lag = meter.create_histogram_timedelta(
            "fnact_event_loop_lag", METRICS["fnact_event_loop_lag"], "ms"
        )
        self.blocked = meter.create_counter(
            "fnact_event_loop_blocked", METRICS["fnact_event_loop_blocked"]
        )
