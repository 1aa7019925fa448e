"""Documentation code is never pasted: Python on the pages is included from tested files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(r"^```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^```", re.S | re.M)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"$')


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_python_blocks_are_included_from_tested_files(page: Path) -> None:
    """Every Python block on a page is a snippet include of a file the tests run."""
    for block in FENCE.finditer(page.read_text()):
        if block["lang"] not in ("python", "py", "toml"):
            continue
        for line in filter(str.strip, block["body"].splitlines()):
            if line.strip() == "...":
                continue
            include = SNIPPET.match(line.strip())
            assert include, f"{page.name}: pasted code instead of a snippet include: {line!r}"
            path = ROOT / include["path"]
            assert path.is_file(), f"{page.name}: {include['path']} does not exist"
            assert include["path"].startswith(("examples/", "tests/")), include["path"]
            section = include["section"]
            if section:
                text = path.read_text()
                assert f"--8<-- [start:{section}]" in text, f"{path.name} has no {section}"
                assert f"--8<-- [end:{section}]" in text, f"{path.name} has no end of {section}"


def _imported_modules(text: str) -> set[str]:
    found = set(re.findall(r"^\s*(?:from|import) (examples(?:\.\w+)+)", text, re.M))
    for parent, names in re.findall(r"^\s*from (examples(?:\.\w+)*) import ([^\n(]+)", text, re.M):
        found.update(f"{parent}.{name.strip()}" for name in names.split(","))
    found.update(re.findall(r"\"-m\", \"(examples(?:\.\w+)+)\"", text))
    found.update(re.findall(r"(examples(?:\.\w+)+):\w+", text))  # module:attr targets
    return found


def test_every_example_file_is_exercised_by_a_test() -> None:
    """Each module under examples/ is reached from a test, directly or through another example."""
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): p
        for p in ROOT.glob("examples/**/*.py")
        if p.name not in ("__init__.py", "conftest.py") and not p.name.startswith("test_")
    }
    tests = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("examples/**/test_*.py")]
    tests += list(ROOT.glob("examples/**/conftest.py"))
    reached: set[str] = set()
    pending = set().union(*(_imported_modules(p.read_text()) for p in tests))
    while pending:
        name = pending.pop()
        for candidate in (name, f"{name}.__main__"):
            if candidate in modules and candidate not in reached:
                reached.add(candidate)
                pending |= _imported_modules(modules[candidate].read_text())
    assert sorted(set(modules) - reached) == []
