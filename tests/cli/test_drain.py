"""SIGTERM drains a worker, also as PID 1: readiness first, then a graceful shutdown.

The worker runs ``fnact worker examples.howto.operations:spec`` as a child process, and
in a new PID namespace (``unshare --pid``), where it is PID 1, as in a container without
an init process: there the kernel drops a signal the process has no handler for.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import temporalio.client

import fnact
import fnact.worker
from examples.howto.operations import NightlyScan, ScanReport, ScanTable, scan_table
from fnact.worker import DevServer
from tests.cli.conftest import FNACT, ROOT, clean_env
from tests.prometheus import free_port
from tests.unit.test_health import get

pytestmark = pytest.mark.integration
GRACE = 1.0
MARGIN = 5.0
"""How long after the grace period the process may take to exit."""


def pid_namespaces_work() -> bool:
    """Whether this machine lets us start a process in a new PID namespace."""
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--pid", "--fork", "true"]
    return subprocess.run(probe, capture_output=True, check=False, timeout=10).returncode == 0


def child_of(pid: int) -> int:
    """Return the one child of ``pid``: the worker that is PID 1 in its namespace."""
    for _ in range(100):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError(f"process {pid} started no child")


async def pending_checkpoint(handle: temporalio.client.WorkflowHandle[Any, Any]) -> int:
    """Return the ``next_row`` of the checkpoint the server holds for the pending scan."""
    description = await handle.describe()
    (pending,) = description.raw_description.pending_activities
    (details,) = pending.heartbeat_details.payloads
    beat: dict[str, dict[str, int]] = json.loads(details.data)
    return beat["checkpoint"]["next_row"]


AS_PID_1 = [
    pytest.param(False, id="child-process"),
    pytest.param(
        True,
        id="pid-1",
        marks=pytest.mark.skipif(
            not pid_namespaces_work(), reason="cannot create a PID namespace here"
        ),
    ),
]


def launcher(as_pid_1: bool) -> list[str]:
    """The command prefix that makes the worker PID 1 of a new PID namespace, or nothing."""
    return ["unshare", "--pid", "--fork"] if as_pid_1 else []


@pytest.mark.parametrize("as_pid_1", AS_PID_1)
async def test_sigterm_drains_flushes_the_checkpoint_and_exits_0(
    temporal_client: temporalio.client.Client,
    temporal_server: DevServer,
    fnact_task_queue: str,
    tmp_path: Path,
    as_pid_1: bool,
) -> None:
    """Readiness goes false, the scan ends retryable with its newest checkpoint, exit 0 in time."""
    port = free_port()
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *launcher(as_pid_1), *FNACT, "worker", "examples.howto.operations:spec",
            "--address", temporal_server.address, "--task-queue", fnact_task_queue,
            "--health-port", str(port), "--log-level", "DEBUG", cwd=ROOT,
            env=clean_env(
                METRICS_ADDRESS=f"127.0.0.1:{free_port()}", GRACEFUL_SHUTDOWN_SECONDS=str(GRACE)
            ),
            stdout=asyncio.subprocess.PIPE, stderr=log,
        )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 40)).decode()
    assert line.startswith("worker polling"), stderr.read_text()
    worker_pid = child_of(process.pid) if as_pid_1 else process.pid
    if as_pid_1:
        status = Path(f"/proc/{worker_pid}/status").read_text()
        assert re.search(r"^NSpid:\s+\d+\s+1$", status, re.M), "the worker is not PID 1"
    assert await asyncio.to_thread(get, port, "/readyz") == (200, "ready\n")

    handle = await temporal_client.start_workflow(
        NightlyScan.run, ScanTable("orders", rows=100), id=f"drain-{uuid.uuid4().hex[:8]}",
        task_queue=fnact_task_queue,
    )  # fmt: skip
    for _ in range(400):  # until the scan is under way
        if "scanned row" in stderr.read_text():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    os.kill(worker_pid, signal.SIGTERM)
    signalled = time.monotonic()
    await asyncio.sleep(0.3)
    assert process.returncode is None, "the worker exited before draining"
    assert (await asyncio.to_thread(get, port, "/readyz"))[0] == 503  # readiness first
    assert await asyncio.to_thread(get, port, "/healthz") == (200, "ok\n")  # alive meanwhile
    code = await asyncio.wait_for(process.wait(), GRACE + MARGIN + 5)
    took = time.monotonic() - signalled
    log_text = stderr.read_text()
    assert code == 0, log_text[-2000:]
    assert took < GRACE + MARGIN, f"exit took {took:.1f} s"
    assert "shutting down: polling stops; running activities get 0:00:01 to finish" in log_text

    # The cancelled attempt sent its newest checkpoint: the row after the last one scanned.
    last_row = max(int(n) for n in re.findall(r"scanned row.* row=(\d+)", log_text))
    assert 0 < last_row < 99
    assert await pending_checkpoint(handle) == last_row + 1
    # Another worker resumes from it.
    async with fnact.worker.create_worker(
        temporal_client, task_queue=fnact_task_queue, container=fnact.Container(),
        activities=[scan_table], workflows=[NightlyScan],
    ):  # fmt: skip
        report = await handle.result()
    assert report == ScanReport("orders", 100, resumed_at=last_row + 1, attempt=2)


SLOW_SPEC = """
import time
def spec():
    time.sleep(60)  # a spec that takes long to build: SIGTERM arrives meanwhile
"""


@pytest.mark.parametrize("as_pid_1", AS_PID_1)
def test_sigterm_during_startup_stops_at_once(tmp_path: Path, as_pid_1: bool) -> None:
    """Before the worker polls, SIGTERM ends the process with 143, even as PID 1."""
    (tmp_path / "slow_app.py").write_text(SLOW_SPEC)
    process = subprocess.Popen(
        [*launcher(as_pid_1), *FNACT, "worker", "slow_app:spec"],
        cwd=tmp_path, env=clean_env(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    worker_pid = child_of(process.pid) if as_pid_1 else process.pid
    time.sleep(1.5)  # the spec is being built
    os.kill(worker_pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 143, stderr
