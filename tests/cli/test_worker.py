"""``fnact worker module:attr``: a worker of the user's code, and its errors."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
import temporalio.client

from examples.metadata.__main__ import create_database
from examples.metadata.models import ExtractArgs
from examples.metadata.workflows import ExtractMetadata
from fnact.worker import DevServer
from tests.cli.conftest import FNACT, ROOT, clean_env, error_line, fnact, needs_temporal_cli


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("examples.metadata.worker", "expected MODULE:ATTR (like myapp.worker:spec), got"),
        ("no_such_package.worker:spec", "cannot import 'no_such_package.worker': no module"),
        ("examples.metadata.no_such_module:spec", "no module named 'examples.metadata.no_such"),
        ("examples.metadata.worker:nope", "module 'examples.metadata.worker' has no attribute"),
        ("examples.metadata.worker:TASK_QUEUE", "function returning one, not str"),
        ("examples.metadata.activities:Container", "returned DynamicContainer, not a fnact"),
        ("examples.metadata.__main__:create_database", "must be callable with no arguments"),
    ],
)
def test_bad_target_is_one_line_usage_error(target: str, expected: str) -> None:
    """A target that does not lead to a WorkerSpec is refused in one line with exit code 2."""
    result = fnact("worker", target)
    assert result.returncode == 2
    assert expected in error_line(result.stderr)
    assert result.stdout == ""


def test_target_is_imported_from_the_current_directory(tmp_path: Path) -> None:
    """Like ``python -m``, the worker imports the target from the directory it runs in."""
    (tmp_path / "myapp.py").write_text("spec = 42\n")
    result = subprocess.run(
        [*FNACT, "worker", "myapp:spec"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert error_line(result.stderr) == (
        "fnact: error: myapp:spec must be a fnact.worker.WorkerSpec or a function returning one, "
        "not int"
    )


def test_error_inside_the_users_module_shows_its_traceback(tmp_path: Path) -> None:
    """A module that exists but fails to import shows the user's own traceback, exit code 1."""
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    result = subprocess.run(
        [*FNACT, "worker", "broken:spec"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback")
    assert 'broken.py", line 1' in result.stderr
    assert result.stderr.rstrip().endswith("RuntimeError: boom at import")


def test_namespace_without_address_is_refused() -> None:
    """--namespace needs a server other than the embedded one, which has only 'default'."""
    result = fnact("worker", "examples.metadata.worker:spec", "--namespace", "other")
    assert result.returncode == 2
    assert "--namespace needs --address or TEMPORAL_ADDRESS" in error_line(result.stderr)


def test_unreachable_server_is_one_line_error() -> None:
    """A server that refuses connections fails the worker at once in one line."""
    result = fnact(
        "worker", "examples.metadata.worker:spec", timeout=15, TEMPORAL_ADDRESS="127.0.0.1:1"
    )
    assert result.returncode == 1
    line = error_line(result.stderr)
    assert line.startswith("fnact: error: cannot connect to Temporal at 127.0.0.1:1: ")


async def start_worker(
    *args: str, stderr: Path, **env: str
) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``fnact worker ARGS`` and return it with the line saying it polls."""
    with stderr.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *FNACT, "worker", *args, cwd=ROOT, env=clean_env(**env),
            stdout=asyncio.subprocess.PIPE, stderr=log,
        )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 40)).decode().strip()
    assert line, f"the worker exited early: {stderr.read_text()}"
    return process, line


@pytest.mark.integration
async def test_worker_runs_the_example_and_stops_on_sigterm(
    temporal_client: temporalio.client.Client,
    temporal_server: DevServer,
    fnact_task_queue: str,
    tmp_path: Path,
) -> None:
    """A worker of examples.metadata.worker:spec runs the example's workflow, then exits 0."""
    process, line = await start_worker(
        "examples.metadata.worker:spec", "--address", temporal_server.address,
        "--task-queue", fnact_task_queue,
        stderr=tmp_path / "stderr.log", FNACT_OUTPUT_ROOT=str(tmp_path / "out"),
    )  # fmt: skip
    assert line == (
        f"worker polling task queue {fnact_task_queue!r} on {temporal_server.address} "
        "(namespace default)"
    )
    try:
        report = await temporal_client.execute_workflow(
            ExtractMetadata.run,
            ExtractArgs(database=str(create_database(tmp_path / "shop.db"))),
            id=f"cli-worker-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert (report.tables, report.columns) == (3, 11)
    assert Path(report.output.folder).is_relative_to(tmp_path / "out")
    assert code == 0
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()


@pytest.mark.integration
def test_unknown_namespace_is_one_line_error(temporal_server: DevServer) -> None:
    """A namespace the server lacks fails the worker before it polls, in one line."""
    result = fnact(
        "worker", "examples.progress:spec", "--address", temporal_server.address,
        "--namespace", "no-such-namespace",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_line(result.stderr) == (
        f"fnact: error: no namespace 'no-such-namespace' at {temporal_server.address}"
    )


@pytest.mark.integration
@pytest.mark.slow
@needs_temporal_cli
async def test_worker_without_address_starts_the_embedded_server(tmp_path: Path) -> None:
    """Without --address or TEMPORAL_ADDRESS, the worker runs on its own dev server and UI."""
    process, line = await start_worker("examples.progress:spec", stderr=tmp_path / "stderr.log")
    process.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(process.wait(), 30)
    assert line.startswith(
        "worker polling task queue 'fnact-example-progress' on the embedded dev server 127.0.0.1:"
    )
    assert "(Web UI http://127.0.0.1:" in line
    assert code == 0


async def test_config_file_profile_is_used_instead_of_the_embedded_server(
    temporal_server: DevServer, tmp_path: Path
) -> None:
    """An address from a Temporal config-file profile is a cluster to connect to."""
    profile = tmp_path / "temporal.toml"
    profile.write_text(f'[profile.default]\naddress = "{temporal_server.address}"\n')
    process, line = await start_worker(
        "examples.progress:spec", stderr=tmp_path / "stderr.log", TEMPORAL_CONFIG_FILE=str(profile)
    )
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), 30)
    assert line == (
        f"worker polling task queue 'fnact-example-progress' on {temporal_server.address} "
        "(namespace default)"
    )
    assert code == 0


NOT_A_WORKFLOW = """
import fnact
import fnact.worker
class Report:
    async def run(self) -> None: ...
spec = fnact.worker.WorkerSpec(task_queue="q", container=fnact.Container(), workflows=[Report])
"""


def test_a_workflow_class_without_its_decorator_is_one_line(tmp_path: Path) -> None:
    """A spec listing a class Temporal cannot run names it in one line, before connecting."""
    (tmp_path / "app.py").write_text(NOT_A_WORKFLOW)
    result = subprocess.run(
        [*FNACT, "worker", "app:spec", "--address", "127.0.0.1:1"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert error_line(result.stderr) == (
        "fnact: error: fnact.worker.Plugin: workflow Report is not a class decorated with "
        "@workflow.defn"
    )
