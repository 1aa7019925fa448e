"""The run-end watcher: a worker that never ran the workflow releases a run's state when it ends."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import temporalio.client

from tests.apps.run_context_app import Load, Waiter
from tests.integration.conftest import (
    eventually,
    run_context_container,
    run_fan_out,
    workflow_and_activity_workers,
)

pytestmark = pytest.mark.integration


async def test_activity_only_worker_releases_when_the_run_ends(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """A worker that never runs the workflow releases the run's state soon after it ends."""
    activity_container = run_context_container(run_end_check_interval=timedelta(seconds=1))
    async with workflow_and_activity_workers(
        client, fnact_task_queue, activity_container
    ) as activity_queue:
        load = Load(name="remote", pad="x" * 3000, fan_out=3, queue=activity_queue)
        handle = await run_fan_out(client, fnact_task_queue, load)
        store = activity_container.state_store()
        ledger = activity_container.ledger()
        await eventually(lambda: len(store) == 0, within=5)
        assert ledger.closes == ledger.builds == {f"{handle.id}/{handle.result_run_id}": 1}
        assert len(activity_container.run_context()) == 0


async def test_terminated_run_is_released_on_the_activity_worker(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """A run terminated while an activity-only worker holds its state is released there."""
    container = run_context_container(run_end_check_interval=timedelta(seconds=1))
    async with workflow_and_activity_workers(client, fnact_task_queue, container) as activity_queue:
        load = Load(name="ended", pad="x" * 3000, fan_out=2, queue=activity_queue)
        handle = await client.start_workflow(
            Waiter.run, load, id=f"term-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        ledger = container.ledger()
        await eventually(lambda: len(ledger.builds) == 1)
        store = container.state_store()
        stats = container.run_context().stats
        checks_before = stats.end_checks
        await asyncio.sleep(3)
        assert len(store) == 1  # still running: kept
        # The cost of holding a run: one server call per check interval (1 s here).
        assert 2 <= stats.end_checks - checks_before <= 4
        await handle.terminate()
        await eventually(lambda: len(store) == 0, within=5)
        assert ledger.closes == ledger.builds
