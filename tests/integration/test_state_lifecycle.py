"""Run state on the real dev server: builds, refreshes, releases and closes per outcome."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client

import fnact
import fnact.state
import fnact.testing
from tests.apps.scenario_app import Chain, Container, Continuing, Journal, RunArgs, Scenario
from tests.integration.conftest import Play, cancel_mid_activity, counts, eventually, start_worker

pytestmark = pytest.mark.integration

ONE_RUN = {"builds": 1, "refreshes": 0, "releases": 1, "closes": 1, "live": 0}


@pytest.mark.parametrize(
    ("scenario", "value", "attempts", "expected"),
    [
        pytest.param("multiply", 3, 1, ONE_RUN, id="success"),
        pytest.param("lookup", -1, 3, ONE_RUN, id="failure"),
        pytest.param("multiply:2", 3, 3, ONE_RUN, id="exception-with-attempts-left"),
        pytest.param("multiply:9", 3, 2, ONE_RUN, id="exception-on-final-attempt"),
        pytest.param("oversleep", 1, 1, ONE_RUN, id="start-to-close-timeout"),
        pytest.param("lookup", 0, 2, ONE_RUN, id="retryable-failure-keeps-state-across-attempts"),
        pytest.param(
            "multiply,advance_clock,multiply", 15, 1,
            {**ONE_RUN, "builds": 2, "refreshes": 1, "closes": 2},
            id="refresh-at-15-minutes",
        ),
        pytest.param(
            "multiply,advance_clock,multiply", 14, 1, ONE_RUN, id="no-refresh-before-15-minutes"
        ),
    ],
)  # fmt: skip
async def test_each_outcome_builds_once_and_releases_once(
    play: Play,
    store: fnact.state.InMemoryStateStore,
    journal: Journal,
    scenario: str,
    value: int,
    attempts: int,
    expected: dict[str, int],
) -> None:
    """Each outcome builds the run's state once (per attempt that needs it) and closes it once."""
    await play(scenario, value=value, attempts=attempts)
    await eventually(lambda: counts(store) == expected)
    assert all(h.closed == 1 for h in journal.handlers)


async def test_cancellation_releases_once(
    client: temporalio.client.Client,
    worker: str,
    store: fnact.state.InMemoryStateStore,
    journal: Journal,
) -> None:
    """A cancelled run's state is released and its handler closed exactly once."""
    await cancel_mid_activity(client, worker, journal, "wait_forever")
    await eventually(lambda: counts(store) == ONE_RUN)
    assert [h.closed for h in journal.handlers] == [1]


async def test_graceful_shutdown_releases_and_retries_elsewhere(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """Shutting a worker down mid-activity releases its state; another worker retries the run."""
    first, second = Container(), Container()
    handle = None
    async with start_worker(
        client, fnact_task_queue, first, graceful_shutdown_timeout=timedelta(milliseconds=200)
    ):
        handle = await client.start_workflow(
            Scenario.run,
            RunArgs("heartbeat_for", value=15, attempts=3),
            id=f"shutdown-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        await eventually(lambda: bool(first.journal().calls))
    assert counts(first.state_store()) == ONE_RUN
    async with start_worker(client, fnact_task_queue, second):
        outcome = await handle.result()
        await eventually(lambda: counts(second.state_store()) == ONE_RUN)
    assert outcome.kind == "success"
    assert outcome.value == 2, "the retry is the second attempt, not a recorded success"
    assert first.journal().calls == [("heartbeat_for", 1)]
    assert second.journal().calls == [("heartbeat_for", 2)]


async def test_two_runs_of_one_workflow_id_one_after_the_other(
    play: Play, store: fnact.state.InMemoryStateStore, journal: Journal
) -> None:
    """A second run of the same workflow id builds a fresh state with its own arguments."""
    await play("multiply", value=1, id="same-id-sequential")
    await play("multiply", value=2, id="same-id-sequential")
    await eventually(lambda: counts(store)["releases"] == 2)
    assert [a.value for a in journal.seen_args] == [1, 2]
    assert counts(store)["builds"] == 2


async def test_two_runs_of_one_workflow_id_at_the_same_time(
    client: temporalio.client.Client,
    worker: str,
    store: fnact.state.InMemoryStateStore,
    journal: Journal,
) -> None:
    """A run that replaces a still-running run of the same id never sees the first's state."""
    workflow_id = f"same-id-{uuid.uuid4().hex[:8]}"
    first = await client.start_workflow(
        Scenario.run, RunArgs("wait_forever", value=1), id=workflow_id, task_queue=worker
    )
    await eventually(lambda: len(journal.seen_args) == 1)
    second = await client.start_workflow(
        Scenario.run,
        RunArgs("multiply", value=2),
        id=workflow_id,
        task_queue=worker,
        id_conflict_policy=temporalio.common.WorkflowIDConflictPolicy.TERMINATE_EXISTING,
    )
    assert first.result_run_id != second.result_run_id
    outcome = await second.result()
    assert outcome.value == 4
    assert [a.value for a in journal.seen_args] == [1, 2]
    assert len(journal.handlers) == 2
    assert journal.handlers[0] is not journal.handlers[1]


async def run_to_end(
    client: temporalio.client.Client, queue: str, workflow: Any, args: RunArgs
) -> Any:
    """Run ``workflow`` with ``args`` on ``queue`` under a fresh id; return its result."""
    return await client.execute_workflow(
        workflow, args, id=f"run-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


async def test_continue_as_new_starts_a_fresh_state(
    client: temporalio.client.Client, worker: str, store: fnact.state.InMemoryStateStore
) -> None:
    """Each run after continue-as-new builds its own state and sees its own arguments."""
    result = await run_to_end(client, worker, Continuing.run, RunArgs("continue", 0, 3))
    assert result == [2, 2]
    await eventually(lambda: counts(store) == {**ONE_RUN, "builds": 3, "releases": 3, "closes": 3})


@pytest.mark.slow
async def test_hundred_chained_activities_see_the_right_arguments(
    client: temporalio.client.Client, worker: str, store: fnact.state.InMemoryStateStore
) -> None:
    """100 chained activities each see their own input and the run's workflow arguments."""
    result = await run_to_end(client, worker, Chain.run, RunArgs("chain", value=7, attempts=100))
    assert result == [[n, 7] for n in range(100)]
    await eventually(lambda: counts(store) == ONE_RUN)


async def test_idle_state_expires_without_more_activity(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """A state whose run never reports its end is dropped once idle past the expiry."""
    container = Container()
    clock = fnact.testing.FakeClock()
    container.clock.override(clock)
    container.settings.override(fnact.Settings(state_idle_expiry=timedelta(seconds=2)))
    store = container.state_store()
    async with start_worker(client, fnact_task_queue, container):
        key = fnact.state.RunKey("orphan", "run")

        async def build() -> tuple[object, object]:
            return object(), None

        await store.get(key, build)
        assert len(store) == 1
        clock.advance(timedelta(seconds=3))
        await eventually(lambda: len(store) == 0, within=5)
    assert store.stats.evictions == 1
