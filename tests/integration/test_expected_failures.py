"""Expected failures keep the run's state; declared ones release it, on the real dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import temporalio.client

import fnact.worker
from tests.apps.expected_failures_app import (
    Container,
    FanOut,
    Order,
    Renewals,
    check_stock,
    price,
    renew,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def activity_container(
    temporal_client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[Container]:
    """An activity-only worker with its own container, beside a workflow-only worker."""
    container = Container()
    async with (
        fnact.worker.create_worker(
            temporal_client, task_queue=fnact_task_queue, container=Container(),
            workflows=[FanOut, Renewals],
        ),
        fnact.worker.create_worker(
            temporal_client, task_queue=f"{fnact_task_queue}-act", container=container,
            activities=[price, check_stock, renew], max_concurrent_activities=200,
        ),
    ):  # fmt: skip
        yield container


async def test_a_fan_out_with_expected_failures_builds_the_state_once(
    temporal_client: temporalio.client.Client, fnact_task_queue: str, activity_container: Container
) -> None:
    """200 activities, every tenth a Failure from one without state: 1 build, 1 history read."""
    outcomes = await temporal_client.execute_workflow(
        FanOut.run,
        args=[Order("ada"), f"{fnact_task_queue}-act"],
        id=f"fan-out-{uuid.uuid4().hex[:8]}",
        task_queue=fnact_task_queue,
    )
    assert (outcomes.count("failure"), outcomes.count("success")) == (20, 180)
    store = activity_container.state_store()
    assert store.stats.builds == 1
    assert store.stats.releases <= 1  # at most the run's end
    assert activity_container.run_context().stats.reads == 1


async def test_a_declared_fault_releases_the_state_and_the_next_activity_rebuilds_it(
    temporal_client: temporalio.client.Client, fnact_task_queue: str, activity_container: Container
) -> None:
    """A Failure whose fault declares releases_state costs one build after each such failure."""
    outcomes = await temporal_client.execute_workflow(
        Renewals.run,
        args=[Order("ada"), f"{fnact_task_queue}-act"],
        id=f"renewals-{uuid.uuid4().hex[:8]}",
        task_queue=fnact_task_queue,
    )
    assert outcomes == ["success", "failure", "success", "failure", "success"]
    store = activity_container.state_store()
    assert store.stats.builds == 3  # the first, then one after each declared failure
    assert store.stats.releases >= 2
