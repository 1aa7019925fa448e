"""Integration fixtures: a worker of the test app on a fresh task queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import temporalio.client
from dependency_injector import providers

import fnact
import fnact.state
import fnact.testing
import fnact.worker
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
WORKFLOWS = [Scenario, Strict, RawCall, Chain, Continuing, PlainCall, Remote, SecretLogin]


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


Play = Callable[..., Awaitable[Outcome]]


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


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``check()`` is true; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(0.02)


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
