"""fnact's metrics and span outcomes from a real worker: a Success, a Failure and a raise."""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

import fnact
import fnact.worker
from tests.apps.observability_app import (
    Container,
    Observed,
    Report,
    Tables,
    crash,
    read_table,
    scan,
)
from tests.prometheus import Samples, free_port, scrape_until, value

# --8<-- [end:imports]

pytestmark = pytest.mark.integration
ACTIVITIES = [scan, read_table, crash]
EXPECTED = Report(scanned="sales: 4 rows", failure="TableMissing", crashed="ApplicationError")


@pytest.fixture
def container(tmp_path: Path) -> Container:
    """Return the app's container, writing outputs under the test's folder."""
    container = Container()
    container.settings.override(providers.Object(fnact.Settings(output_root=tmp_path)))
    return container


@pytest.fixture(scope="module")
def metrics_address() -> str:
    """The address of the Prometheus endpoint of the module's runtime."""
    return f"127.0.0.1:{free_port()}"


# --8<-- [start:runtime]
@pytest.fixture(scope="module")
def runtime(metrics_address: str) -> Runtime:
    """A Temporal runtime that serves its metrics, fnact's among them, to Prometheus."""
    metrics = PrometheusConfig(bind_address=metrics_address)  # e.g. "0.0.0.0:9464"
    runtime = Runtime(telemetry=TelemetryConfig(metrics=metrics))
    return runtime


# --8<-- [end:runtime]


# --8<-- [start:connect]
@pytest.fixture
async def metered_client(
    client: temporalio.client.Client, runtime: Runtime
) -> temporalio.client.Client:
    """A client of the test server on the metered runtime."""
    address = client.service_client.config.target_host
    client = await fnact.worker.connect(address, runtime=runtime)  # its workers record there too
    return client


# --8<-- [end:connect]


async def run_observed(client: temporalio.client.Client, container: Container, queue: str) -> None:
    """Run the app's workflow on a worker of ``client`` and check what it saw."""
    async with fnact.worker.create_worker(
        client, task_queue=queue, container=container, activities=ACTIVITIES, workflows=[Observed]
    ):
        report = await client.execute_workflow(
            Observed.run, Tables(database="sales"), id=f"observed-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )  # fmt: skip
    assert report == EXPECTED


def _done(samples: Samples) -> bool:
    # The state counters are published once a second: wait for the run's release.
    return value(samples, "fnact_run_state_releases") >= 1


async def test_outcomes_states_and_heartbeats_are_scraped_from_the_worker(
    metered_client: temporalio.client.Client,
    container: Container,
    fnact_task_queue: str,
    metrics_address: str,
) -> None:
    """Success, Failure and a raise are counted apart, with bounded labels, beside Temporal's."""
    queue = fnact_task_queue
    await run_observed(metered_client, container, queue)
    # The runtime outlives the worker: its endpoint still serves what the worker recorded.
    url = f"http://{metrics_address}/metrics"
    samples = await asyncio.to_thread(scrape_until, url, _done)
    here = {"task_queue": queue, "namespace": metered_client.namespace}
    outcomes = {
        (dict(labels)["activity_type"], dict(labels)["outcome"], dict(labels)["error_type"]): v
        for (name, labels), v in samples.items()
        if name == "fnact_activity_outcomes" and dict(labels)["task_queue"] == queue
    }
    assert outcomes == {
        ("scan", "success", ""): 1,
        ("read_table", "failure", "TableMissing"): 1,
        ("crash", "exception", "RuntimeError"): 1,
    }
    assert value(samples, "fnact_heartbeats", activity_type="scan", **here) >= 1
    assert value(samples, "fnact_checkpoint_bytes_count", activity_type="scan", **here) >= 1
    # 4 checkpoints of {"next":N} are 10 bytes each: every one sent is counted at its size.
    sent = value(samples, "fnact_checkpoint_bytes_count", activity_type="scan", **here)
    assert value(samples, "fnact_checkpoint_bytes_sum", activity_type="scan", **here) == 10 * sent
    # scan built the run's state; read_table found it, and its terminal Failure released it.
    assert value(samples, "fnact_run_state_builds") == 1
    assert value(samples, "fnact_run_state_hits") == 1
    assert value(samples, "fnact_run_state_releases") == 1
    assert value(samples, "fnact_run_state_evictions") == 0
    assert value(samples, "fnact_run_states") == 0
    assert value(samples, "fnact_event_loop_lag_count") > 0
    assert value(samples, "fnact_event_loop_blocked") == 0
    # Temporal's own series come out of the same endpoint.
    assert value(samples, "temporal_activity_execution_latency_count", task_queue=queue) == 3
    fnact_labels = {k for (n, ls) in samples if n.startswith("fnact_") for k, _ in ls}
    assert not fnact_labels & {"workflow_id", "run_id", "activity_id"}, fnact_labels


# --8<-- [start:tracing]
async def test_span_of_each_activity_carries_its_outcome(
    client: temporalio.client.Client, container: Container, fnact_task_queue: str
) -> None:
    """With Temporal's TracingInterceptor, a Failure's span says so; a terminal one is ERROR."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode
    from temporalio.contrib.opentelemetry import TracingInterceptor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # yours exports to your collector instead
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    address = client.service_client.config.target_host
    tracing = TracingInterceptor(provider.get_tracer("scans-worker"))
    traced = await fnact.worker.connect(address, interceptors=[tracing])  # and its workers
    # --8<-- [end:tracing]
    await run_observed(traced, container, fnact_task_queue)
    spans = {s.name: s for s in exporter.get_finished_spans() if s.name.startswith("RunActivity:")}
    assert set(spans) == {"RunActivity:scan", "RunActivity:read_table", "RunActivity:crash"}
    scanned, failed, crashed = (spans[f"RunActivity:{n}"] for n in ("scan", "read_table", "crash"))
    for span in (scanned, failed, crashed):
        assert span.attributes is not None
    assert scanned.attributes["fnact.outcome"] == "success"
    assert "fnact.error_type" not in scanned.attributes
    assert scanned.status.status_code is StatusCode.UNSET
    assert failed.attributes["fnact.outcome"] == "failure"
    assert failed.attributes["fnact.error_type"] == "TableMissing"
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description is not None
    assert failed.status.description.startswith("TableMissing: ")
    assert crashed.attributes["fnact.outcome"] == "exception"
    assert crashed.attributes["fnact.error_type"] == "RuntimeError"
    assert crashed.status.status_code is StatusCode.ERROR
