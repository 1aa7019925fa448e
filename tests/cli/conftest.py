"""Helpers to run the ``fnact`` command as a subprocess, as a user would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fnact._worker._devserver import find_temporal_cli

ROOT = Path(__file__).resolve().parents[2]
FNACT = (sys.executable, "-m", "fnact")
SCRIPT = Path(sys.executable).parent / "fnact"
"""The console script ``pip install`` put next to this Python."""

needs_temporal_cli = pytest.mark.skipif(
    find_temporal_cli() is None, reason="the `temporal` CLI is not installed"
)


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without Temporal's settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env.update(extra)
    return env


def fnact(*args: str, timeout: float = 30.0, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m fnact ARGS`` in the project root and wait for it."""
    return subprocess.run(
        [*FNACT, *args], cwd=ROOT, env=clean_env(**env), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Finished:
    """What a command run with `run_fnact` did."""

    returncode: int
    stdout: str
    stderr: str


async def run_fnact(*args: str, **env: str) -> Finished:
    """Run ``python -m fnact ARGS`` without blocking the event loop (a worker may run in it)."""
    process = await asyncio.create_subprocess_exec(
        *FNACT, *args, cwd=ROOT, env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 40)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def error_line(stderr: str) -> str:
    """Assert ``stderr`` is one ``fnact: error:`` line without a traceback; return it."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("fnact: error: ")
    return lines[0]
