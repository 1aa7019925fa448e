"""When an activity-only worker process releases an ended run's state, and what asking costs it."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import temporalio.client

import fnact
import fnact.state
import fnact.testing
import fnact.worker
from fnact._worker._run_end import BATCH, RunEndWatcher
from fnact.worker import DevServer
from tests.apps.run_end_app import Hold, Job
from tests.integration.conftest import ChildWorker

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RELEASE_BOUND = 10.0
"""Seconds within which a worker releases an ended run's state, by default (what users rely on)."""
DEADLINE = 60.0
"""Seconds a test waits for a condition before it fails (generous, for a busy machine)."""


class ActivityProcess(ChildWorker):
    """A `tests.apps.run_end_app` worker process, and the status file it keeps up to date."""

    def __init__(
        self, server: DevServer, queue: str, folder: Path, env: dict[str, str] | None = None
    ) -> None:
        self.status_file = folder / f"activities-{uuid.uuid4().hex[:6]}.json"
        super().__init__(
            "tests.apps.run_end_app", server.address, queue, str(self.status_file),
            env=env, log=self.status_file.with_suffix(".log"), clean_exit=True,
        )  # fmt: skip

    def status(self) -> dict[str, Any]:
        """Return the process's latest status."""
        while True:
            try:
                result: dict[str, Any] = json.loads(self.status_file.read_text())
                return result
            except FileNotFoundError:  # not written yet
                time.sleep(0.05)

    def calls(self, kind: str, since: float = 0.0) -> list[tuple[float, str, int]]:
        """Return the run-end calls of ``kind`` made after ``since`` (wall time)."""
        calls = self.status()["calls"]
        return [(at, of, named) for at, of, named in calls if of == kind and at > since]


