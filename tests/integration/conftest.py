"""Integration fixtures and helpers: workers of the test apps on fresh task queues."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
import temporalio.worker
from dependency_injector import providers
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError

import fnact
import fnact.state
import fnact.testing
import fnact.worker
from fnact.worker import DevServer
from tests.apps import run_context_app
from tests.apps.run_context_app import RunContextContainer
from tests.apps.scenario_app import (
    ACTIVITIES,
    Chain,
    Container,
    Continuing,
    Journal,
    Outcome,
    PlainCall,
    RawCall,
    Remote,
    RunArgs,
    Scenario,
    SecretLogin,
    Strict,
    plain_wait,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = [Scenario, Strict, RawCall, Chain, Continuing, PlainCall, Remote, SecretLogin]
"""The scenario app's workflows, which its worker runs."""
HEADER_BUDGET = 1024
"""The most bytes a scheduled activity's header may take, whatever its run's input."""
Play = Callable[..., Awaitable[Outcome]]


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``check()`` is true; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(0.02)


# --- The scenario app: one worker per test, and worker processes for crash tests.


@pytest.fixture
def container() -> Container:
    """Return a fresh container for one test, with a fake clock tests can drive."""
    container = Container()
    container.clock.override(providers.Object(fnact.testing.FakeClock()))
    return container


@pytest.fixture
def journal(container: Container) -> Journal:
    """Return the journal the test's activities write to."""
    journal: Journal = container.journal()
    return journal


@pytest.fixture
def store(container: Container) -> fnact.state.InMemoryStateStore:
    """Return the container's run state store."""
    store: fnact.state.InMemoryStateStore = container.state_store()
    return store


def counts(store: fnact.state.InMemoryStateStore) -> dict[str, int]:
    """Return the store's lifecycle counters as a dict."""
    s = store.stats
    return {
        "builds": s.builds,
        "refreshes": s.refreshes,
        "releases": s.releases,
        "closes": s.closes,
        "live": len(store),
    }


def start_worker(
    client: temporalio.client.Client, queue: str, container: Container, **options: Any
) -> fnact.worker.Worker:
    """Build a worker of the whole test app."""
    return fnact.worker.create_worker(
        client,
        task_queue=queue,
        container=container,
        activities=[*ACTIVITIES, plain_wait],
        workflows=WORKFLOWS,
        **options,
    )


@pytest.fixture
async def worker(
    client: temporalio.client.Client, container: Container, fnact_task_queue: str
) -> AsyncIterator[str]:
    """Run the test app's worker on a fresh task queue; yield the queue."""
    async with start_worker(client, fnact_task_queue, container):
        yield fnact_task_queue


@pytest.fixture
def play(client: temporalio.client.Client, worker: str) -> Play:
    """Return a function that runs one scenario and returns the workflow's Outcome."""

    async def run(scenario: str, *, value: int = 1, attempts: int = 1, **kw: Any) -> Outcome:
        return await client.execute_workflow(
            Scenario.run,
            RunArgs(scenario=scenario, value=value, attempts=attempts),
            id=kw.pop("id", f"scenario-{uuid.uuid4().hex[:10]}"),
            task_queue=worker,
            **kw,
        )

    return run


