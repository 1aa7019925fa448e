"""The API reference as built: examples as code, each public name on one page, clean signatures.

These tests read the HTML of the site built by ``mkdocs build --strict`` (the
``built_site`` fixture of conftest.py); no browser is needed.
"""

from __future__ import annotations

import ast
import html.parser
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

import pytest

import fnact
import fnact.exceptions
import fnact.state
import fnact.testing
import fnact.testing._plugin
import fnact.worker
import fnact.workflow

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_MODULES: list[ModuleType] = [
    fnact, fnact.workflow, fnact.worker, fnact.state, fnact.testing, fnact.exceptions,
]  # fmt: skip
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
WORKFLOW_FUNCTIONS = [
    "execute_activity", "start_activity", "execute_local_activity", "start_local_activity",
]  # fmt: skip


class Element:
    """An HTML element with its children, enough to walk a page mkdocs wrote."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        """This element and every element under it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def elements(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element)]


class TreeBuilder(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:  # close it and anything left open
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(path: Path) -> Element:
    builder = TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    return builder.root


@pytest.fixture(scope="module")
def reference(built_site: Path) -> dict[str, Element]:
    """Each reference page of the built site, by its folder name (``activities``, ...)."""
    pages = sorted((built_site / "reference").glob("*/index.html"))
    assert pages, "the site has no reference pages"
    return {page.parent.name: parse(page) for page in pages}


def headings(page: Element) -> dict[str, Element]:
    """The page's mkdocstrings object headings, by id (the object's path)."""
    return {
        h.attrs["id"]: h
        for h in page.iter()
        if "doc-heading" in h.classes and "id" in h.attrs and h.tag in {"h2", "h3", "h4"}
    }


def object_block(page: Element, path: str) -> Element:
    """The ``doc-object`` element documenting ``path`` on ``page``."""
    heading = headings(page)[path]
    block = next((a for a in heading.ancestors() if "doc-object" in a.classes), None)
    assert block is not None, f"{path}: heading outside a doc-object block"
    return block


def public_objects() -> list[tuple[object, list[str]]]:
    """Each object a public ``__all__`` exports, with every public path it has."""
    found: list[tuple[object, list[str]]] = []
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            path = f"{module.__name__}.{name}"
            for obj, paths in found:
                if obj is value:
                    paths.append(path)
                    break
            else:
                found.append((value, [path]))
    return found


def public_paths() -> set[str]:
    return {path for _, paths in public_objects() for path in paths}


# The private names worth catching in a signature: the classes, aliases and constants
# fnact's private modules define (or list in __all__) that no public module exports.
# Lowercase names are left out: a private function can share a parameter's name.
def private_names() -> set[str]:
    exported = {name for module in PUBLIC_MODULES for name in module.__all__}
    names: set[str] = set()
    for info in pkgutil.walk_packages(fnact.__path__, "fnact."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        listed = set(getattr(module, "__all__", []))
        for name, value in vars(module).items():
            if isinstance(value, TypeVar | ParamSpec) or name in exported:
                continue
            defined_here = getattr(value, "__module__", None) == module.__name__
            if not name[0].isupper():
                continue
            if name in listed or (defined_here and (inspect.isclass(value) or callable(value))):
                names.add(name)
    return names


def test_no_example_renders_as_a_blockquote(built_site: Path) -> None:
    """No page shows a doctest example (``>>>``) as a blockquote.

    Markdown reads each ``>`` of a prompt as a quote level, so an example outside a
    code block becomes three nested blockquotes; one that survives would show the
    prompt inside a blockquote. API docstrings use no blockquotes at all.
    """
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 10
    offenders = []
    for page in pages:
        for quote in parse(page).iter():
            if quote.tag != "blockquote":
                continue
            depth = sum(1 for a in quote.ancestors() if a.tag == "blockquote")
            in_docstring = any("doc-contents" in a.classes for a in quote.ancestors())
            if ">>>" in quote.text() or depth >= 2 or in_docstring:
                where = page.relative_to(built_site)
                offenders.append(f"{where}: {' '.join(quote.text().split())[:60]!r}")
    assert offenders == []


def test_docstring_examples_render_as_highlighted_code(reference: dict[str, Element]) -> None:
    """Each public class or function whose docstring has ``>>>`` shows it as highlighted code."""
    where = {path: page for page in reference.values() for path in headings(page)}
    checked = []
    for obj, paths in public_objects():
        if not (inspect.isclass(obj) or inspect.isroutine(obj)) or ">>>" not in (obj.__doc__ or ""):
            continue
        path = next(p for p in paths if p in where)
        block = object_block(where[path], path)
        code = [
            e for e in block.iter() if "highlight" in e.classes and ">>>" in e.text()
        ]  # fmt: skip
        assert code, f"{path}: its example is not a highlighted code block"
        assert any(span.classes == {"gp"} for e in code for span in e.iter()), path
        checked.append(path)
    assert len(checked) >= 10, checked  # the examples were found at all


def test_every_public_name_is_on_exactly_one_reference_page(
    reference: dict[str, Element],
) -> None:
    """Each object in a public ``__all__`` is documented once, whatever module re-exports it."""
    ids = {name: set(headings(page)) for name, page in reference.items()}
    problems = []
    for _, paths in public_objects():
        pages = [(name, path) for name, found in ids.items() for path in paths if path in found]
        if len(pages) != 1:
            problems.append(f"{' = '.join(paths)}: on {pages or 'no page'}")
    assert problems == []


def test_reference_pages_document_no_private_object(reference: dict[str, Element]) -> None:
    """Every object heading (members aside) is a public name: no private module leaks in."""
    public = public_paths()
    top = {
        (name, path)
        for name, page in reference.items()
        for path, heading in headings(page).items()
        if heading.tag == "h2"
    }
    assert sorted(f"{name}: {path}" for name, path in top if path not in public) == []


def test_overview_links_every_fnact_name() -> None:
    """The overview page's table links each name of ``fnact.__all__`` to its documentation."""
    text = (ROOT / "docs" / "reference" / "fnact.md").read_text()
    linked = set(re.findall(r"\]\[fnact\.(\w+)\]", text))
    assert sorted(set(fnact.__all__) - linked) == []
    assert sorted(linked - set(fnact.__all__)) == []


def test_signatures_name_no_private_objects(reference: dict[str, Element]) -> None:
    """No rendered signature names an underscored or private-module-only object."""
    private = private_names()
    assert {"DEFAULT_PAYLOAD_LIMIT", "HeartbeatSink"} <= private  # the list is the real one
    leaks = []
    for name, page in reference.items():
        for signature in page.iter():
            if "doc-signature" not in signature.classes:
                continue
            text = signature.text()
            words = set(re.findall(r"[A-Za-z_]\w*", text))
            bad = {
                w for w in words if (w.startswith("_") and not w.startswith("__")) or w in private
            }
            if bad:
                leaks.append(f"{name}: {sorted(bad)} in {' '.join(text.split())[:80]}")
    assert leaks == []


def plugin_fixtures() -> set[str]:
    """The fixtures fnact's pytest plugin defines, read from its source."""
    tree = ast.parse(Path(fnact.testing._plugin.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr == "fixture":
                    names.add(node.name)
    return names


def test_plugin_fixtures_render_as_a_list(reference: dict[str, Element]) -> None:
    """The testing page lists the plugin's fixtures as a bulleted list, one item each."""
    fixtures = plugin_fixtures()
    assert len(fixtures) == 6, fixtures
    lists = []
    for ul in reference["testing"].iter():
        if ul.tag != "ul":
            continue
        items = [li for li in ul.elements() if li.tag == "li"]
        first = [li.elements()[0].text() for li in items if li.elements()]
        lists.append(set(first))
    assert fixtures in lists


@pytest.mark.parametrize("name", WORKFLOW_FUNCTIONS)
def test_workflow_functions_have_a_parameter_table(
    reference: dict[str, Element], name: str
) -> None:
    """Each workflow-side function documents every parameter in a rendered table."""
    block = object_block(reference["workflow"], f"fnact.workflow.{name}")
    tables: list[Element] = []
    for title in block.iter():
        if "doc-section-title" in title.classes and title.text().strip() == "Parameters:":
            paragraph = title.parent
            assert paragraph is not None
            assert paragraph.parent is not None
            siblings = paragraph.parent.elements()
            following = siblings[siblings.index(paragraph) + 1 :]
            tables += [e for e in following[:1] if e.tag == "table"]
    assert len(tables) == 1, f"{name}: no Parameters table"
    rows = [tr for tr in tables[0].iter() if tr.tag == "tr" and "doc-section-item" in tr.classes]
    documented = [tr.elements()[0].text().strip() for tr in rows]
    function: Any = getattr(fnact.workflow, name)
    assert documented == list(inspect.signature(function).parameters)
