"""Pause, unpause and reset with the `temporal` CLI: the checkpoint and the run's state are kept."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import temporalio.client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

import fnact.worker
from fnact._cli.watch.model import read_activity
from fnact.worker import DevServer, find_temporal_cli
from tests.apps.pause_app import JOURNAL, Container, Job, ScanAll, scan
from tests.prometheus import free_port, scrape_until, value

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def until(condition: Callable[[], bool], what: str, within: float = 30) -> None:
    """Wait for ``condition``, failing with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def cli(server: DevServer, *args: str) -> None:
    """Run a `temporal activity` command against the session's server."""
    command = [str(find_temporal_cli()), "activity", *args, "--address", server.address]
    result = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def metrics_address() -> str:
    """Where the module's runtime serves its metrics."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def runtime(metrics_address: str) -> Runtime:
    """One runtime for the module, serving its metrics to Prometheus."""
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics_address))
    )


@pytest.fixture
async def scanning(
    temporal_server: DevServer, fnact_task_queue: str, runtime: Runtime
) -> AsyncIterator[tuple[temporalio.client.Client, Container]]:
    """A worker of the scan activity on a client whose runtime serves Prometheus metrics."""
    JOURNAL.starts.clear()
    JOURNAL.endings.clear()
    JOURNAL.rows.clear()
    client = await fnact.worker.connect(
        temporal_server.address, use_environment=False, runtime=runtime
    )
    container = Container()
    async with fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=container,
        activities=[scan], workflows=[ScanAll],
    ):  # fmt: skip
        yield client, container


async def pending_state(handle: temporalio.client.WorkflowHandle[ScanAll, int]) -> str:
    described = await handle.describe()
    pending = described.raw_description.pending_activities
    return read_activity(handle.run_id or "", pending[0]).state if pending else "none"


async def test_a_pause_keeps_the_checkpoint_and_the_state_and_unpause_resumes_from_it(
    temporal_server: DevServer,
    scanning: tuple[temporalio.client.Client, Container],
    fnact_task_queue: str,
    metrics_address: str,
) -> None:
    """Paused mid-scan, the attempt ends as `paused`; unpaused, it resumes at its checkpoint."""
    client, container = scanning
    workflow_id = f"pause-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        ScanAll.run, Job(rows=60), id=workflow_id, task_queue=fnact_task_queue
    )
    await until(lambda: len(JOURNAL.rows) >= 10, "ten rows scanned")
    await cli(temporal_server, "pause", "--activity-id", "scan", "--workflow-id", workflow_id)
    await until(lambda: JOURNAL.endings == ["paused"], "the attempt to end by the pause")
    paused_at = JOURNAL.rows[-1]  # the row in progress: its checkpoint is paused_at
    state = await pending_state(handle)
    assert state == "paused"
    await cli(temporal_server, "unpause", "--activity-id", "scan", "--workflow-id", workflow_id)
    assert await handle.result() == 60
    assert JOURNAL.starts == [(1, 0), (2, paused_at)]
    assert container.state_store().stats.builds == 1  # no state rebuilt across the pause
    labels = {"activity_type": "scan", "task_queue": fnact_task_queue}
    samples = await asyncio.to_thread(
        scrape_until,
        f"http://{metrics_address}/metrics",
        lambda s: value(s, "fnact_activity_outcomes", outcome="success", **labels) == 1,
    )
    assert value(samples, "fnact_activity_outcomes", outcome="paused", **labels) == 1
    assert value(samples, "fnact_activity_outcomes", outcome="cancelled", **labels) == 0
    assert value(samples, "fnact_activity_outcomes", outcome="exception", **labels) == 0


async def test_a_reset_starts_from_scratch_and_tells_the_body(
    temporal_server: DevServer,
    scanning: tuple[temporalio.client.Client, Container],
    fnact_task_queue: str,
) -> None:
    """A reset ends the attempt with ctx.cancellation_reason 'reset'; the next starts at row 0."""
    client, container = scanning
    workflow_id = f"reset-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        ScanAll.run, Job(rows=40), id=workflow_id, task_queue=fnact_task_queue
    )
    await until(lambda: len(JOURNAL.rows) >= 10, "ten rows scanned")
    await cli(
        temporal_server, "reset", "--activity-id", "scan", "--workflow-id", workflow_id,
        "--clear-heartbeat-details",
    )  # fmt: skip
    assert await handle.result() == 40
    assert JOURNAL.endings == ["reset"]
    # From scratch: the checkpoint is gone, so the next attempt starts at row 0 again.
    assert [first_row for _, first_row in JOURNAL.starts] == [0, 0]
    assert container.state_store().stats.builds == 1
