"""The pytest settings the tutorial shows are all its tests need."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_the_tutorial_settings_run_its_tests_without_warnings() -> None:
    """With only pytest-config.toml's settings, the tutorial's tests pass, warnings as errors."""
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
            "-c", str(HERE / "pytest-config.toml"), "--rootdir", str(ROOT),
            str(HERE / "test_tutorial.py"),
            f"{HERE / 'test_workflow.py'}::test_welcomes_known_users_and_lists_the_others",
        ],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=50,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"4 passed in [\d.]+s", summary), result.stdout
