"""The workflow side: activity handles, fan-out, local activities and SDK options."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import temporalio.client
from temporalio.api.enums.v1 import EventType

import fnact
import fnact.worker
from tests.apps.workflow_api_app import (
    ACTIVITIES,
    UNLUCKY,
    WORKFLOWS,
    CancelNap,
    Job,
    LocalNotes,
    LocalReport,
    Noted,
    Outcome,
    Squares,
    WithOptions,
    WorkflowApiContainer,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def container() -> WorkflowApiContainer:
    """Return a fresh container for one test."""
    return WorkflowApiContainer()


@pytest.fixture
async def queue(
    client: temporalio.client.Client, container: WorkflowApiContainer, fnact_task_queue: str
) -> AsyncIterator[str]:
    """Run a worker of the app's workflows and activities; yield its task queue."""
    worker = fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=ACTIVITIES,
        workflows=WORKFLOWS,
    )
    async with worker:
        yield fnact_task_queue


def new_id(prefix: str) -> str:
    """Return a fresh workflow id."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_start_activity_handles_fan_out_with_gather(
    client: temporalio.client.Client, queue: str
) -> None:
    """Twenty handles gathered give twenty Results in order, the one Failure typed."""
    outcomes = await client.execute_workflow(
        Squares.run, Job(name="fan", count=20), id=new_id("squares"), task_queue=queue
    )
    assert outcomes == [
        Outcome(n=n, error_type="Unlucky", error_n=n) if n == UNLUCKY else Outcome(n=n, value=n * n)
        for n in range(20)
    ]


async def test_local_activity_uses_the_run_state(
    client: temporalio.client.Client, queue: str, container: WorkflowApiContainer
) -> None:
    """Local activities see the run's args in ctx.state (built once) and return typed Failures."""
    handle = await client.start_workflow(
        LocalNotes.run, Job(name="local"), id=new_id("local"), task_queue=queue
    )
    report = await handle.result()
    assert report == LocalReport(
        notes=[
            Noted(n=1, job="local", local=True),
            Noted(n=2, job="local", local=True),
            Noted(n=3, job="local", local=False),
        ],
        refused=Outcome(n=UNLUCKY, error_type="Unlucky", error_n=UNLUCKY),
    )
    assert container.ledger().builds == {f"{handle.id}/{handle.result_run_id}": 1}
    kinds = [e.event_type async for e in handle.fetch_history_events()]
    assert kinds.count(EventType.EVENT_TYPE_MARKER_RECORDED) == 3  # three local activities
    assert kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1


async def test_sdk_options_reach_the_scheduled_event(
    client: temporalio.client.Client, queue: str
) -> None:
    """Priority, summary, activity id and schedule-to-start timeout are recorded as given, once."""
    handle = await client.start_workflow(
        WithOptions.run, Job(name="opts", count=7), id=new_id("opts"), task_queue=queue
    )
    assert await handle.result() == [49, 49, 49]  # handle awaited twice, then the SDK's
    [event] = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    attributes = event.activity_task_scheduled_event_attributes
    assert attributes.priority.priority_key == 2
    assert attributes.activity_id == "square-7"
    assert attributes.schedule_to_start_timeout.ToSeconds() == 30
    summary = client.data_converter.payload_converter.from_payload(event.user_metadata.summary, str)
    assert summary == "square 7"


async def test_cancelling_the_handle_cancels_the_activity(
    client: temporalio.client.Client, queue: str
) -> None:
    """handle.cancel() makes awaiting the handle raise ActivityError caused by cancellation."""
    result = await client.execute_workflow(
        CancelNap.run, Job(name="nap"), id=new_id("nap"), task_queue=queue
    )
    assert result == "CancelledError done=True"
