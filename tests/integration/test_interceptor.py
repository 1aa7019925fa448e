"""The run-headers interceptor: the run's start, and its input when small, ride to its activities.

A bigger input is handed to the activities of the process that started the run, else
read once from the run's history; headers built by handlers that run before the
workflow still carry the run's facts.
"""

from __future__ import annotations

import uuid

import pytest
import temporalio.client
import temporalio.common
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateStage

from tests.apps.run_context_app import Load, RunContextContainer, SignalFirst, UpdateFirst
from tests.integration.conftest import (
    HEADER_BUDGET,
    assert_seen,
    header_bytes,
    one_build_per_run,
    reads_or_handoffs,
    run_context_container,
    run_context_worker,
    run_fan_out,
    scheduled_events,
)

pytestmark = pytest.mark.integration


async def test_small_input_travels_inline_and_needs_no_read(
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """An input under Settings.inline_args_limit rides in the headers: no history read."""
    queue, container = single_worker
    load = Load(name="small", fan_out=3)
    handle = await run_fan_out(client, queue, load)
    events = await scheduled_events(handle)
    fields = events[0].activity_task_scheduled_event_attributes.header.fields
    assert set(fields) == {"fnact-run-start", "fnact-workflow-args"}
    assert reads_or_handoffs(container) == 0


async def test_inline_limit_zero_always_reads_the_history(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """With inline_args_limit=0 headers never carry the input; one read serves the run."""
    container = run_context_container(inline_args_limit=0)
    async with run_context_worker(client, fnact_task_queue, container):
        load = Load(name="tiny", fan_out=4)
        handle = await run_fan_out(client, fnact_task_queue, load)
        events = await scheduled_events(handle)
        assert {
            frozenset(e.activity_task_scheduled_event_attributes.header.fields) for e in events
        } == {frozenset({"fnact-run-start"})}
        assert reads_or_handoffs(container) == 1


async def test_workflow_worker_hands_the_input_to_its_own_activities(
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """Activities in the process that started the run get its input without a history read."""
    queue, container = single_worker
    load = Load(name="local", pad="l" * 10_000, fan_out=20)
    handle = await run_fan_out(client, queue, load)
    stats = container.run_context().stats
    assert (stats.reads, stats.handoffs) == (0, 1)
    one_build_per_run(container)
    events = await scheduled_events(handle)
    assert max(header_bytes(e) for e in events) <= HEADER_BUDGET


async def test_signal_with_start_handler_gets_the_run_state(
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """An activity started by a signal handler of the first workflow task sees the run's input."""
    queue, container = single_worker
    load = Load(name="signalled", pad="s" * 5000)
    handle = await client.start_workflow(
        SignalFirst.run,
        load,
        id=f"sig-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        start_signal="go",
        start_signal_args=[0],
    )
    assert_seen(await handle.result(), load, 1)
    one_build_per_run(container)
    (event,) = await scheduled_events(handle)
    assert set(event.activity_task_scheduled_event_attributes.header.fields) == {"fnact-run-start"}
    completed = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    ]
    assert len(completed) == 1
    assert reads_or_handoffs(container) == 1


async def test_update_with_start_and_early_update_get_the_run_state(
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """Update-with-start and an update sent right after the start both see the run's input."""
    queue, _ = single_worker
    load = Load(name="updated", pad="u" * 5000)
    workflow_id = f"upd-{uuid.uuid4().hex[:8]}"
    start = temporalio.client.WithStartWorkflowOperation(
        UpdateFirst.run,
        load,
        id=workflow_id,
        task_queue=queue,
        id_conflict_policy=temporalio.common.WorkflowIDConflictPolicy.FAIL,
    )
    first = await client.execute_update_with_start_workflow(
        UpdateFirst.fetch, 0, start_workflow_operation=start
    )
    assert (first.name, first.pad) == ("updated", 5000)
    await (await start.workflow_handle()).signal(UpdateFirst.finish)

    other = Load(name="early", pad="e" * 5000)
    handle = await client.start_workflow(
        UpdateFirst.run, other, id=f"{workflow_id}-2", task_queue=queue
    )
    update = await handle.start_update(
        UpdateFirst.fetch, 1, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    early = await update.result()
    assert (early.name, early.pad) == ("early", 5000)
    await handle.signal(UpdateFirst.finish)
    assert await handle.result() == "early"
