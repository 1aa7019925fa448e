"""``fnact worker`` passes a spec's client options on: a runtime with Prometheus metrics."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from fnact.worker import DevServer
from tests.cli.test_worker import start_worker
from tests.prometheus import free_port, scrape_until

METRICS_APP = """
import dataclasses, os
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from examples.progress import spec as progress_spec

def spec():
    metrics = PrometheusConfig(bind_address=os.environ["METRICS_ADDRESS"])
    runtime = Runtime(telemetry=TelemetryConfig(metrics=metrics))
    return dataclasses.replace(progress_spec(), runtime=runtime)
"""


def read_metrics(url: str) -> str:
    """Fetch ``url`` until it lists a ``temporal_`` series (or 10 seconds pass)."""
    samples = scrape_until(url, lambda found: any(n.startswith("temporal_") for n, _ in found))
    return "\n".join(name for name, _ in samples)


@pytest.mark.integration
async def test_spec_runtime_serves_prometheus_metrics(
    temporal_server: DevServer, fnact_task_queue: str, tmp_path: Path
) -> None:
    """A WorkerSpec's runtime reaches the worker's client: its endpoint serves temporal_ series."""
    (tmp_path / "metrics_app.py").write_text(METRICS_APP)
    address = f"127.0.0.1:{free_port()}"
    process, line = await start_worker(
        "metrics_app:spec", "--address", temporal_server.address,
        "--task-queue", fnact_task_queue, stderr=tmp_path / "stderr.log",
        PYTHONPATH=str(tmp_path), METRICS_ADDRESS=address,
    )  # fmt: skip
    try:
        body = await asyncio.to_thread(read_metrics, f"http://{address}/metrics")
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert line.startswith(f"worker polling task queue {fnact_task_queue!r} on ")
    assert any(series.startswith("temporal_") for series in body.splitlines()), body[:500]
    assert code == 0


def test_spec_client_interceptors_reach_the_client_fnact_worker_connects() -> None:
    """A TracingInterceptor in WorkerSpec.client_interceptors is passed to the client.

    Temporal applies a client interceptor that is also a worker interceptor to the
    workers built on that client, as `tests/integration/test_observability.py` shows.
    """
    from temporalio.contrib.opentelemetry import TracingInterceptor

    import fnact
    import fnact.worker
    from fnact._cli.worker import _client_options

    tracing = TracingInterceptor()
    spec = fnact.worker.WorkerSpec(
        task_queue="q", container=fnact.Container(), client_interceptors=[tracing]
    )
    for cluster in (True, False):
        assert list(_client_options(spec, cluster=cluster)["interceptors"]) == [tracing]
