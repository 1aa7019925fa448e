"""Temporal's payload limit on the real dev server: exact boundaries, inputs, leftover files."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers
from temporalio.api.enums.v1 import EventType

import fnact
import fnact.worker
from fnact._converter import data_converter
from fnact._limits import DEFAULT_PAYLOAD_LIMIT, payloads_size
from tests.integration.conftest import eventually
from tests.apps.limits_app import ACTIVITIES, Blob, Job, Limits, LimitsContainer

pytestmark = pytest.mark.integration
LIMIT = DEFAULT_PAYLOAD_LIMIT


def chars_for(total: int, make: object) -> int:
    """Return n such that ``make(n)`` encodes to exactly ``total`` bytes, as Temporal counts."""
    to_payload = data_converter.payload_converter.to_payload
    n = total - 64
    while payloads_size(to_payload(make(n))) < total:  # type: ignore[operator]
        n += 1
    assert payloads_size(to_payload(make(n))) == total  # type: ignore[operator]
    return n


@pytest.fixture
async def limits(
    client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> AsyncIterator[tuple[str, LimitsContainer]]:
    """Run a worker of the limits app; yield its queue and container."""
    container = LimitsContainer()
    container.settings.override(providers.Object(fnact.Settings(output_root=tmp_path)))
    async with fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=ACTIVITIES,
        workflows=[Limits],
    ):
        yield fnact_task_queue, container


async def play(client: temporalio.client.Client, queue: str, job: Job) -> str:
    """Run one job to its end and return the workflow's report."""
    result: str = await client.execute_workflow(
        Limits.run, job, id=f"limits-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    return result


@pytest.mark.parametrize(("delta", "expected"), [(-1, "ok"), (0, "ok"), (1, "PayloadTooLarge")])
async def test_result_at_the_limit_completes_and_one_byte_over_fails_once(
    client: temporalio.client.Client,
    limits: tuple[str, LimitsContainer],
    delta: int,
    expected: str,
) -> None:
    """Limit - 1 and limit complete; limit + 1 fails non-retryable; the body runs once."""
    queue, container = limits
    n = chars_for(LIMIT + delta, lambda k: "x" * k)
    report = await play(client, queue, Job("sized_result", n))
    assert report.startswith(expected), report[:200]
    if expected != "ok":
        assert "non_retryable=True" in report
        assert f"{LIMIT + 1:,} bytes" in report
    assert container.runs()["sized_result"] == 1


@pytest.mark.parametrize(("delta", "expected"), [(0, "ok"), (1, "PayloadTooLarge")])
async def test_checkpoint_at_the_limit_is_sent_and_one_byte_over_fails_once(
    client: temporalio.client.Client,
    limits: tuple[str, LimitsContainer],
    delta: int,
    expected: str,
) -> None:
    """A heartbeat of exactly the limit reaches Temporal; one byte over fails before it is sent."""
    queue, container = limits
    n = chars_for(LIMIT + delta, lambda k: fnact.Heartbeat(checkpoint=Blob("c" * k)))
    report = await play(client, queue, Job("sized_checkpoint", n))
    assert report.startswith(expected), report[:200]
    assert container.runs()["sized_checkpoint"] == 1


async def test_oversized_activity_input_fails_in_the_workflow_at_once(
    client: temporalio.client.Client, limits: tuple[str, LimitsContainer]
) -> None:
    """A 2.5 MB input is refused by the workflow helper: nothing is scheduled, nothing hangs."""
    queue, container = limits
    handle = await client.start_workflow(
        Limits.run,
        Job("takes_input", 2_500_000),
        id=f"limits-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        execution_timeout=None,
    )
    report = await handle.result()
    assert report.startswith("workflow-side PayloadTooLarge: activity 'takes_input' input is ")
    assert "over the 2,097,152-byte payload limit" in report
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in events
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in events
    assert container.runs()["takes_input"] == 0


async def test_late_zombie_temporary_file_is_removed_when_the_run_ends(
    client: temporalio.client.Client, limits: tuple[str, LimitsContainer], tmp_path: Path
) -> None:
    """A zombie's .part, left after its retry completed, is gone once the run ends."""
    queue, _ = limits
    assert await play(client, queue, Job("zombie_write", 10 * 1024 * 1024)) == "ok 1"
    (small,) = tmp_path.rglob("small.txt")
    assert small.read_text() == "done"

    def no_parts() -> bool:
        return not list(tmp_path.rglob("*.part"))

    await eventually(no_parts, within=5)
