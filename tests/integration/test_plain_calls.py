"""An fnact activity given to temporalio.workflow's own calls fails its run at once, on any worker.

temporalio resolves the activity's definition before any interceptor runs, and a
missing one is a ``TypeError`` that fails only the workflow task, retried until the
run times out. fnact's activity raises a non-retryable ``ApplicationError`` there
instead, so the run fails on its first workflow task, naming the call to use.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client
import temporalio.worker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import fnact
import fnact.worker
from tests.apps.plain_calls_app import ACTIVITIES, FORMS, WORKFLOWS, FnactCall, PlainCall

pytestmark = pytest.mark.integration

PROMPTLY = 15.0
"""Seconds within which a refused run must have failed; a failing task keeps it open longer."""
RUN_TIMEOUT = timedelta(minutes=2)
"""The runs' execution timeout, so a regression fails the test instead of hanging the server."""

DEFINITION = "__temporal_activity_definition"
"""The attribute temporalio reads an activity's definition from."""

BuildWorker = Callable[[temporalio.client.Client, str], temporalio.worker.Worker]


def fnact_worker(client: temporalio.client.Client, queue: str) -> temporalio.worker.Worker:
    """Build fnact's worker of the app, its interceptor and the activity included."""
    return fnact.worker.create_worker(
        client,
        task_queue=queue,
        container=fnact.Container(),
        activities=ACTIVITIES,
        workflows=WORKFLOWS,
    )


def plain_worker(client: temporalio.client.Client, queue: str) -> temporalio.worker.Worker:
    """Build a temporalio worker of the app's workflows, without fnact's plugin or interceptor.

    Its sandbox passes through the libraries fnact's types come from, as the plugin would.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "fnact", "returns", "msgspec", "dependency_injector"
    )
    return temporalio.worker.Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )


@pytest.fixture(params=[fnact_worker, plain_worker], ids=["fnact-worker", "plain-worker"])
async def queue(
    request: pytest.FixtureRequest, client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[str]:
    """Run the app's workflows on fnact's worker, then on a plain one; yield the task queue."""
    build: BuildWorker = request.param
    async with build(client, fnact_task_queue):
        yield fnact_task_queue


async def run_plain_call(
    client: temporalio.client.Client, queue: str, form: str
) -> tuple[temporalio.client.WorkflowHandle[Any, Any], ApplicationError]:
    """Run `PlainCall` with ``form``; return its handle and the error the run failed with."""
    handle = await client.start_workflow(
        PlainCall.run,
        form,
        id=f"plain-{form}-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        execution_timeout=RUN_TIMEOUT,
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await asyncio.wait_for(handle.result(), PROMPTLY)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError), repr(cause)
    return handle, cause


@pytest.mark.parametrize("form", FORMS)
async def test_a_plain_call_fails_the_run_on_its_first_workflow_task_naming_fnacts_call(
    client: temporalio.client.Client, queue: str, form: str
) -> None:
    """Each plain call form fails the run at once, non-retryable, naming fnact's call."""
    handle, error = await run_plain_call(client, queue, form)
    assert error.type == "PlainActivityCall"
    assert error.non_retryable
    assert "fnact.workflow.execute_activity" in error.message
    assert "'load_page'" in error.message
    assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED
    types = [event.event_type async for event in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in types
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in types
    assert EventType.EVENT_TYPE_MARKER_RECORDED not in types  # no local activity ran either
    assert types[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED


async def test_fnacts_call_of_the_same_activity_completes(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """fnact.workflow.execute_activity runs the activity on the same worker: value and Failure."""
    async with fnact_worker(client, fnact_task_queue):
        texts = [
            await client.execute_workflow(
                FnactCall.run,
                url,
                id=f"fnact-call-{uuid.uuid4().hex[:8]}",
                task_queue=fnact_task_queue,
                execution_timeout=RUN_TIMEOUT,
            )
            for url in ("a", "")
        ]
    assert texts == ["<html>a</html>", "missing"]


def test_outside_a_workflow_the_activity_has_no_temporal_definition() -> None:
    """Outside a workflow the definition attribute is absent, as temporalio's lookup expects."""
    activity = ACTIVITIES[0]
    assert getattr(activity, DEFINITION, None) is None
    with pytest.raises(AttributeError, match=r"fnact\.worker\.create_worker"):
        getattr(activity, DEFINITION)
