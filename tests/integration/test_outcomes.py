"""Every activity outcome, end to end on the real dev server."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import temporalio.client
from temporalio.client import WorkflowFailureError

from tests.integration.app import Journal, RunArgs, Scenario
from tests.integration.conftest import Play

pytestmark = pytest.mark.integration


async def test_success_completes_with_the_value(play: Play, journal: Journal) -> None:
    """Success(v) completes the activity with v after one attempt, keeping the state."""
    outcome = await play("multiply", value=21)
    assert (outcome.kind, outcome.value) == ("success", 42)
    assert journal.calls == [("multiply", 1)]
    assert [h.closed for h in journal.handlers] == [0]


async def test_failure_comes_back_typed_and_is_not_retried(play: Play, journal: Journal) -> None:
    """Failure(NotFound) reaches the workflow as NotFound, after one attempt, state released."""
    outcome = await play("lookup", value=-7, attempts=3)
    assert outcome.kind == "failure"
    assert outcome.error_type == "NotFound"
    assert outcome.error == {"key": "-7"}
    assert journal.calls == [("lookup", 1)]
    assert [h.closed for h in journal.handlers] == [1]


async def test_retryable_failure_is_retried_then_returned(play: Play, journal: Journal) -> None:
    """A Fault declaring non_retryable = False is retried up to the policy's attempts."""
    outcome = await play("lookup", value=0, attempts=2)
    assert (outcome.kind, outcome.error_type) == ("failure", "Busy")
    assert journal.calls == [("lookup", 1), ("lookup", 2)]
    # Each Failure releases the run's state; the retry builds it again.
    assert [h.closed for h in journal.handlers] == [1, 1]


async def test_exception_is_retried_and_can_then_succeed(play: Play, journal: Journal) -> None:
    """An exception is a bug path: Temporal retries it and the state survives for the retry."""
    outcome = await play("multiply:2", value=5, attempts=3)
    assert (outcome.kind, outcome.value) == ("success", 10)
    assert journal.calls == [("multiply", 1), ("multiply", 2)]
    assert len(journal.handlers) == 1
    assert journal.handlers[0].closed == 0


async def test_exception_on_final_attempt_releases_state(play: Play, journal: Journal) -> None:
    """An exception on the last allowed attempt fails the activity and releases the state."""
    outcome = await play("multiply:9", value=5, attempts=2)
    assert outcome.kind == "exception"
    assert outcome.error_type == "ApplicationError"
    assert "flaky on attempt 2" in str(outcome.error)
    assert journal.calls == [("multiply", 1), ("multiply", 2)]
    assert [h.closed for h in journal.handlers] == [1]


async def test_cancellation_is_reraised_and_releases_state(
    client: temporalio.client.Client, worker: str, journal: Journal
) -> None:
    """Cancelling the workflow cancels the activity, which re-raises; the state is released."""
    handle = await client.start_workflow(
        Scenario.run,
        RunArgs(scenario="wait_forever"),
        id=f"cancel-{uuid.uuid4().hex[:8]}",
        task_queue=worker,
    )
    for _ in range(100):
        if journal.calls:
            break
        await asyncio.sleep(0.05)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert type(caught.value.cause).__name__ == "CancelledError"
    for _ in range(100):
        if journal.handlers and journal.handlers[0].closed:
            break
        await asyncio.sleep(0.05)
    assert journal.cancelled == 1
    assert [h.closed for h in journal.handlers] == [1]


async def test_activities_see_their_runs_workflow_args(play: Play, journal: Journal) -> None:
    """Each run's activities see that run's own workflow input, decoded to its type."""
    await play("multiply", value=3)
    await play("multiply", value=4)
    assert journal.seen_args == [
        RunArgs(scenario="multiply", value=3),
        RunArgs(scenario="multiply", value=4),
    ]
    assert len(journal.handlers) == 2
