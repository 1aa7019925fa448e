"""The "Use fnact in your own project" how-to: examples/own_project, as a project of its own.

The project is copied out of the repository first, so nothing of fnact's own layout helps
it: `fnact worker mypkg.worker:spec` runs its worker from the copy, and `pytest` runs its
tests there with the project's own pyproject.toml.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

import fnact
import fnact.worker
from fnact.worker import DevServer
from tests.examples.conftest import read_until, section

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "own_project"
COMMANDS = ROOT / "examples" / "howto" / "own_project.sh"
GUIDE = ROOT / "docs" / "how-to" / "use-fnact-in-your-own-project.md"
SPEC = "mypkg.worker:spec"
BIN = Path(sys.executable).parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project, outside the repository."""
    copy = tmp_path / "myproject"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return copy


def environment(**extra: str) -> dict[str, str]:
    """This environment's commands first on PATH, no TEMPORAL_* settings, nothing on PYTHONPATH."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_") and k != "PYTHONPATH"
    }
    return {**env, "PATH": f"{BIN}{os.pathsep}{env['PATH']}", **extra}


def project_files(folder: Path) -> set[str]:
    """The project's files, as paths relative to its folder."""
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    }


def test_the_install_line_installs_what_the_project_depends_on() -> None:
    """The guide's pip line names the project's dependencies: fnact[server], and fnact[test]."""
    project: dict[str, Any] = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    install = section(COMMANDS, "install")
    pip = next(line for line in install.splitlines() if line.startswith("pip install "))
    assert re.findall(r"'([^']+)'", pip) == wanted == ["fnact[server]", "fnact[test]"]


def test_the_guide_shows_the_projects_layout() -> None:
    """The tree on the page lists exactly the files of examples/own_project."""
    tree = re.search(r"```text\nmyproject/\n(.*?)```", GUIDE.read_text(), re.S)
    assert tree is not None
    shown: set[str] = set()
    folders: list[str] = []
    for line in tree[1].splitlines():
        name = re.sub(r"^[│├└─\s]+", "", line)
        depth = (len(line) - len(name)) // 4 - 1
        del folders[depth:]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        else:
            shown.add("/".join([*folders, name]))
    assert shown == project_files(PROJECT)


@pytest.mark.integration
async def test_fnact_worker_runs_the_projects_worker_spec(
    project: Path, temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """From the project's folder, `fnact worker mypkg.worker:spec` serves QuoteOrder."""
    command = section(COMMANDS, "worker").strip()
    assert command == f"fnact worker {SPEC}"
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        f"exec {command} --task-queue {fnact_task_queue}",
        cwd=project,
        env=environment(TEMPORAL_ADDRESS=temporal_server.address),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        await asyncio.wait_for(read_until(process.stdout, "polling"), timeout=30)
        client = await fnact.worker.connect(temporal_server.address)
        order = {"lines": [{"sku": "apple", "quantity": 3}, {"sku": "kiwi", "quantity": 1}]}
        quote = await client.execute_workflow(
            "QuoteOrder",
            order,
            id=f"quote-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
            result_type=dict,
        )
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert quote == {"total_cents": 150, "unknown_skus": ["kiwi"]}


def run_pytest(project: Path, command: str) -> str:
    """Run the pytest ``command`` in ``project``'s folder; check it passed; return its last line."""
    done = subprocess.run(
        ["bash", "-c", f"{command} -q -p no:cacheprovider -W error"],
        cwd=project, env=environment(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=50, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.integration
def test_the_projects_tests_pass_with_its_own_settings(project: Path) -> None:
    """`pytest` in the project's folder runs its four tests by its pyproject.toml's settings."""
    command = section(COMMANDS, "test").strip()
    assert command == "pytest"
    summary = run_pytest(project, command)
    assert re.fullmatch(r"4 passed in [\d.]+s", summary), summary


def test_not_integration_leaves_out_the_workflow_test(project: Path) -> None:
    """`pytest -m "not integration"` runs the three activity tests, without a dev server."""
    summary = run_pytest(project, 'pytest -m "not integration"')
    assert re.fullmatch(r"3 passed, 1 deselected in [\d.]+s", summary), summary
