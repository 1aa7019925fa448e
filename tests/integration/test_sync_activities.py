"""Sync activities and ``max_concurrent`` on a real dev server.

A plain ``def`` activity runs in a thread of the worker's activity executor: the
workflow's cancellation is raised in that thread, the auto-heartbeat keeps a blocked
body alive past its heartbeat timeout, and after a worker process is killed another
resumes from the last checkpoint. ``max_concurrent=3`` holds 50 concurrent tasks to
three at a time, async and sync alike.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType

import fnact
import fnact.state
import fnact.worker
from fnact.exceptions import WorkerConfigurationError
from fnact.worker import DevServer
from tests.apps.sync_app import (
    ACTIVITIES,
    WORKFLOWS,
    BlockUntilCancelled,
    CountUp,
    Crowd,
    Job,
    Probe,
    SleepThrough,
    StartCrowd,
    SyncContainer,
    count_up,
    limited_async,
    limited_sync,
)
from tests.integration.conftest import ChildWorker, eventually

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def sync_worker(
    client: temporalio.client.Client, queue: str, container: SyncContainer, **options: Any
) -> fnact.worker.Worker:
    """Build a worker of the sync app's workflows and activities."""
    return fnact.worker.create_worker(
        client,
        task_queue=queue,
        container=container,
        activities=ACTIVITIES,
        workflows=WORKFLOWS,
        **options,
    )


async def event_types(handle: temporalio.client.WorkflowHandle[object, object]) -> set[int]:
    """Return the types of the run's history events."""
    return {event.event_type async for event in handle.fetch_history_events()}


