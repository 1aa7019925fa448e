"""The public surface: pinned names, no import-time side effects."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import fnact
import fnact.exceptions
import fnact.testing
import fnact.workflow

PUBLIC_MODULES = {
    "fnact": {
        "Activity", "ActivityContext", "ActivityDecorator", "ActivityOptions", "BoundLogger",
        "Clock", "Container", "Fault", "Heartbeat", "Heartbeater", "OutputRef", "OutputWriter",
        "Outputs", "Secret", "Settings", "SyncActivity", "SystemClock", "activity",
        "auto_heartbeater", "build_output_path",
        "get_workflow_id", "get_workflow_run_id",
    },
    "fnact.worker": {
        "ConnectOptions", "DevServer", "HealthProbes", "JSONFormatter", "ObjectStoreDriver",
        "Plugin",
        "RunContextCache", "RunContextStats", "StandaloneActivity", "execute_activity",
        "start_activity", "TextFormatter", "Worker", "WorkerOptions",
        "WorkerSpec", "connect", "create_worker", "data_converter", "find_temporal_cli",
        "run_worker",
    },
    "fnact.state": {"InMemoryStateStore", "RunKey", "RunState", "StateStats", "StateStore"},
    "fnact.testing": {
        "ActivityHarness", "ActivityRun", "CompatibilityReport", "Crash", "CrashRehearsal",
        "FakeClock", "Incompatibility", "RecordedRun", "RehearsedCrash", "StartWorker",
        "StateCounts", "activity_info", "assert_failure", "assert_success",
        "check_compatibility", "run_activity", "run_started_at", "runs_from_client",
        "runs_from_files",
    },
}  # fmt: skip


@pytest.mark.parametrize("module_name", sorted(PUBLIC_MODULES))
def test_all_is_pinned_and_sorted(module_name: str) -> None:
    """Each public module's __all__ lists exactly its pinned names, sorted, each importable."""
    module = importlib.import_module(module_name)
    assert module.__all__ == sorted(module.__all__)
    assert set(module.__all__) == PUBLIC_MODULES[module_name]
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_every_public_name_has_one_import_path() -> None:
    """No name is exported by two public modules."""
    seen: dict[str, str] = {}
    for module_name, names in PUBLIC_MODULES.items():
        for name in names:
            assert name not in seen, f"{name} is in {seen.get(name)} and {module_name}"
            seen[name] = module_name


NEW_IN_WORKER = {
    "find_temporal_cli", "ObjectStoreDriver", "StandaloneActivity", "execute_activity",
    "start_activity",
}  # fmt: skip
"""Names fnact.worker introduced: they never lived at the top level."""

MOVED = [
    *[("fnact", name, "fnact.worker") for name in sorted(PUBLIC_MODULES["fnact.worker"])
      if name not in NEW_IN_WORKER],
    *[("fnact", name, "fnact.state") for name in sorted(PUBLIC_MODULES["fnact.state"])],
    ("fnact", "FakeClock", "fnact.testing"),
    ("fnact.testing", "DevServer", "fnact.worker"),
    ("fnact.testing", "find_temporal_cli", "fnact.worker"),
    ("fnact.testing", "DevServerError", "fnact.exceptions"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "name", "new"), MOVED)
def test_old_path_warns_and_names_the_new_one(old: str, name: str, new: str) -> None:
    """A moved name still works from its old module, with a DeprecationWarning naming the new."""
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} moved: import it from {new};"):
        value = getattr(importlib.import_module(old), name)
    assert value is getattr(importlib.import_module(new), name)


def test_unknown_name_is_an_attribute_error() -> None:
    """A name that never existed is an AttributeError, not a deprecation."""
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        fnact.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_import_fnact_loads_no_worker_or_cli_module() -> None:
    """`import fnact` (and fnact.workflow) loads nothing from the worker side or the CLI."""
    code = (
        "import sys, fnact, fnact.workflow;"
        "loaded = [m for m in sys.modules if m.startswith(('fnact._worker', 'fnact.worker',"
        " 'fnact._cli', 'fnact.testing'))];"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_exceptions_share_one_base() -> None:
    """Every fnact exception derives from FnactError."""
    for name in fnact.exceptions.__all__:
        assert issubclass(getattr(fnact.exceptions, name), fnact.exceptions.FnactError)


def test_exceptions_all_is_pinned_and_sorted() -> None:
    """fnact.exceptions.__all__ lists every exception fnact raises, DevServerError included."""
    assert fnact.exceptions.__all__ == sorted(fnact.exceptions.__all__)
    assert set(fnact.exceptions.__all__) == {
        "ActivityDefinitionError", "DependencyError", "DevServerError", "FnactError",
        "NotInActivityError", "OutputError", "OutputIntegrityError", "OutputNotFoundError",
        "StateError", "WorkerConfigurationError",
    }  # fmt: skip


def test_dev_server_error_is_one_class() -> None:
    """DevServerError is one class, whether imported from exceptions or raised by the server."""
    from fnact._worker._devserver import DevServerError

    assert fnact.exceptions.DevServerError is DevServerError


def test_spelled_out_defaults_match_their_constants() -> None:
    """Defaults written as literals (so the reference shows no private name) stay in step."""
    from fnact._limits import DEFAULT_PAYLOAD_LIMIT

    for cls in (fnact.ActivityContext, fnact.Heartbeater):
        default = inspect.signature(cls).parameters["payload_limit"].default
        assert default == DEFAULT_PAYLOAD_LIMIT, cls
    assert fnact.Settings().payload_limit == DEFAULT_PAYLOAD_LIMIT


def test_import_configures_no_logging() -> None:
    """Importing fnact adds no handlers and changes no levels."""
    code = (
        "import logging; before = (logging.root.handlers[:], logging.root.level);"
        "import fnact, fnact.testing, fnact.workflow;"
        "assert (logging.root.handlers, logging.root.level) == before;"
        "assert not logging.getLogger('fnact').handlers"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
