"""Heartbeats, checkpoints and cancellation under real faults, on the dev server."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
import temporalio.client

from fnact.worker import DevServer
from tests.apps.scenario_app import Container, Journal, Outcome, PlainCall, RunArgs, Step
from tests.integration.conftest import (
    Play,
    WorkerProcess,
    cancel_mid_activity,
    eventually,
    start_worker,
)

pytestmark = pytest.mark.integration


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [12, 31, 50])
async def test_sigkilled_worker_resumes_from_last_checkpoint_elsewhere(
    client: temporalio.client.Client,
    temporal_server: DevServer,
    fnact_task_queue: str,
    tmp_path: Path,
    processes: list[WorkerProcess],
    kill_at: int,
) -> None:
    """After a SIGKILL, another process resumes from the last checkpoint the server got.

    With a 2 s heartbeat timeout the progress lost is at most fnact's send interval
    (0.67 s) plus Temporal's heartbeat throttle (1 s on fnact's workers): 1.67 s,
    17 items of 100 ms.
    """
    progress = tmp_path / "progress.txt"
    # The workflow runs in this process; the activity runs in the worker processes.
    async with start_worker(client, f"{fnact_task_queue}-wf", Container()):
        processes.append(WorkerProcess(temporal_server, fnact_task_queue, progress))
        handle = await client.start_workflow(
            "Remote", RunArgs("count_up", value=60), id=f"crash-{uuid.uuid4().hex[:8]}",
            task_queue=f"{fnact_task_queue}-wf", result_type=list[int],
        )  # fmt: skip
        await eventually(
            lambda: progress.exists() and len(progress.read_text().splitlines()) >= kill_at
        )
        processes[0].kill()
        done_at_kill = len(progress.read_text().splitlines())
        processes.append(WorkerProcess(temporal_server, fnact_task_queue, progress))
        attempt, resumed_from = await handle.result()
    lines = [tuple(map(int, line.split())) for line in progress.read_text().splitlines()]
    assert attempt == 2
    assert 0 < resumed_from <= done_at_kill
    lost = done_at_kill - resumed_from
    print(f"killed after {done_at_kill} items, resumed from {resumed_from}: lost {lost}")
    assert lost <= 17, f"lost {lost} items, more than 1.67 s of progress"
    second = [item for a, item in lines if a == 2]
    assert second == list(range(resumed_from, 60)), "the retry continues exactly where it resumed"


@pytest.mark.slow
async def test_sigkilled_worker_leaves_no_partial_or_doubled_output(
    client: temporalio.client.Client,
    temporal_server: DevServer,
    fnact_task_queue: str,
    tmp_path: Path,
    processes: list[WorkerProcess],
) -> None:
    """After a SIGKILL mid-writing, the retry skips committed files and every file is whole."""
    progress, output = tmp_path / "progress.txt", tmp_path / "output"
    async with start_worker(client, f"{fnact_task_queue}-wf", Container()):
        processes.append(WorkerProcess(temporal_server, fnact_task_queue, progress, output))
        handle = await client.start_workflow(
            "Remote", RunArgs("write_files", value=40), id=f"files-{uuid.uuid4().hex[:8]}",
            task_queue=f"{fnact_task_queue}-wf", result_type=list[int],
        )  # fmt: skip
        await eventually(lambda: progress.exists() and len(progress.read_text().split()) >= 30)
        processes[0].kill()
        processes.append(WorkerProcess(temporal_server, fnact_task_queue, progress, output))
        attempt, written = await handle.result()
    lines = [tuple(map(int, line.split())) for line in progress.read_text().splitlines()]
    first = [part for a, part in lines if a == 1]
    second = [part for a, part in lines if a == 2]
    assert attempt == 2
    assert written == len(second)
    assert not set(first) & set(second), "no file is written twice"
    # A kill between a commit and its progress line can hide one part from the log.
    assert len(set(first) | set(second)) >= 39
    files = sorted(p for p in output.rglob("part-*.bin"))
    assert [f.name for f in files] == [f"part-{n:03d}.bin" for n in range(40)]
    for n, path in enumerate(files):
        assert path.read_bytes() == bytes([n]) * 256 * 1024, f"{path.name} is partial"
    assert list(output.rglob("*.part")) == [], "the retry removed the killed write's temp file"


@pytest.mark.parametrize("activity", ["wait_forever", "sleep_quietly"])
async def test_cancellation_reaches_manual_and_auto_heartbeat_activities(
    client: temporalio.client.Client, worker: str, journal: Journal, activity: str
) -> None:
    """Both a heartbeating body and a silent auto-heartbeat body see cancellation once."""
    _, failure = await cancel_mid_activity(client, worker, journal, activity)
    assert type(failure.cause).__name__ == "CancelledError"
    assert journal.cancelled == 1
    assert [h.closed for h in journal.handlers] == [1]


async def test_stalled_activity_times_out_and_is_retried(
    play: Play, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    """A body that stops reporting progress loses its auto beats, times out and is retried."""
    caplog.set_level(logging.WARNING, logger="fnact.heartbeat")
    outcome = await play("stall_once", attempts=3)
    assert outcome == Outcome(kind="success", value=2)
    assert journal.calls == [("stall_once", 1), ("stall_once", 2)]
    assert any("stall_once stalled" in r.getMessage() for r in caplog.records)


async def test_changed_checkpoint_type_fails_clearly_without_retry(play: Play) -> None:
    """A checkpoint that no longer decodes fails the retry at once, naming the type."""
    outcome = await play("change_checkpoint_type", attempts=5)
    assert outcome.kind == "exception"
    assert "does not decode as Cursor" in str(outcome.error)
    assert "Expected `int`, got `str` - at `$.next`" in str(outcome.error)


async def test_plain_activity_with_auto_heartbeater_keeps_types_and_gets_cancelled(
    client: temporalio.client.Client, worker: str
) -> None:
    """fnact.auto_heartbeater on a plain Temporal activity keeps its typed input and beats."""
    result = await client.execute_workflow(
        PlainCall.run, Step(value=0), id=f"plain-{uuid.uuid4().hex[:8]}", task_queue=worker
    )
    assert result == 0
    handle = await client.start_workflow(
        PlainCall.run, Step(value=30), id=f"plain-{uuid.uuid4().hex[:8]}", task_queue=worker
    )
    for _ in range(200):
        description = await handle.describe()
        if description.raw_description.pending_activities:
            break
        await asyncio.sleep(0.05)
    await handle.cancel()
    # The body swallows the cancellation and returns -1: the beats delivered it.
    assert await handle.result() == -1


async def test_heartbeats_from_run_blocking_work_in_a_real_worker(play: Play) -> None:
    """The first heartbeat of an attempt may come from a run_blocking thread."""
    outcome = await play("blocking_beats", value=5)
    assert outcome == Outcome(kind="success", value=5)