async def cancel_mid_activity(
    client: temporalio.client.Client, queue: str, journal: Journal, scenario: str
) -> tuple[temporalio.client.WorkflowHandle[Any, Any], WorkflowFailureError]:
    """Start ``scenario`` and cancel the run once its activity has started.

    Return the run's handle and the failure its result raised.
    """
    handle = await client.start_workflow(
        Scenario.run, RunArgs(scenario), id=f"cancel-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    await eventually(lambda: bool(journal.calls))
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    return handle, caught.value


class ChildWorker:
    """A worker in a child process, ``python -m MODULE ARGS``, ready once it prints ``ready``.

    Args:
        module: the worker's module.
        args: its command-line arguments.
        env: variables added to this process's environment.
        log: a file for its stderr (discarded when ``None``).
        clean_exit: `stop` asserts exit code 0 after SIGTERM.
    """

    def __init__(
        self,
        module: str,
        *args: str,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        clean_exit: bool = False,
    ) -> None:
        self.log_path = log
        self._log = None if log is None else log.open("a")
        self._clean_exit = clean_exit
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
            stderr=self._log or subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        assert ready == "ready", log.read_text() if log is not None else ready

    def kill(self) -> None:
        """Kill the process with SIGKILL, as a crash would, and wait for it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Send SIGTERM if it still runs, wait for it, and close its output."""
        if self.process.poll() is None:
            self.process.terminate()
            code = self.process.wait(timeout=30)
            if self._clean_exit:
                assert code == 0, f"{self.process.args} exited with {code}"
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._log is not None:
            self._log.close()


class WorkerProcess(ChildWorker):
    """A worker of the scenario app running in a child process (``tests.apps.worker_process``)."""

    def __init__(
        self, server: DevServer, queue: str, progress: Path, output: Path | None = None
    ) -> None:
        env = {"FNACT_TEST_PROGRESS": str(progress)}
        if output is not None:
            env["FNACT_TEST_OUTPUT"] = str(output)
        super().__init__("tests.apps.worker_process", server.address, queue, env=env)


@pytest.fixture
def processes() -> Iterator[list[ChildWorker]]:
    """Collect the worker processes a test starts; stop each one after the test."""
    started: list[ChildWorker] = []
    yield started
    for worker in started:
        worker.stop()


# --- The run-context app: how a run's input and start reach its activities.


def run_context_container(**settings: Any) -> RunContextContainer:
    """Return a run-context app container whose settings are fnact's changed by ``settings``."""
    container = RunContextContainer()
    container.settings.override(providers.Object(fnact.Settings(**settings)))
    return container


def run_context_worker(
    client: temporalio.client.Client, queue: str, container: RunContextContainer, **options: Any
) -> fnact.worker.Worker:
    """Build one worker of the run-context app's workflows and activities."""
    return fnact.worker.create_worker(
        client,
        task_queue=queue,
        container=container,
        activities=run_context_app.ACTIVITIES,
        workflows=run_context_app.WORKFLOWS,
        **options,
    )


@contextlib.asynccontextmanager
async def workflow_and_activity_workers(
    client: temporalio.client.Client,
    queue: str,
    container: RunContextContainer,
    *,
    workflow_worker: temporalio.worker.Worker | None = None,
    **options: Any,
) -> AsyncIterator[str]:
    """Run the run-context app on two workers with their own containers, as a fleet does.

    The workflows run on ``queue`` (on ``workflow_worker`` when given, else on an fnact
    worker); the activities run on ``queue``-act, on a worker of ``container`` built with
    ``options``, which never sees a run start and reads what it needs from history.
    Yield the activity queue.
    """
    activity_queue = f"{queue}-act"
    workflows = workflow_worker or fnact.worker.create_worker(
        client,
        task_queue=queue,
        container=run_context_container(),
        workflows=run_context_app.WORKFLOWS,
    )
    activities = fnact.worker.create_worker(
        client,
        task_queue=activity_queue,
        container=container,
        activities=run_context_app.ACTIVITIES,
        **options,
    )
    async with workflows, activities:
        yield activity_queue


@pytest.fixture
async def single_worker(
    client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[tuple[str, RunContextContainer]]:
    """Run a worker of the run-context app's workflows and activities; yield queue, container."""
    container = run_context_container()
    async with run_context_worker(
        client, fnact_task_queue, container, max_concurrent_activities=500
    ):
        yield fnact_task_queue, container


@pytest.fixture
async def split_workers(
    client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[tuple[str, str, RunContextContainer]]:
    """Run the run-context app on a workflow worker and an activity-only worker.

    Yield the workflow queue, the activity queue and the activity worker's container.
    """
    container = run_context_container()
    async with workflow_and_activity_workers(
        client, fnact_task_queue, container, max_concurrent_activities=500
    ) as activity_queue:
        yield fnact_task_queue, activity_queue, container


async def run_fan_out(
    client: temporalio.client.Client, queue: str, load: run_context_app.Load
) -> temporalio.client.WorkflowHandle[Any, Any]:
    """Run the FanOut workflow on ``queue`` to its end, each activity seeing ``load``; return it."""
    handle = await client.start_workflow(
        run_context_app.FanOut.run, load, id=f"fan-out-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    assert_seen(await handle.result(), load, load.fan_out)
    return handle


def assert_seen(seen: list[run_context_app.Seen], load: run_context_app.Load, count: int) -> None:
    """Every activity saw the run's own input, once per index."""
    assert sorted(s.n for s in seen) == list(range(count))
    assert {(s.name, s.pad) for s in seen} == {(load.name, len(load.pad))}


def one_build_per_run(container: RunContextContainer) -> None:
    """Each run's handler was built once in this process."""
    ledger = container.ledger()
    assert ledger.builds
    assert set(ledger.builds.values()) == {1}, ledger.builds


def reads_or_handoffs(container: RunContextContainer) -> int:
    """Return how many times this process learned a run's input (from history or hand-off)."""
    stats = container.run_context().stats
    return stats.reads + stats.handoffs


async def scheduled_events(
    handle: temporalio.client.WorkflowHandle[Any, Any],
) -> list[HistoryEvent]:
    """Return the run's ActivityTaskScheduled events, read from its history."""
    return [
        event
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def header_bytes(event: HistoryEvent) -> int:
    """Return the encoded size of an ActivityTaskScheduled event's header."""
    return event.activity_task_scheduled_event_attributes.header.ByteSize()
