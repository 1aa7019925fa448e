"""Every activity outcome, end to end on the real dev server."""

from __future__ import annotations

import pytest
import temporalio.client

from tests.apps.scenario_app import Journal
from tests.integration.conftest import Play, cancel_mid_activity

pytestmark = pytest.mark.integration


async def test_success_completes_with_the_value(play: Play, journal: Journal) -> None:
    """Success(v) completes the activity with v after one attempt."""
    outcome = await play("multiply", value=21)
    assert (outcome.kind, outcome.value) == ("success", 42)
    assert journal.calls == [("multiply", 1)]


async def test_failure_comes_back_typed_and_is_not_retried(play: Play, journal: Journal) -> None:
    """Failure(NotFound) reaches the workflow as NotFound after one attempt."""
    outcome = await play("lookup", value=-7, attempts=3)
    assert outcome.kind == "failure"
    assert outcome.error_type == "NotFound"
    assert outcome.error == {"key": "-7"}
    assert journal.calls == [("lookup", 1)]


async def test_retryable_failure_is_retried_then_returned(play: Play, journal: Journal) -> None:
    """A Fault declaring non_retryable = False is retried up to the policy's attempts."""
    outcome = await play("lookup", value=0, attempts=2)
    assert (outcome.kind, outcome.error_type) == ("failure", "Busy")
    assert journal.calls == [("lookup", 1), ("lookup", 2)]


async def test_exception_is_retried_and_can_then_succeed(play: Play, journal: Journal) -> None:
    """An exception is a bug path: Temporal retries it, and a later attempt may succeed."""
    outcome = await play("multiply:2", value=5, attempts=3)
    assert (outcome.kind, outcome.value) == ("success", 10)
    assert journal.calls == [("multiply", 1), ("multiply", 2)]


async def test_exception_on_final_attempt_fails_the_activity(play: Play, journal: Journal) -> None:
    """An exception on the last allowed attempt reaches the workflow as an exception."""
    outcome = await play("multiply:9", value=5, attempts=2)
    assert outcome.kind == "exception"
    assert outcome.error_type == "ApplicationError"
    assert "flaky on attempt 2" in str(outcome.error)
    assert journal.calls == [("multiply", 1), ("multiply", 2)]


async def test_cancellation_is_reraised_not_swallowed(
    client: temporalio.client.Client, worker: str, journal: Journal
) -> None:
    """Cancelling the workflow cancels the activity, which re-raises; the run is cancelled."""
    handle, failure = await cancel_mid_activity(client, worker, journal, "wait_forever")
    assert type(failure.cause).__name__ == "CancelledError"
    assert journal.cancelled == 1
    description = await handle.describe()
    assert description.status == temporalio.client.WorkflowExecutionStatus.CANCELED


async def test_start_to_close_timeout_fails_the_activity(play: Play, journal: Journal) -> None:
    """An attempt that overruns its start-to-close timeout fails with a timeout."""
    outcome = await play("oversleep", attempts=1)
    assert (outcome.kind, outcome.error_type) == ("exception", "TimeoutError")
    assert journal.calls == [("oversleep", 1)]
