"""Output paths, payload size and secrets, checked on the real dev server and its history."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from datetime import timedelta

import pytest
import temporalio.client
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowFailureError,
)

import fnact
from tests.apps.scenario_app import Login, Outcome, RunArgs, Scenario, SecretLogin
from tests.integration.conftest import Play

pytestmark = pytest.mark.integration
SENTINEL = "SENTINEL-7f3a9c"
PATH_SHAPE = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}/\d{2}/[^/]+/[^/]+$")


async def test_result_over_the_payload_limit_fails_once(play: Play) -> None:
    """A 3 MB result fails at once, non-retryable, with its size; Temporal would retry it."""
    outcome = await play("huge", value=3 * 1024 * 1024, attempts=3)
    assert outcome.kind == "exception"
    assert "'huge' result is 3,145,764 bytes, over the 2,097,152-byte payload limit" in str(
        outcome.error
    )


async def test_scheduled_and_manual_runs_have_paths_of_one_shape(
    client: temporalio.client.Client, worker: str, play: Play
) -> None:
    """A run started by a schedule gets an output path of the same shape as a manual run."""
    manual = await play("where_am_i")
    schedule_id = f"sched-{uuid.uuid4().hex[:8]}"
    handle = await client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                Scenario.run,
                RunArgs("where_am_i"),
                id=f"scheduled-{schedule_id}",
                task_queue=worker,
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        ),
        trigger_immediately=True,
    )
    try:
        run_id = None
        for _ in range(200):
            recent = (await handle.describe()).info.recent_actions
            if recent:
                run_id = recent[0].action.first_execution_run_id
                workflow_id = recent[0].action.workflow_id
                break
            await asyncio.sleep(0.05)
        assert run_id is not None
        scheduled = await client.get_workflow_handle(
            workflow_id, run_id=run_id, result_type=Outcome
        ).result()
    finally:
        await handle.delete()
    assert PATH_SHAPE.match(manual.value), manual.value
    assert PATH_SHAPE.match(scheduled.value), scheduled.value
    assert scheduled.value.split("/")[5].startswith(f"scheduled-{schedule_id}")


async def test_secret_stays_out_of_logs_heartbeats_failures_and_history(
    client: temporalio.client.Client, worker: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A sentinel secret appears only in the run's input payloads, nowhere else."""
    caplog.set_level(logging.DEBUG)
    handle = await client.start_workflow(
        SecretLogin.run,
        Login(user="ada", password=fnact.Secret(SENTINEL)),
        id=f"secret-{uuid.uuid4().hex[:8]}",
        task_queue=worker,
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    failure_text = f"{caught.value} {caught.value.cause!r} {caught.value.cause}"
    assert "LoginRejected" in failure_text
    assert SENTINEL not in failure_text
    assert caplog.records, "the activity logged"
    for record in caplog.records:
        assert SENTINEL not in record.getMessage()
        assert SENTINEL not in repr(record.__dict__)
    leaking = set()
    async for event in handle.fetch_history_events():
        if SENTINEL.encode() in event.SerializeToString():
            leaking.add(event.WhichOneof("attributes"))
    assert leaking == {
        "workflow_execution_started_event_attributes",
        "activity_task_scheduled_event_attributes",
    }, "only inputs carry the secret (encrypt them with a payload codec)"
