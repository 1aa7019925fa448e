"""Strict decoding of activity and workflow inputs on the real dev server."""

from __future__ import annotations

import uuid

import pytest
import temporalio.client
from temporalio.client import WorkflowFailureError

from tests.apps.scenario_app import Outcome, RawCall, Step

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("bad_input", "path"),
    [
        ({"value": 1.5}, "$.value"),
        ({"value": "7"}, "$.value"),
        ({}, "value"),
        ({"value": 1, "fail_until_attempt": None}, "$.fail_until_attempt"),
    ],
)
async def test_bad_activity_input_fails_once_without_retry(
    client: temporalio.client.Client, worker: str, bad_input: dict[str, object], path: str
) -> None:
    """An input that does not decode fails the activity as non-retryable, naming the field."""
    outcome: Outcome = await client.execute_workflow(
        RawCall.run,
        {"activity": "echo", "input": bad_input},
        id=f"raw-{uuid.uuid4().hex[:8]}",
        task_queue=worker,
    )
    assert outcome.kind == "exception"
    assert outcome.error_type == "InvalidActivityInput"
    assert outcome.value == [True, "NON_RETRYABLE_FAILURE"]
    assert "activity 'echo': invalid input" in outcome.error
    assert path in outcome.error


async def test_good_activity_input_round_trips(
    client: temporalio.client.Client, worker: str
) -> None:
    """A valid input decodes to the activity's Struct and the result encodes back."""
    outcome: Outcome = await client.execute_workflow(
        RawCall.run,
        {"activity": "echo", "input": {"value": 3}},
        id=f"raw-{uuid.uuid4().hex[:8]}",
        task_queue=worker,
    )
    assert outcome == Outcome(kind="success", value={"value": 3, "fail_until_attempt": 0})


@pytest.mark.parametrize(("bad_input", "path"), [({"value": 1.5}, "$.value"), ({}, "value")])
async def test_bad_workflow_input_fails_the_workflow(
    client: temporalio.client.Client, worker: str, bad_input: dict[str, object], path: str
) -> None:
    """A workflow input that does not decode fails the run cleanly instead of looping."""
    handle = await client.start_workflow(
        "Strict", bad_input, id=f"strict-{uuid.uuid4().hex[:8]}", task_queue=worker
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert path in str(caught.value.cause)
    description = await handle.describe()
    assert description.status == temporalio.client.WorkflowExecutionStatus.FAILED


async def test_typed_workflow_input_is_accepted(
    client: temporalio.client.Client, worker: str
) -> None:
    """A valid typed workflow input is decoded to its Struct."""
    result = await client.execute_workflow(
        "Strict",
        Step(value=9),
        id=f"strict-{uuid.uuid4().hex[:8]}",
        task_queue=worker,
        result_type=int,
    )
    assert result == 9
