"""Integration fixtures: a worker of the test app on a fresh task queue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import temporalio.client

import fnact
from tests.integration.app import (
    ACTIVITIES,
    Container,
    Journal,
    Outcome,
    RawCall,
    RunArgs,
    Scenario,
    Strict,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def container() -> Container:
    """Return a fresh container for one test."""
    return Container()


@pytest.fixture
def journal(container: Container) -> Journal:
    """Return the journal the test's activities write to."""
    journal: Journal = container.journal()
    return journal


@pytest.fixture
async def worker(
    client: temporalio.client.Client, container: Container, fnact_task_queue: str
) -> AsyncIterator[str]:
    """Run the test app's worker on a fresh task queue; yield the queue."""
    async with fnact.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=ACTIVITIES,
        workflows=[Scenario, Strict, RawCall],
    ):
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
