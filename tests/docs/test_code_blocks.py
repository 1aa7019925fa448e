"""Documentation code is never pasted: Python on the pages is included from tested files.

Each Python block names the file it comes from (``title="examples/..."`` on its fence),
and every name a page's Python uses is imported or defined by the snippets shown on that
page: the imports of each file sit in a collapsed ``??? note "Imports"`` block before its
first snippet.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>\w*)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```",
    re.S | re.M,
)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"$')
TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')
MARKER = re.compile(r"--8<-- \[(?P<kind>start|end):(?P<name>[\w-]+)\]")
PYTHON = ("python", "py")
# Names every module has without importing them.
BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__"}


@dataclass
class Block:
    """One fenced block of a page: its language, title, indentation and snippet includes."""

    lang: str
    title: str | None
    indent: str
    start: int
    includes: list[tuple[str, str | None]] = field(default_factory=list)
    pasted: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The block's first include, to name it in a failure."""
        path, section = self.includes[0] if self.includes else ("?", None)
        return f"{path}:{section}" if section else path


def blocks(page: Path) -> list[Block]:
    """Return the page's fenced blocks, those nested in admonitions included."""
    found = []
    text = page.read_text()
    for fence in FENCE.finditer(text):
        title = TITLE.search(fence["info"])
        block = Block(
            fence["lang"], title and title["title"], fence["indent"], fence.start(), [], []
        )
        for line in filter(str.strip, fence["body"].splitlines()):
            if line.strip() == "...":
                continue
            include = SNIPPET.match(line.strip())
            if include:
                block.includes.append((include["path"], include["section"]))
            else:
                block.pasted.append(line)
        found.append(block)
    return found


def section_text(path: str, section: str | None) -> str:
    """Return a file's section as pymdownx.snippets includes it (markers out, dedented)."""
    lines = (ROOT / path).read_text().split("\n")
    if section is None:
        return "\n".join(line for line in lines if not MARKER.search(line))
    kept: list[str] = []
    inside = False
    for line in lines:
        marker = MARKER.search(line)
        if marker and marker["name"] == section:
            if marker["kind"] == "end":
                break
            inside = True
        elif inside and not marker:
            kept.append(line)
    return textwrap.dedent("\n".join(kept))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_python_blocks_are_included_from_tested_files(page: Path) -> None:
    """Every Python block on a page is a snippet include of a file the tests run."""
    for block in blocks(page):
        if block.lang not in (*PYTHON, "toml"):
            continue
        pasted = block.pasted[:1]
        assert pasted == [], f"{page.name}: pasted code instead of a snippet include: {pasted}"
        for path, section in block.includes:
            assert (ROOT / path).is_file(), f"{page.name}: {path} does not exist"
            assert path.startswith(("examples/", "tests/")), path
            if section:
                text = (ROOT / path).read_text()
                assert f"--8<-- [start:{section}]" in text, f"{path} has no {section}"
                assert f"--8<-- [end:{section}]" in text, f"{path} has no end of {section}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_each_included_block_names_its_file(page: Path) -> None:
    """A block of snippet includes has ``title="<its file>"``, and includes from that file only."""
    for block in blocks(page):
        if not block.includes:
            assert block.lang not in PYTHON, f"{page.name}: a Python block with no include"
            continue
        files = {path for path, _ in block.includes}
        assert block.title is not None, f"{page.name}: {block.label} has no title= on its fence"
        assert files == {block.title}, f"{page.name}: titled {block.title!r}, includes {files}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_imports_are_shown_in_a_collapsed_block(page: Path) -> None:
    """A block that shows a file's imports sits in a ``??? note`` (collapsed) admonition."""
    lines = page.read_text()
    for block in blocks(page):
        if not any(section == "imports" for _, section in block.includes):
            continue
        before = lines[: block.start].rstrip("\n").splitlines()
        opener = next(line for line in reversed(before) if line.strip())
        where = f"{page.name}: the imports of {block.title}"
        assert block.indent, f"{where} are not in an admonition"
        assert opener.startswith("??? "), f"{where} are not in a collapsed (???) admonition"