@pytest.fixture
def start_process(temporal_server: DevServer, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Return ``start(queue, **env)``, which starts an activity process; stop them after."""
    started: list[ActivityProcess] = []

    def start(queue: str, **env: str) -> ActivityProcess:
        process = ActivityProcess(temporal_server, queue, tmp_path, env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@asynccontextmanager
async def workflow_worker(client: temporalio.client.Client, queue: str) -> AsyncIterator[None]:
    """Run `Hold` on ``queue`` in this process; its activities run in the activity process."""
    async with fnact.worker.create_worker(client, task_queue=queue, workflows=[Hold]):
        yield


async def until(check: Callable[[], bool], what: str, within: float = DEADLINE) -> None:
    """Wait until ``check()`` is true, polling; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


async def hold_runs(
    client: temporalio.client.Client, queue: str, process: ActivityProcess, count: int
) -> list[temporalio.client.WorkflowHandle[Any, Any]]:
    """Start ``count`` runs of `Hold` and wait until the process holds the state of each."""
    handles = await asyncio.gather(
        *(
            client.start_workflow(
                Hold.run, Job(f"run-{i}", f"{queue}-act"), id=f"{queue}-{i}", task_queue=queue
            )
            for i in range(count)
        )
    )
    await until(lambda: process.status()["live"] == count, f"{count} run states held")
    return handles


async def close_time(handle: temporalio.client.WorkflowHandle[Any, Any]) -> float:
    """Return when the run closed, from the server (wall time)."""
    description = await handle.describe()
    assert description.close_time is not None
    return description.close_time.timestamp()


async def release_latencies(
    handles: list[temporalio.client.WorkflowHandle[Any, Any]], process: ActivityProcess
) -> list[float]:
    """Wait until the process released every run; return each release's delay after the close."""
    for handle in handles:
        await handle.result()
    await until(
        lambda: process.status()["live"] == 0 and process.status()["known_runs"] == 0,
        "every ended run's state released",
    )
    closes = process.status()["closes"]
    return [closes[f"{h.id}/{h.result_run_id}"] - await close_time(h) for h in handles]


def rounds(calls: list[tuple[float, str, int]]) -> list[list[tuple[float, str, int]]]:
    """Group calls into the checks that made them: a check's calls are less than 1 s apart."""
    grouped: list[list[tuple[float, str, int]]] = []
    for call in sorted(calls):
        if grouped and call[0] - grouped[-1][-1][0] < 1.0:
            grouped[-1].append(call)
        else:
            grouped.append([call])
    return grouped


@pytest.mark.timeout(120)
async def test_activity_only_process_releases_each_ended_run_within_10_s(
    client: temporalio.client.Client, fnact_task_queue: str, start_process: Any
) -> None:
    """By default, runs ending all over a check interval are each released within 10 s."""
    process = start_process(f"{fnact_task_queue}-act")
    async with workflow_worker(client, fnact_task_queue):
        handles = await hold_runs(client, fnact_task_queue, process, 12)
        for handle in handles:  # one every 0.5 s: the ends fall all over a check interval
            await handle.signal(Hold.finish)
            await asyncio.sleep(0.5)
        latencies = await release_latencies(handles, process)
    print(f"released {min(latencies):.1f} to {max(latencies):.1f} s after the run closed")
    assert max(latencies) <= RELEASE_BOUND
    status = process.status()
    assert status["closes"].keys() == status["builds"].keys()
    assert status["end_checks"] == status["end_check_lists"]  # no per-run call


@pytest.mark.timeout(120)
async def test_run_that_continued_as_new_is_released_and_its_successor_kept(
    client: temporalio.client.Client, fnact_task_queue: str, start_process: Any
) -> None:
    """A held run that continued as new is released; its still-running successor is kept."""
    process = start_process(f"{fnact_task_queue}-act")
    async with workflow_worker(client, fnact_task_queue):
        handle = await client.start_workflow(
            Hold.run,
            Job("relay", f"{fnact_task_queue}-act", relay=True),
            id=f"{fnact_task_queue}-relay",
            task_queue=fnact_task_queue,
        )
        await until(lambda: process.status()["live"] == 1, "the first run's state held")
        first = f"{handle.id}/{handle.first_execution_run_id}"
        await handle.signal(Hold.finish)
        await until(lambda: len(process.status()["builds"]) == 2, "the new run's state built")
        await until(lambda: first in process.status()["closes"], "the first run released")
        second = next(key for key in process.status()["builds"] if key != first)
        released = time.time()
        # Two more checks of the still-running new run do not release it.
        await until(lambda: len(process.calls("list", since=released)) >= 2, "two more checks")
        assert second not in process.status()["closes"]
        assert process.status()["live"] == 1
        latest = client.get_workflow_handle(handle.id)
        await latest.signal(Hold.finish)
        assert await latest.result() == "relay"
        await until(lambda: second in process.status()["closes"], "the new run released")
        assert process.status()["live"] == 0


@pytest.mark.timeout(180)
async def test_a_check_over_250_held_runs_makes_at_most_3_list_calls(
    client: temporalio.client.Client, fnact_task_queue: str, start_process: Any
) -> None:
    """Each check over 250 held runs asks about all of them in at most ceil(250/100) calls."""
    held = 250
    process = start_process(f"{fnact_task_queue}-act")
    async with workflow_worker(client, fnact_task_queue):
        handles = await hold_runs(client, fnact_task_queue, process, held)
        all_held = time.time()
        await until(
            lambda: len(rounds(process.calls("list", since=all_held))) >= 3,
            "three checks after every run was held",
        )
        checks = rounds(process.calls("list", since=all_held))[:2]  # the last may be under way
        for check in checks:
            assert len(check) <= math.ceil(held / BATCH)
            assert sum(named for _, _, named in check) == held
        assert process.calls("describe") == []
        for handle in handles:
            await handle.signal(Hold.finish)
        latencies = await release_latencies(handles, process)
    print(f"250 runs released {min(latencies):.1f} to {max(latencies):.1f} s after closing")
    assert max(latencies) <= RELEASE_BOUND
    status = process.status()
    assert status["end_checks"] == status["end_check_lists"]


@pytest.mark.timeout(120)
async def test_refused_query_falls_back_to_describing_each_run(
    client: temporalio.client.Client, fnact_task_queue: str, start_process: Any
) -> None:
    """A worker that may not list workflows describes each held run, warns once, still releases."""
    interval, period = 0.5, 3.0  # the fallback's period is a minute outside this test
    process = start_process(
        f"{fnact_task_queue}-act",
        FNACT_TEST_REFUSE_LIST="1",
        FNACT_TEST_END_CHECK=str(interval),
        FNACT_TEST_FALLBACK_PERIOD=str(period),
    )
    async with workflow_worker(client, fnact_task_queue):
        handles = await hold_runs(client, fnact_task_queue, process, 5)
        all_held = time.time()
        await until(
            lambda: len(rounds(process.calls("describe", since=all_held))) >= 2,
            "two describe rounds after every run was held",
        )
        for handle in handles:
            await handle.signal(Hold.finish)
        latencies = await release_latencies(handles, process)
    assert len(process.calls("refused")) == 1  # refused once, not asked again meanwhile
    describe_rounds = rounds(process.calls("describe", since=all_held))
    assert all(len(check) <= 5 for check in describe_rounds)
    assert len(describe_rounds[0]) == 5  # every held run, one call each
    starts = [check[0][0] for check in describe_rounds]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= period - interval  # every fallback period, not every interval
    assert max(latencies) <= period + 4
    process.stop()
    assert process.log_path is not None
    log = process.log_path.read_text()
    assert log.count("the visibility query for ended runs") == 1, log


async def test_held_run_the_server_does_not_know_is_released(
    client: temporalio.client.Client,
) -> None:
    """A held run that visibility does not list and the server does not know is released at once."""
    cache = fnact.worker.RunContextCache()
    key = fnact.state.RunKey(f"never-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()))
    cache.remember(key, fnact.testing.FakeClock().now())
    store = fnact.state.InMemoryStateStore(clock=fnact.testing.FakeClock())
    watcher = RunEndWatcher(client, cache, lambda: store, timedelta(seconds=5))
    assert await watcher.check() == 1
    assert len(cache) == 0
    assert (cache.stats.end_checks, cache.stats.end_check_lists) == (2, 1)  # a query, a describe
