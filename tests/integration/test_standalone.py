"""Standalone fnact activities (no workflow): state from their input, outputs, a Result back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers
from returns.result import Failure, Success

import fnact
import fnact.worker
from tests.apps.standalone_app import Container, Member, NotMember, greet_member

pytestmark = pytest.mark.integration


@pytest.fixture
async def container(
    temporal_client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> AsyncIterator[Container]:
    """A worker of the standalone activity, writing outputs under the test's folder."""
    built = Container()
    built.settings.override(providers.Object(fnact.Settings(output_root=tmp_path)))
    async with fnact.worker.create_worker(
        temporal_client, task_queue=fnact_task_queue, container=built, activities=[greet_member]
    ):
        yield built


async def test_a_standalone_activity_builds_state_from_its_input_and_writes_outputs(
    temporal_client: temporalio.client.Client,
    fnact_task_queue: str,
    container: Container,
    tmp_path: Path,
) -> None:
    """Its input is the run's workflow args; outputs lie under its own ids; state goes at close."""
    activity_id = f"greet-{uuid.uuid4().hex[:8]}"
    started = await fnact.worker.start_activity(
        temporal_client, greet_member, Member("Ada", "platform"),
        id=activity_id, task_queue=fnact_task_queue,
    )  # fmt: skip
    result = await started.result()
    assert isinstance(result, Success)
    greeting = result.unwrap()
    assert greeting.text == "Welcome to platform, Ada!"
    segments = greeting.output.key.split("/")
    assert segments[5:] == [activity_id, started.run_id, "greeting.txt"]
    assert (tmp_path / greeting.output.key).read_text() == greeting.text
    store = container.state_store()
    assert (store.stats.builds, store.stats.releases, len(store)) == (1, 1, 0)


async def test_a_declared_failure_comes_back_typed(
    temporal_client: temporalio.client.Client, fnact_task_queue: str, container: Container
) -> None:
    """fnact.worker.execute_activity returns Failure(NotMember) for a standalone activity."""
    result = await fnact.worker.execute_activity(
        temporal_client, greet_member, Member("", "platform"),
        id=f"greet-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue,
    )  # fmt: skip
    assert result == Failure(NotMember(name=""))
    assert len(container.state_store()) == 0


async def test_fnact_watch_follows_a_standalone_activity(
    temporal_server: fnact.worker.DevServer,
    temporal_client: temporalio.client.Client,
    fnact_task_queue: str,
    container: Container,
) -> None:
    """`fnact watch ID --activity` prints the activity's row and exits 0 once it completed."""
    activity_id = f"greet-{uuid.uuid4().hex[:8]}"
    await fnact.worker.execute_activity(
        temporal_client, greet_member, Member("Ada", "platform"),
        id=activity_id, task_queue=fnact_task_queue,
    )  # fmt: skip
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "fnact", "watch", activity_id, "--activity",
         "--address", temporal_server.address],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"greet_member#{activity_id} attempt=1 state=completed")
    assert lines[-1] == f"activity {activity_id} completed"
    missing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "fnact", "watch", "no-such-activity", "--activity",
         "--address", temporal_server.address],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert missing.returncode == 1
    assert "no standalone activity 'no-such-activity'" in missing.stderr
