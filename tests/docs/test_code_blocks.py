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


def test_every_example_file_is_exercised_by_a_test() -> None:
    """Each module under examples/ is imported by at least one test or example test."""
    tests = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("examples/**/test_*.py")]
    corpus = "\n".join(p.read_text() for p in tests)
    corpus += "\n".join(p.read_text() for p in ROOT.glob("examples/**/conftest.py"))
    for module in sorted(ROOT.glob("examples/**/*.py")):
        if module.name in ("__init__.py", "conftest.py") or module.name.startswith("test_"):
            continue
        dotted = ".".join(module.relative_to(ROOT).with_suffix("").parts)
        dotted = dotted.removesuffix(".__main__")
        parent, _, name = dotted.rpartition(".")
        imported = re.search(rf"from {re.escape(parent)} import [^\n]*\b{name}\b", corpus)
        assert dotted in corpus or imported, f"no test imports or runs {dotted}"
