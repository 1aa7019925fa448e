"""``fnact watch``: a run's activities from their heartbeats, until the run closes."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import temporalio.client
import temporalio.service
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.workflow.v1 import PendingActivityInfo

import fnact
import fnact.worker
from examples import progress
from fnact._cli.watch.model import read_activity
from fnact._cli.watch.poller import decode_details
from fnact._heartbeat import Heartbeat
from fnact.worker import DevServer
from tests.cli.conftest import FNACT, ROOT, clean_env, error_line, run_fnact
from tests.cli.conftest import fnact as run

SHORT = progress.CopyArgs(
    tables=(
        progress.CopyTable("customers", rows=100, seconds=2.0),
        progress.CopyTable("orders", rows=400, seconds=2.5),
    )
)


def pending(details: Payloads | None = None) -> PendingActivityInfo:
    """Return a started pending activity with ``details`` as its heartbeat details."""
    info = PendingActivityInfo(activity_id="7", state=2, attempt=3)
    info.activity_type.name = "export"
    if details is not None:
        info.heartbeat_details.CopyFrom(details)
    return info


def test_fnact_heartbeat_details_give_progress_and_message() -> None:
    """The details fnact sends are read as percent progress and a one-line message."""
    beat = fnact.Heartbeat(progress=42.5, message="page 3\nof 8", checkpoint={"page": 3})
    details = Payloads(payloads=fnact.worker.data_converter.payload_converter.to_payloads([beat]))
    row = read_activity("run", pending(details))
    assert (row.label, row.state, row.attempt) == ("export#7", "started", 3)
    assert (row.progress, row.message) == (42.5, "page 3 of 8")
    assert row.line() == "export#7 attempt=3 state=started progress=42.5% message=page 3 of 8"


@pytest.mark.parametrize(
    "payload",
    [
        Payload(metadata={"encoding": b"json/plain"}, data=b"17"),
        Payload(metadata={"encoding": b"json/plain"}, data=b'{"progress": "half", "message": 3}'),
        Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00\x01"),
        Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"),
    ],
)
def test_other_heartbeat_details_are_tolerated(payload: Payload) -> None:
    """Details that are not fnact's, or do not decode, show no progress and no message."""
    row = read_activity("run", pending(Payloads(payloads=[payload])))
    assert (row.progress, row.message) == (None, None)
    assert row.line() == "export#7 attempt=3 state=started"


def test_unreachable_server_fails_quickly_in_one_line() -> None:
    """A server that cannot be reached fails the watch within seconds, in one line."""
    started = time.monotonic()
    result = run("watch", "some-id", "--address", "127.0.0.1:1", timeout=15)
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert error_line(result.stderr).startswith(
        "fnact: error: cannot connect to Temporal at 127.0.0.1:1: "
    )


@pytest.mark.integration
def test_unknown_workflow_is_one_line_error(temporal_server: DevServer) -> None:
    """Watching a workflow id the server does not know fails in one line with exit code 1."""
    result = run("watch", "no-such-workflow", "--address", temporal_server.address)
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_line(result.stderr) == (
        "fnact: error: no workflow 'no-such-workflow' in namespace 'default'"
    )


@pytest.fixture
async def copy_queue(fnact_worker: object) -> str:
    """Return the task queue of a worker of the progress example."""
    spec = progress.spec()
    start = fnact_worker
    assert callable(start)
    queue: str = await start(
        activities=spec.activities, workflows=spec.workflows, container=spec.container
    )
    return queue


