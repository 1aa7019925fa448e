#!/usr/bin/env python3
"""fnact's task runner: needs only python3; creates and reuses ``.venv``.

    python3 scripts/task.py example   run the example worker on an embedded dev server
    python3 scripts/task.py test      run the whole test suite
    python3 scripts/task.py lint      ruff format check + ruff lint
    python3 scripts/task.py types     mypy --strict
    python3 scripts/task.py pyright   basedpyright --strict on examples/ + --verifytypes fnact
    python3 scripts/task.py docs      mkdocs build --strict
    python3 scripts/task.py bench     run the benchmarks
    python3 scripts/task.py versions  the unit tests on each other Python found (3.12, 3.13)
    python3 scripts/task.py package   build the wheel, install it in a clean venv, run the
                                      README's first example there
    python3 scripts/task.py ci        everything CI runs

Extra arguments after the task go to the underlying tool
(``python3 scripts/task.py test -k state``).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("FNACT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".fnact-installed"


def ensure_env() -> None:
    """Create ``.venv`` and install fnact with its dev extras, unless already current."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    print("installing fnact with its dev extras (first run only)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    run([*pip, "install", "--upgrade", "pip"])
    run([*pip, "install", "-e", f"{ROOT}[dev]"])
    STAMP.write_text(wanted)


def run(cmd: list[str], **kwargs: object) -> None:
    """Run ``cmd`` in the project root; exit with its code when it fails."""
    kwargs.setdefault("cwd", ROOT)
    code = subprocess.call(cmd, **kwargs)  # type: ignore[call-overload]
    if code:
        sys.exit(code)


AZURITE = ROOT / "tests" / "azurite"


def ensure_azurite() -> None:
    """Install Azurite (npm) for the object-store tests, unless its lock file is installed.

    Without npm this only says so: the tests that use Azurite then fail, saying why.
    """
    lock = AZURITE / "package-lock.json"
    stamp = AZURITE / "node_modules" / ".fnact-lock-sha256"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    installed = (AZURITE / "node_modules" / ".bin" / "azurite-blob").exists()
    if installed and stamp.exists() and stamp.read_text() == wanted:
        return
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: Azurite (tests/azurite) is not installed, so the Azure Blob "
              "tests will fail; install Node.js and npm (apt-get install nodejs npm)",
              flush=True)  # fmt: skip
        return
    print("installing Azurite for the object-store tests (npm ci in tests/azurite)", flush=True)
    done = subprocess.call([npm, "ci", "--prefix", str(AZURITE), "--no-audit", "--no-fund"],
                           cwd=ROOT)  # fmt: skip
    if done:
        print(f"npm ci in tests/azurite failed (exit code {done}); the Azure Blob tests will "
              "fail", flush=True)  # fmt: skip
        return
    stamp.write_text(wanted)


def tool(name: str, *args: str) -> None:
    """Run a console script of the virtual environment."""
    run([str(BIN / name), *args])


# What `basedpyright --verifytypes fnact --ignoreexternal` still reports, each with what it
# needs. The `pyright` task fails on any other symbol, and on one of these once it is fixed,
# so this list only shrinks; the score reaches 100% when it is empty.
VERIFYTYPES_KNOWN: dict[str, str] = {}