class Names(ast.NodeVisitor):
    """The names a piece of code binds and loads; loads inside function bodies are deferred.

    A reasonable static check, not Python's scoping: a name bound anywhere in the code
    (a parameter too) counts as bound for the whole page.
    """

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.loaded: set[str] = set()  # used when the code runs: bound before, or here
        self.deferred: set[str] = set()  # used when a function is called: bound on the page
        self._depth = 0

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.bound.add(node.id)
        else:
            (self.deferred if self._depth else self.loaded).add(node.id)

    def _body(self, body: list[ast.stmt] | ast.expr) -> None:
        self._depth += 1
        for node in body if isinstance(body, list) else [body]:
            self.visit(node)
        self._depth -= 1

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.bound.add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        self._body(node.body)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.args)
        self._body(node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bound.add(node.name)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self.bound.add(node.arg)
        self.generic_visit(node)

    def visit_alias(self, node: ast.alias) -> None:
        self.bound.add(node.asname or node.name.split(".")[0])

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bound.add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.bound.add(node.rest)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.bound.update(node.names)

    visit_Nonlocal = visit_Global  # type: ignore[assignment]


def test_the_name_check_sees_what_a_snippet_binds_and_uses() -> None:
    """Imports, definitions, parameters and patterns bind; function bodies are deferred."""
    names = Names()
    names.visit(
        ast.parse(
            "import a.b\nfrom c import d as e\n@deco\ndef f(x: T = v) -> R:\n"
            "    return later(x)\nmatch e:\n    case [*rest] | {**kw}: print(rest, kw)\n"
        )
    )
    assert {"a", "e", "f", "x", "rest", "kw"} <= names.bound
    assert {"deco", "T", "v", "R", "e", "print", "rest", "kw"} <= names.loaded
    assert names.deferred == {"later", "x"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_every_name_a_page_uses_is_imported_or_defined_on_it(page: Path) -> None:
    """Each Python snippet's names come from builtins or the page's snippets, in order."""
    shown: list[tuple[Block, Names]] = []
    for block in blocks(page):
        if block.lang not in PYTHON or not block.includes:
            continue
        code = "\n".join(section_text(path, section) for path, section in block.includes)
        names = Names()
        names.visit(ast.parse(code, filename=block.label))
        shown.append((block, names))
    on_page = set().union(BUILTINS, *(names.bound for _, names in shown))
    known = set(BUILTINS)
    missing: dict[str, list[str]] = {}
    for block, names in shown:
        known |= names.bound
        unknown = (names.loaded - known) | (names.deferred - on_page)
        if unknown:
            missing[block.label] = sorted(unknown)
    assert missing == {}, f"{page.name}: names no snippet above imports or defines"


def _imported_modules(text: str, roots: set[str]) -> set[str]:
    """The modules under ``roots`` that ``text`` imports, runs with -m, or names as module:attr."""
    root = "(?:" + "|".join(sorted(roots)) + ")"
    found = set(re.findall(rf"^\s*(?:from|import) ({root}(?:\.\w+)+)", text, re.M))
    for parent, names in re.findall(rf"^\s*from ({root}(?:\.\w+)*) import ([^\n(]+)", text, re.M):
        found.update(f"{parent}.{name.strip()}" for name in names.split(","))
    found.update(re.findall(rf"\"-m\", \"({root}(?:\.\w+)+)\"", text))
    found.update(re.findall(rf"\b({root}(?:\.\w+)+):\w+", text))  # module:attr targets
    return found


def _module_name(path: Path) -> str:
    """The name Python imports ``path`` under: its packages, up to the first without __init__.

    ``examples/own_project`` is a project of its own, so its package is ``mypkg``.
    """
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def test_every_example_file_is_exercised_by_a_test() -> None:
    """Each module under examples/ is reached from a test, directly or through another example."""
    modules = {
        _module_name(p): p
        for p in ROOT.glob("examples/**/*.py")
        if p.name not in ("__init__.py", "conftest.py") and not p.name.startswith("test_")
    }
    roots = {name.split(".")[0] for name in modules}
    tests = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("examples/**/test_*.py")]
    tests += list(ROOT.glob("examples/**/conftest.py"))
    reached: set[str] = set()
    pending = set().union(*(_imported_modules(p.read_text(), roots) for p in tests))
    while pending:
        name = pending.pop()
        for candidate in (name, f"{name}.__main__"):
            if candidate in modules and candidate not in reached:
                reached.add(candidate)
                pending |= _imported_modules(modules[candidate].read_text(), roots)
    assert sorted(set(modules) - reached) == []
    assert {"examples", "mypkg"} <= roots
