"""The public surface: pinned names, no import-time side effects."""

from __future__ import annotations

import inspect
import subprocess
import sys

import fnact
import fnact.exceptions
import fnact.testing
import fnact.workflow


def test_all_is_pinned_and_sorted() -> None:
    """fnact.__all__ lists exactly the public names, sorted, each importable."""
    assert fnact.__all__ == sorted(fnact.__all__)
    assert set(fnact.__all__) == {
        "Activity", "ActivityContext", "ActivityOptions", "BoundLogger", "Clock", "ConnectOptions",
        "Container",
        "DevServer", "FakeClock", "Fault", "HealthProbes", "Heartbeat", "Heartbeater",
        "InMemoryStateStore",
        "JSONFormatter", "TextFormatter", "auto_heartbeater",
        "Plugin", "RunContextCache", "RunContextStats",
        "RunKey", "RunState", "Secret", "Settings", "StateStats", "StateStore", "SystemClock",
        "Worker", "WorkerOptions", "WorkerSpec",
        "activity", "build_output_path", "connect", "create_worker", "data_converter",
        "get_workflow_id", "get_workflow_run_id", "run_worker",
    }  # fmt: skip
    for name in fnact.__all__:
        assert getattr(fnact, name) is not None


def test_exceptions_share_one_base() -> None:
    """Every fnact exception derives from FnactError."""
    for name in fnact.exceptions.__all__:
        assert issubclass(getattr(fnact.exceptions, name), fnact.exceptions.FnactError)


def test_exceptions_all_is_pinned_and_sorted() -> None:
    """fnact.exceptions.__all__ lists every exception fnact raises, DevServerError included."""
    assert fnact.exceptions.__all__ == sorted(fnact.exceptions.__all__)
    assert set(fnact.exceptions.__all__) == {
        "ActivityDefinitionError", "DependencyError", "DevServerError", "FnactError",
        "NotInActivityError", "StateError", "WorkerConfigurationError",
    }  # fmt: skip


def test_dev_server_error_keeps_its_import_paths() -> None:
    """DevServerError is one class, whether imported from exceptions, testing or the server."""
    from fnact._devserver import DevServerError

    assert fnact.exceptions.DevServerError is fnact.testing.DevServerError is DevServerError
    assert "DevServerError" in fnact.testing.__all__


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