@pytest.fixture
async def idle_run(
    temporal_client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[temporalio.client.WorkflowHandle[object, object]]:
    """Start a run on a task queue no worker polls, so it stays running; terminate it after."""
    handle = await temporal_client.start_workflow(
        "CopyTables", id=f"idle-{uuid.uuid4().hex[:8]}", task_queue=f"{fnact_task_queue}-idle"
    )
    yield handle
    with contextlib.suppress(temporalio.service.RPCError):  # already closed by the test
        await handle.terminate()


@pytest.mark.integration
async def test_plain_output_shows_progress_until_completed(
    temporal_client: temporalio.client.Client,
    temporal_server: DevServer,
    copy_queue: str,
    tmp_path: Path,
) -> None:
    """Off a terminal, watch prints changed activity lines, then COMPLETED, and exits 0."""
    workflow_id = f"copy-{uuid.uuid4().hex[:8]}"
    handle = await temporal_client.start_workflow(
        progress.CopyTables.run, SHORT, id=workflow_id, task_queue=copy_queue
    )
    record = tmp_path / "watch.svg"
    result = await run_fnact(
        "watch", workflow_id, "--address", temporal_server.address, "--interval", "0.2",
        "--record", str(record),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"workflow {workflow_id} RUNNING"
    assert lines[-1] == f"workflow {workflow_id} COMPLETED"
    assert any(
        line.startswith("copy customers attempt=1 state=started progress=")
        and " message=" in line
        and " of 100 rows" in line
        for line in lines
    )
    ended = [line for line in lines if line.startswith("copy orders attempt=1 state=completed")]
    assert len(ended) == 1
    assert re.fullmatch(r"copy orders attempt=1 state=completed elapsed=\d+\.\ds", ended[0])
    assert lines[-2] == "2 activities: 2 completed"
    assert len(lines) == len(set(lines)), "a line is printed only when something changed"
    assert await handle.result() == 500
    svg = record.read_text()
    assert svg.startswith("<svg")
    assert "COMPLETED" in svg


def read_terminal(fd: int) -> bytes:
    """Read what a pseudo-terminal's other side writes until it closes."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


@pytest.mark.integration
async def test_terminal_output_draws_progress_bars(
    temporal_client: temporalio.client.Client,
    temporal_server: DevServer,
    copy_queue: str,
) -> None:
    """On a terminal, watch draws a bar per activity and ends with the COMPLETED line."""
    workflow_id = f"copy-{uuid.uuid4().hex[:8]}"
    await temporal_client.start_workflow(
        progress.CopyTables.run, SHORT, id=workflow_id, task_queue=copy_queue
    )
    terminal, child = os.openpty()
    process = await asyncio.create_subprocess_exec(
        *FNACT, "watch", workflow_id, "--address", temporal_server.address, "--interval", "0.2",
        cwd=ROOT, env=clean_env(TERM="xterm-256color", COLUMNS="120"), stdout=child,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    os.close(child)
    output = (await asyncio.wait_for(asyncio.to_thread(read_terminal, terminal), 40)).decode()
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert "━" in output, "rich drew progress bars"
    for shown in ("copy customers", "copy orders", "started", "attempt 1", "completed"):
        assert shown in output
    assert output.rstrip().endswith(f"workflow {workflow_id} COMPLETED")


@pytest.mark.integration
async def test_run_that_does_not_complete_exits_1(
    temporal_server: DevServer, idle_run: temporalio.client.WorkflowHandle[object, object]
) -> None:
    """A terminated run prints its TERMINATED status and exits 1."""
    await idle_run.terminate(reason="stopped by the test")
    result = await run_fnact("watch", idle_run.id, "--address", temporal_server.address)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "no activities yet",
        f"workflow {idle_run.id} TERMINATED: stopped by the test",
    ]
    assert result.stderr == ""


@pytest.mark.integration
async def test_ctrl_c_exits_130_quietly(
    temporal_server: DevServer, idle_run: temporalio.client.WorkflowHandle[object, object]
) -> None:
    """Ctrl+C while watching a running run exits 130 without a traceback."""
    process = await asyncio.create_subprocess_exec(
        *FNACT, "watch", idle_run.id, "--address", temporal_server.address, cwd=ROOT,
        env=clean_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    first = await asyncio.wait_for(process.stdout.readline(), 30)
    assert first.decode().strip() == f"workflow {idle_run.id} RUNNING"
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130
    assert stderr == b""


async def test_encrypted_heartbeat_details_are_decrypted_with_the_given_codec() -> None:
    """With the workers' codec, watch reads progress from encrypted heartbeat details."""
    from cryptography.fernet import Fernet

    from examples.howto.secrets_codec import FernetCodec

    codec = FernetCodec([Fernet.generate_key()])
    clear = fnact.worker.data_converter.payload_converter.to_payloads([Heartbeat(40, "page 4")])
    info = PendingActivityInfo(activity_id="1", attempt=1)
    info.heartbeat_details.payloads.extend(await codec.encode(clear))
    assert read_activity("run", info).progress is None, "encrypted: unreadable without the codec"
    row = read_activity("run", await decode_details(info, codec))
    assert (row.progress, row.message) == (40.0, "page 4")
    other = FernetCodec([Fernet.generate_key()])
    assert read_activity("run", await decode_details(info, other)).progress is None


def test_converter_option_must_name_a_data_converter() -> None:
    """--converter pointing at something else is a one-line usage error."""
    result = run("watch", "wf", "--converter", "examples.howto.secrets_codec:TASK_QUEUE")
    assert result.returncode == 2
    assert "must be a temporalio DataConverter" in error_line(result.stderr)


MIXED = progress.CopyArgs(
    tables=(
        progress.CopyTable("customers", rows=100, seconds=1.0),
        progress.CopyTable("orders", rows=400, missing=True),
        progress.CopyTable("order_lines", rows=800, seconds=1.0, flaky=True),
    )
)


@pytest.mark.integration
async def test_recorded_frame_shows_each_outcome_attempt_and_the_runs_reason(
    temporal_client: temporalio.client.Client, copy_queue: str
) -> None:
    """A Success, a quick Failure and a retry: each row's outcome, in order, and why it failed."""
    from rich.console import Console

    from fnact._cli.watch.poller import watch_run
    from fnact._cli.watch.views import BarsView, PlainView

    workflow_id = f"mixed-{uuid.uuid4().hex[:8]}"
    await temporal_client.start_workflow(
        progress.CopyTables.run, MIXED, id=workflow_id, task_queue=copy_queue
    )
    screen = Console(file=io.StringIO(), force_terminal=True, width=140)
    bars = BarsView(screen, workflow_id)
    try:
        status = await watch_run(temporal_client, workflow_id, run_id=None, interval=0.2, view=bars)
    finally:
        bars.stop()
    assert status is temporalio.client.WorkflowExecutionStatus.FAILED
    recorder = Console(record=True, file=io.StringIO(), width=140)
    recorder.print(bars.frame())
    frame = recorder.export_text().splitlines()
    assert frame[0].startswith(f"workflow {workflow_id} FAILED: copy failed: TableMissing(")
    rows = frame[1:4]
    assert rows[0].startswith("copy customers")
    assert rows[1].startswith("copy orders")
    assert rows[2].startswith("copy order_lines")
    for row, shown in zip(
        rows,
        [("100%", "completed", "attempt 1"), ("failed", "attempt 1", "TableMissing"),
         ("100%", "completed", "attempt 2")],
        strict=True,
    ):  # fmt: skip
        assert all(part in row for part in shown), (row, shown)
    assert all(re.search(r"\d+\.\ds", row) for row in rows), "each row shows its elapsed time"
    assert frame[4] == "3 activities: 2 completed, 1 failed"
    assert bars.closing_line() == frame[0]

    # The same run read again, as plain lines: the Failure appears though it ended at once.
    plain = PlainView(io.StringIO(), workflow_id)
    await watch_run(temporal_client, workflow_id, run_id=None, interval=0.2, view=plain)
    failed = [line for line in plain.lines if line.startswith("copy orders ")]
    assert len(failed) == 1
    assert " state=failed error=TableMissing" in failed[0]
    assert plain.lines[-2:] == ["3 activities: 2 completed, 1 failed", frame[0]]


def test_core_warnings_go_to_a_logger_that_prints_nothing() -> None:
    """The watch's runtime forwards Temporal core's log lines away from the live view."""
    import logging

    from fnact._cli.watch.command import _quiet_runtime

    _quiet_runtime()
    quiet = logging.getLogger("fnact.watch.core")
    assert quiet.propagate is False
    assert all(isinstance(h, logging.NullHandler) for h in quiet.handlers)