def pyright(*args: str) -> None:
    """Check examples/ with basedpyright --strict, then fnact's public types.

    ``--verifytypes`` finds the package through the ``python`` on ``PATH``, not through
    ``--pythonpath``, so the environment's ``bin`` goes first on it.
    """
    basedpyright = str(BIN / "basedpyright")
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    # The project file is named: basedpyright would otherwise take a config file it finds
    # in a parent folder.
    project = str(ROOT / "pyproject.toml")
    run([basedpyright, "-p", project, "--pythonpath", str(PYTHON), *args], env=env)
    verify = [
        basedpyright,
        "-p",
        project,
        "--verifytypes",
        "fnact",
        "--ignoreexternal",
        "--outputjson",
    ]
    done = subprocess.run(verify, cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        output = json.loads(done.stdout)
        report = output["typeCompleteness"]
    except (ValueError, KeyError):
        sys.exit(f"basedpyright --verifytypes failed:\n{done.stdout}{done.stderr}")
    if output["generalDiagnostics"] or not report.get("pyTypedPath"):
        problems = [d["message"] for d in output["generalDiagnostics"]]
        sys.exit(f"basedpyright --verifytypes could not check fnact: {problems}")
    found: dict[str, list[str]] = {}
    for symbol in report["symbols"]:
        for diagnostic in symbol["diagnostics"]:
            if diagnostic["severity"] in ("error", "warning"):
                where = diagnostic.get("file", "")
                line = diagnostic.get("range", {}).get("start", {}).get("line")
                place = f"{where}:{line + 1}" if where and line is not None else where
                found.setdefault(symbol["name"], []).append(f"  {place}: {diagnostic['message']}")
    new = sorted(set(found) - set(VERIFYTYPES_KNOWN))
    fixed = sorted(set(VERIFYTYPES_KNOWN) - set(found))
    score = report["completenessScore"] * 100
    known = len(set(found) & set(VERIFYTYPES_KNOWN))
    print(f"verifytypes: type completeness {score:.1f}%; {known} known gaps", flush=True)
    for name in new:
        print(f"new: {name}", *found[name], sep="\n")
    for name in fixed:
        print(f"fixed (remove it from VERIFYTYPES_KNOWN in scripts/task.py): {name}")
    if new or fixed:
        sys.exit(1)


OTHER_PYTHONS = ("3.12", "3.13")
"""The Pythons besides the main one whose unit tests `versions` runs, when the machine has them."""


def find_python(version: str) -> str | None:
    """Return an interpreter of Python ``version`` on ``PATH`` or in pyenv, if one runs."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(str(pyenv / f"{version}.*" / "bin" / f"python{version}")))
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        found = subprocess.run(probe, capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip() == version:
            return candidate
    return None


def versions(*args: str) -> None:
    """Run the unit tests (and doctests) on each of `OTHER_PYTHONS` the machine has."""
    for version in OTHER_PYTHONS:
        python = find_python(version)
        if python is None:
            print(f"Python {version}: not found on PATH or in pyenv; its unit tests did not run")
            continue
        env_dir = ROOT / "build" / f"venv-{version}"
        env_python = env_dir / "bin" / "python"
        if not env_python.exists():
            run([python, "-m", "venv", str(env_dir)])
        pip = [str(env_python), "-m", "pip", "--disable-pip-version-check", "-q"]
        run([*pip, "install", "-e", f"{ROOT}[test]"])
        print(f"Python {version} ({python}): unit tests", flush=True)
        run([str(env_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "fnact",
             "tests/unit", *args])  # fmt: skip


def readme_example() -> tuple[str, str]:
    """Return the README's first example code and the output it shows."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    (_, code), (_, printed) = blocks[1], blocks[2]
    return code, printed


def package() -> None:
    """Build the wheel, install it with its server extra in a new venv, run the first example."""
    dist = ROOT / "build" / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    run([str(PYTHON), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)])
    (wheel,) = dist.glob("fnact-*.whl")
    with tempfile.TemporaryDirectory() as folder:
        place = Path(folder)
        venv.EnvBuilder(with_pip=True).create(place / "venv")
        python = place / "venv" / "bin" / "python"
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
        run([*pip, "install", f"fnact[server] @ {wheel.as_uri()}"])
        code, printed = readme_example()
        (place / "hello.py").write_text(code)
        done = subprocess.run([str(python), "hello.py"], cwd=place, capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip
        if done.returncode or done.stdout != printed:
            sys.exit(f"the README's first example from {wheel.name} printed:\n{done.stdout}"
                     f"{done.stderr}\nexpected:\n{printed}")  # fmt: skip
        fnact = str(place / "venv" / "bin" / "fnact")
        shown = subprocess.run([fnact, "--version"], capture_output=True, text=True, check=True)
        # fnact check on a history recorded there, against the first example's own activity.
        (place / "record.py").write_text(_RECORD_HELLO)
        run([str(python), "record.py"], cwd=place)
        checked = subprocess.run([fnact, "check", "hello:greet", "--history", "hello.json"],
                                 cwd=place, capture_output=True, text=True)  # fmt: skip
        if checked.returncode or "0 incompatible" not in checked.stdout:
            sys.exit(f"fnact check from {wheel.name} failed:\n{checked.stdout}{checked.stderr}")
        print(f"{wheel.name}: installed in a clean venv; the README's first example ran; "
              f"{shown.stdout.strip()}; fnact check: {checked.stdout.strip()}")  # fmt: skip


_RECORD_HELLO = """
import asyncio
from pathlib import Path

import fnact
import fnact.worker
from hello import Hello, greet


async def main() -> None:
    with fnact.worker.DevServer() as server:
        client = await fnact.worker.connect(server.address)
        async with fnact.worker.create_worker(client, task_queue="hello",
                                              container=fnact.Container(),
                                              activities=[greet], workflows=[Hello]):
            handle = await client.start_workflow(Hello.run, ["Ada", " "], id="hello",
                                                 task_queue="hello")
            await handle.result()
            Path("hello.json").write_text((await handle.fetch_history()).to_json())


if __name__ == "__main__":
    asyncio.run(main())
"""


def main(argv: list[str]) -> None:
    """Dispatch one task."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    task, extra = argv[0], argv[1:]
    tasks = {
        "example": lambda: run([str(PYTHON), "-m", "examples.metadata", *extra]),
        # coverage wraps pytest (fnact's pytest plugin imports fnact before pytest-cov could
        # start); tests/conftest.py prints the report before pytest's summary line.
        "test": lambda: (
            ensure_azurite(),
            run([str(PYTHON), "-m", "coverage", "run", "-m", "pytest", *extra]),
        ),
        "lint": lambda: (
            tool("ruff", "format", "--check", "."),
            tool("ruff", "check", "."),
        ),
        "types": lambda: tool("mypy", *extra),
        "pyright": lambda: pyright(*extra),
        "docs": lambda: tool("mkdocs", "build", "--strict", *extra),
        "bench": lambda: run([str(PYTHON), "benchmarks/run.py", *extra]),
        "versions": lambda: (ensure_azurite(), versions(*extra)),
        "package": package,
    }
    if task == "ci":
        ensure_env()
        for name in ("lint", "types", "pyright", "docs", "test", "versions", "package"):
            print(f"== {name}", flush=True)
            tasks[name]()
        return
    if task not in tasks:
        sys.exit(f"unknown task {task!r}; try: {', '.join([*tasks, 'ci'])}")
    ensure_env()
    tasks[task]()


if __name__ == "__main__":
    main(sys.argv[1:])
