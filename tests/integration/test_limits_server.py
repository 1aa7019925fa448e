"""Temporal's payload limit on the real dev server: exact boundaries, inputs, leftover files."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers
from temporalio.api.enums.v1 import EventType

import fnact
import fnact.worker
from fnact._converter import data_converter
from fnact._limits import DEFAULT_PAYLOAD_LIMIT, payloads_size
from tests.apps.limits_app import ACTIVITIES, Blob, Job, Limits, LimitsContainer
from tests.integration.conftest import Play, eventually

pytestmark = pytest.mark.integration
LIMIT = DEFAULT_PAYLOAD_LIMIT


def chars_for(total: int, make: Callable[[int], object]) -> int:
    """Return n such that ``make(n)`` encodes to exactly ``total`` bytes, as Temporal counts."""
    to_payload = data_converter.payload_converter.to_payload
    n = total - 64
    while payloads_size(to_payload(make(n))) < total:
        n += 1
    assert payloads_size(to_payload(make(n))) == total
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


async def run_job(client: temporalio.client.Client, queue: str, job: Job) -> str:
    """Run one job to its end and return the workflow's report."""
    result: str = await client.execute_workflow(
        Limits.run, job, id=f"limits-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    return result


async def run_sized(
    client: temporalio.client.Client,
    limits: tuple[str, LimitsContainer],
    activity: str,
    total: int,
    make: Callable[[int], object],
) -> tuple[str, int]:
    """Run ``activity`` on a value that ``make`` builds to encode to ``total`` bytes.

    Return the workflow's report and how many times the activity's body ran.
    """
    queue, container = limits
    report = await run_job(client, queue, Job(activity, chars_for(total, make)))
    return report, container.runs()[activity]


@pytest.mark.parametrize(("delta", "expected"), [(-1, "ok"), (0, "ok"), (1, "PayloadTooLarge")])
async def test_result_at_the_limit_completes_and_one_byte_over_fails_once(
    client: temporalio.client.Client,
    limits: tuple[str, LimitsContainer],
    delta: int,
    expected: str,
) -> None:
    """Limit - 1 and limit complete; limit + 1 fails non-retryable; the body runs once."""
    report, runs = await run_sized(client, limits, "sized_result", LIMIT + delta, lambda k: "x" * k)
    assert report.startswith(expected), report[:200]
    if expected != "ok":
        assert "non_retryable=True" in report
        assert f"{LIMIT + 1:,} bytes" in report
    assert runs == 1


@pytest.mark.parametrize(("delta", "expected"), [(0, "ok"), (1, "PayloadTooLarge")])
async def test_checkpoint_at_the_limit_is_sent_and_one_byte_over_fails_once(
    client: temporalio.client.Client,
    limits: tuple[str, LimitsContainer],
    delta: int,
    expected: str,
) -> None:
    """A heartbeat of exactly the limit reaches Temporal; one byte over fails before it is sent."""
    report, runs = await run_sized(
        client, limits, "sized_checkpoint", LIMIT + delta,
        lambda k: fnact.Heartbeat(checkpoint=Blob("c" * k)),
    )  # fmt: skip
    assert report.startswith(expected), report[:200]
    assert runs == 1


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
    assert await run_job(client, queue, Job("zombie_write", 10 * 1024 * 1024)) == "ok 1"
    (small,) = tmp_path.rglob("small.txt")
    assert small.read_text() == "done"

    def no_parts() -> bool:
        return not list(tmp_path.rglob("*.part"))

    await eventually(no_parts, within=5)


async def test_result_over_the_payload_limit_fails_once(play: Play) -> None:
    """A 3 MB result fails at once, non-retryable, with its size; Temporal would retry it."""
    outcome = await play("huge", value=3 * 1024 * 1024, attempts=3)
    assert outcome.kind == "exception"
    assert "'huge' result is 3,145,764 bytes, over the 2,097,152-byte payload limit" in str(
        outcome.error
    )