@pytest.mark.timeout(90)
async def test_cancelling_a_blocking_sync_activity_raises_in_its_thread(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """The workflow cancels a napping sync activity: its thread raises, it ends cancelled."""
    container = SyncContainer()
    probe: Probe = container.probe()
    store: fnact.state.InMemoryStateStore = container.state_store()
    async with sync_worker(client, fnact_task_queue, container) as worker:
        handle = await client.start_workflow(
            BlockUntilCancelled.run,
            Job(seconds=60),
            id=f"sync-cancel-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        await eventually(probe.started.is_set, within=30)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        # The workflow waited for the activity to report its cancellation: the thread is done.
        assert probe.exited.is_set()
        assert probe.seen["cancelled_in_thread"] is True
        assert probe.seen["is_cancelled"] is True
        assert probe.seen["reason"] == "cancel_requested"
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED in await event_types(handle)
        await eventually(lambda: len(store) == 0, within=20)  # the run ended, too
        assert (store.stats.builds, store.stats.releases) == (1, 1)
        executor = worker.config(active_config=True).get("activity_executor")
        assert isinstance(executor, concurrent.futures.ThreadPoolExecutor)
    # The thread saw the attempt's context: Temporal's and fnact's.
    assert probe.seen["thread"].startswith("fnact-activity")
    assert probe.seen["loop_in_thread"] is False
    assert probe.seen["temporal_activity_type"] == "block"
    assert probe.seen["ctx_workflow_id"] == probe.seen["fnact_workflow_id"] == handle.id
    assert executor._shutdown  # fnact's own executor stops with the worker


@pytest.mark.timeout(90)
async def test_a_sync_activity_blocked_past_its_heartbeat_timeout_is_kept_alive(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """One time.sleep of 5 s, heartbeat timeout 2 s: the auto-heartbeat beats from the loop."""
    async with sync_worker(client, fnact_task_queue, SyncContainer()):
        result = await client.execute_workflow(
            SleepThrough.run,
            Job(seconds=5),
            id=f"sync-beat-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    assert result == "slept 5 s in attempt 1"


@pytest.mark.timeout(90)
async def test_without_auto_heartbeat_the_same_block_times_out(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """The control: with auto_heartbeat=False, Temporal's heartbeat timeout ends the attempt."""
    async with sync_worker(client, fnact_task_queue, SyncContainer()):
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(
                SleepThrough.run,
                Job(seconds=5, steps=1),
                id=f"sync-unbeaten-{uuid.uuid4().hex[:8]}",
                task_queue=fnact_task_queue,
            )
    error = failed.value.cause
    assert isinstance(error, ActivityError)
    assert isinstance(error.cause, TimeoutError)
    assert error.cause.type == TimeoutType.HEARTBEAT


def sync_process(server: DevServer, queue: str, log: Path) -> ChildWorker:
    """Start a worker of the sync app's activities in a child process (tests.apps.sync_process)."""
    return ChildWorker("tests.apps.sync_process", server.address, queue, log=log)


def progress_lines(path: Path) -> list[tuple[int, int]]:
    """Return the (attempt, step) lines ``count_up`` appended to ``path``."""
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [(int(attempt), int(step)) for attempt, step in lines]


@pytest.mark.timeout(180)
async def test_a_killed_worker_process_resumes_from_the_last_checkpoint_elsewhere(
    client: temporalio.client.Client,
    temporal_server: DevServer,
    fnact_task_queue: str,
    tmp_path: Path,
    processes: list[ChildWorker],
) -> None:
    """SIGKILL mid-run: another process's retry of the sync activity starts at its checkpoint."""
    activity_queue = f"{fnact_task_queue}-act"
    progress = tmp_path / "progress.txt"
    log = tmp_path / "workers.log"
    await asyncio.to_thread(
        lambda: processes.append(sync_process(temporal_server, activity_queue, log))
    )
    workflows = fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=SyncContainer(), workflows=[CountUp]
    )
    async with workflows:
        handle = await client.start_workflow(
            CountUp.run,
            Job(steps=40, progress_file=str(progress), queue=activity_queue),
            id=f"sync-kill-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        await eventually(lambda: any(step >= 12 for _, step in progress_lines(progress)), 60)
        processes[0].kill()
        reached = max(step for _, step in progress_lines(progress))
        await asyncio.to_thread(
            lambda: processes.append(sync_process(temporal_server, activity_queue, log))
        )
        counted = await asyncio.wait_for(handle.result(), timeout=120)
    assert counted.attempt == 2
    assert counted.total == 40
    # The retry started from a checkpoint the killed attempt sent: not from scratch, and
    # not past what it reached (checkpoints reach the server at most once a second).
    assert 1 <= counted.resumed_from <= reached
    first_steps = [step for attempt, step in progress_lines(progress) if attempt == 2]
    assert first_steps[0] == counted.resumed_from + 1
    assert first_steps[-1] == 40
    assert count_up.definition.is_async is False


@pytest.mark.timeout(120)
@pytest.mark.parametrize("activity", [limited_async, limited_sync], ids=["async", "sync"])
async def test_max_concurrent_runs_at_most_three_of_fifty_at_once(
    client: temporalio.client.Client,
    fnact_task_queue: str,
    activity: fnact.Activity[..., int, fnact.Fault],
) -> None:
    """50 tasks of a max_concurrent=3 activity on a 100-slot worker: peak exactly 3, all 50 done."""
    container = SyncContainer()
    probe: Probe = container.probe()
    limit = activity.definition.concurrency
    assert limit is not None
    assert limit.limit == 3
    waiting: list[int] = []
    async with sync_worker(client, fnact_task_queue, container, max_concurrent_activities=100):
        run = asyncio.ensure_future(
            client.execute_workflow(
                StartCrowd.run,
                Crowd(activity=activity.name, count=50),
                id=f"crowd-{uuid.uuid4().hex[:8]}",
                task_queue=fnact_task_queue,
            )
        )
        while not run.done():
            waiting.append(limit.waiting)
            await asyncio.sleep(0.01)
        results = await run
    assert sorted(results) == [float(n) for n in range(50)]
    assert probe.finished[activity.name] == 50
    assert probe.peak[activity.name] == 3
    assert max(waiting) > 0  # excess tasks did wait, on the worker
    assert (limit.running, limit.waiting) == (0, 0)


@pytest.mark.timeout(120)
async def test_a_task_waiting_for_its_turn_heartbeats(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """max_concurrent=1, two tasks of 4 s with a 2 s heartbeat timeout: the waiting one beats."""
    async with sync_worker(client, fnact_task_queue, SyncContainer()):
        results = await client.execute_workflow(
            StartCrowd.run,
            Crowd(activity="one_at_a_time", count=2, seconds=4),
            id=f"crowd-beat-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    assert results == [4.0, 4.0]


async def test_a_process_pool_executor_is_refused_naming_the_sync_activities(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """create_worker with a ProcessPoolExecutor and sync activities fails, naming them."""
    with (
        concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool,
        pytest.raises(WorkerConfigurationError) as refused,
    ):
        sync_worker(client, fnact_task_queue, SyncContainer(), activity_executor=pool)
    message = str(refused.value)
    assert "tests.apps.sync_app.block" in message
    assert "tests.apps.sync_app.count_up" in message
    assert "ProcessPoolExecutor" in message
    assert "ThreadPoolExecutor" in message


async def test_an_app_thread_pool_is_used_and_kept(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """The app's own ThreadPoolExecutor runs the sync activities and outlives the worker."""
    with concurrent.futures.ThreadPoolExecutor(thread_name_prefix="app-pool") as pool:
        container = SyncContainer()
        probe: Probe = container.probe()
        async with sync_worker(client, fnact_task_queue, container, activity_executor=pool):
            handle = await client.start_workflow(
                BlockUntilCancelled.run,
                Job(seconds=0.2),
                id=f"app-pool-{uuid.uuid4().hex[:8]}",
                task_queue=fnact_task_queue,
            )
            assert await handle.result() == "finished"
        assert probe.seen["thread"].startswith("app-pool")
        assert pool.submit(lambda: 1).result(timeout=5) == 1
