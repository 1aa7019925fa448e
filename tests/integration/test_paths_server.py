"""Output paths on the real dev server: a scheduled run's path has a manual run's shape."""

from __future__ import annotations

import asyncio
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
)

from tests.apps.scenario_app import Outcome, RunArgs, Scenario
from tests.integration.conftest import Play

pytestmark = pytest.mark.integration
PATH_SHAPE = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}/\d{2}/[^/]+/[^/]+$")


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
