"""Typed options: a misspelled or wrongly typed Temporal option is a type error.

mypy runs on ``bad_options.py``, whose lines tagged ``# E: <fragment>`` each hold one
deliberate mistake, and on ``good_options.py``, which must pass. The options'
TypedDicts are also compared with the SDK's signatures, so an upgrade of temporalio
that adds or changes a parameter fails here until they follow it.
"""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
import tokenize
import typing
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
import temporalio.worker
import typing_extensions

from fnact._worker._options import ConnectOptions, WorkerOptions

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BAD = HERE / "bad_options.py"
GOOD = HERE / "good_options.py"
TAG = re.compile(r"#\s*E:\s*(?P<fragment>\S.*?)\s*$")
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")


def tagged_lines(path: Path) -> dict[int, str]:
    """Return ``{line number: expected fragment}`` for the ``# E:`` comments in ``path``."""
    with path.open("rb") as source:
        return {
            token.start[0]: found["fragment"]
            for token in tokenize.tokenize(source.readline)
            if token.type == tokenize.COMMENT and (found := TAG.match(token.string))
        }


@pytest.fixture(scope="module")
def mypy_errors() -> dict[str, dict[int, list[str]]]:
    """Run mypy --strict once on both files; return ``{file name: {line: [errors]}}``."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes",
         "--no-pretty", "--no-color-output", "--no-error-summary", str(BAD), str(GOOD)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: mypy itself failed
    errors: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in result.stdout.splitlines():
        if found := ERROR.match(line):
            errors[Path(found["path"]).name][int(found["line"])].append(found["message"])
    return errors


def test_mypy_reports_each_deliberate_error(mypy_errors: dict[str, dict[int, list[str]]]) -> None:
    """Each tagged line of bad_options.py is an error that names the mistake; no other is."""
    expected = tagged_lines(BAD)
    assert len(expected) >= 6
    reported = mypy_errors[BAD.name]
    assert sorted(reported) == sorted(expected), dict(reported)
    for number, fragment in expected.items():
        assert any(fragment in message for message in reported[number]), (number, fragment)


def test_mypy_accepts_correct_options(mypy_errors: dict[str, dict[int, list[str]]]) -> None:
    """Realistic correct uses of the options, the spec and its client fields pass mypy."""
    assert dict(mypy_errors[GOOD.name]) == {}


def find_pyright() -> str | None:
    """Return pyright's or basedpyright's command, beside this Python or on the PATH."""
    for name in ("pyright", "basedpyright"):
        beside = Path(sys.executable).parent / name
        found = str(beside) if beside.is_file() else shutil.which(name)
        if found:
            return found
    return None


PYRIGHT = find_pyright()


@pytest.mark.skipif(PYRIGHT is None, reason="neither pyright nor basedpyright is installed")
def test_pyright_agrees(tmp_path: Path) -> None:
    """Pyright (standard mode) reports the same lines of bad_options.py, and none in good."""
    assert PYRIGHT is not None
    config = tmp_path / "pyrightconfig.json"
    config.write_text(f'{{"typeCheckingMode": "standard", "extraPaths": ["{ROOT}"]}}')
    result = subprocess.run(
        [PYRIGHT, "--pythonpath", sys.executable, "-p", str(config), str(BAD), str(GOOD)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    reported: dict[str, set[int]] = defaultdict(set)
    for found in re.finditer(r"^\s*(\S+\.py):(\d+):\d+ - error:", result.stdout, re.M):
        reported[Path(found[1]).name].add(int(found[2]))
    assert reported[BAD.name] == set(tagged_lines(BAD)), result.stdout
    assert reported[GOOD.name] == set(), result.stdout


@pytest.mark.parametrize(
    ("typed", "signature", "namespace", "explicit"),
    [
        (ConnectOptions, temporalio.client.Client.connect, temporalio.client,
         {"cls", "target_host", "namespace"}),
        (WorkerOptions, temporalio.worker.Worker.__init__, temporalio.worker,
         {"self", "client", "task_queue", "activities", "workflows"}),
    ],
)  # fmt: skip
def test_options_mirror_the_sdk(
    typed: type, signature: Callable[..., Any], namespace: object, explicit: set[str]
) -> None:
    """Every SDK keyword but fnact's explicit ones is an option, with the SDK's type."""
    sdk = typing.get_type_hints(signature, localns=vars(namespace))
    ours = typing_extensions.get_type_hints(typed)
    names = set(inspect.signature(signature).parameters) - explicit
    assert set(ours) == names
    assert {name: ours[name] for name in names} == {name: sdk[name] for name in names}
