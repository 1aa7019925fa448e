"""The architecture page is the package's map: every module on it, imports one way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fnact"
PAGE = ROOT / "docs" / "explanation" / "architecture.md"
WORKER_SIDE_IMPORTERS = ("fnact.worker", "fnact.testing", "fnact._cli", "fnact._worker")


def mapped_modules() -> set[str]:
    """Return the files the page's tree lists, relative to ``fnact/``."""
    block = PAGE.read_text().split("```text\nfnact/\n", 1)[1].split("```", 1)[0]
    stack: list[str] = []
    files: set[str] = set()
    for line in block.splitlines():
        match = re.search(r"[├└]── (\S+)", line)
        if match is None:
            continue
        depth = match.start() // 4
        name = match.group(1)
        del stack[depth:]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
        else:
            files.add("/".join([*stack, name]))
    return files


def package_modules() -> set[str]:
    return {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")}


def module_name(relative: str) -> str:
    parts = relative.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["fnact", *parts])


def top_level_imports(path: Path) -> set[str]:
    """Return the fnact modules ``path`` imports when it is imported (not lazily, not typing)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue  # imports inside functions run later, when called
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                found.update(alias.name for alias in inner.names if alias.name.startswith("fnact"))
            elif isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("fnact"):
                module = inner.module or ""
                folder = PACKAGE.joinpath(*module.split(".")[1:])
                submodules = {
                    f"{module}.{alias.name}"
                    for alias in inner.names
                    if (folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir()
                }
                # `from package import submodule` imports the submodule, not a name of it.
                found.update(submodules or {module})
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(relative): PACKAGE / relative for relative in package_modules()}
    return {name: top_level_imports(path) & set(modules) - {name} for name, path in modules.items()}


def test_every_module_is_on_the_map_and_every_mapped_module_exists() -> None:
    """The architecture page's tree lists exactly the package's modules."""
    mapped, actual = mapped_modules(), package_modules()
    assert sorted(actual - mapped) == [], "add these modules to docs/explanation/architecture.md"
    assert sorted(mapped - actual) == [], "these modules on the map no longer exist"


def test_there_is_no_import_cycle() -> None:
    """No fnact module imports, directly or through others, a module that imports it."""
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(
                    [*path[path.index(target) :], target] if target in path else [name, target]
                )
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_only_the_worker_module_testing_and_the_cli_import_the_worker_side() -> None:
    """fnact._worker is imported only by fnact.worker, fnact.testing, the CLI and itself."""
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        for target in targets
        if target.startswith("fnact._worker") and not name.startswith(WORKER_SIDE_IMPORTERS)
    )
    assert offenders == []
