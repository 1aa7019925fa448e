"""``fnact dev``: the embedded dev server, up until a signal."""

from __future__ import annotations

import asyncio
import signal
import socket

import pytest

import fnact
import fnact.worker
from tests.cli.conftest import (
    FNACT,
    ROOT,
    SCRIPT,
    clean_env,
    error_line,
    needs_temporal_cli,
)
from tests.cli.conftest import fnact as run

pytestmark = [pytest.mark.integration, pytest.mark.slow, needs_temporal_cli]


async def start_dev(*command: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    """Start ``command`` and return it with the lines it printed up to the Ctrl+C hint."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=clean_env(), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl+C to stop.":
        line = await asyncio.wait_for(process.stdout.readline(), 40)
        assert line, f"fnact dev exited early: {(await process.communicate())[1].decode()}"
        lines.append(line.decode().rstrip("\n"))
    return process, lines


async def stop(process: asyncio.subprocess.Process, sig: signal.Signals) -> tuple[int, str]:
    """Send ``sig`` and return the exit code and what went to stderr."""
    process.send_signal(sig)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_dev_prints_address_and_ui_then_stops_on_sigterm() -> None:
    """The announced server accepts clients, has a UI, and is gone after SIGTERM (exit 0)."""
    process, lines = await start_dev(str(SCRIPT), "dev", "--port", "0", "--ui-port", "0")
    address = lines[0].removeprefix("Temporal dev server: ").split()[0]
    assert lines[0] == f"Temporal dev server: {address} (namespace default)"
    assert lines[1].startswith("Web UI: http://127.0.0.1:")
    assert f"TEMPORAL_ADDRESS={address}" in lines[2]
    client = await fnact.worker.connect(address)
    assert await client.service_client.check_health()
    code, stderr = await stop(process, signal.SIGTERM)
    assert (code, stderr) == (0, "")
    with pytest.raises(RuntimeError, match="Failed client connect"):
        await fnact.worker.connect(address)


async def test_headless_dev_has_no_ui_and_stops_on_ctrl_c() -> None:
    """With --headless no Web UI line is printed, and Ctrl+C (SIGINT) stops it with exit 0."""
    process, lines = await start_dev(*FNACT, "dev", "--port", "0", "--headless")
    assert not any(line.startswith("Web UI") for line in lines)
    code, stderr = await stop(process, signal.SIGINT)
    assert (code, stderr) == (0, "")


def test_port_in_use_is_one_line_error() -> None:
    """A gRPC port that is taken fails with one line naming it, and exit code 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("dev", "--port", str(port), "--headless")
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in error_line(result.stderr)
    assert "address already in use" in result.stderr
