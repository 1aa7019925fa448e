"""fnact: functional, dependency-injected activities for Temporal.

Importing fnact loads what activity modules use. The worker-side names (`Plugin`,
`create_worker`, `connect`, `run_worker`, `Worker`, `WorkerSpec`, `DevServer`,
`HealthProbes`, `ConnectOptions`, `WorkerOptions`) load their modules when first used.
"""

from typing import TYPE_CHECKING, Any

from fnact._activity import Activity, ActivityOptions, activity
from fnact._clock import Clock, FakeClock, SystemClock
from fnact._codec import data_converter
from fnact._container import Container, Settings
from fnact._context import ActivityContext
from fnact._heartbeat import Heartbeat, Heartbeater, auto_heartbeater
from fnact._logging import BoundLogger, JSONFormatter, TextFormatter
from fnact._outcome import Fault
from fnact._paths import build_output_path
from fnact._runcontext import RunContextCache, RunContextStats
from fnact._runinfo import get_workflow_id, get_workflow_run_id
from fnact._secret import Secret
from fnact._state import InMemoryStateStore, RunKey, RunState, StateStats, StateStore
from fnact._version import __version__ as __version__

if TYPE_CHECKING:
    from fnact._devserver import DevServer
    from fnact._health import HealthProbes
    from fnact._options import ConnectOptions, WorkerOptions
    from fnact._plugin import Plugin
    from fnact._spec import WorkerSpec
    from fnact._worker import Worker, connect, create_worker, run_worker

_LAZY = {
    "DevServer": "fnact._devserver",
    "HealthProbes": "fnact._health",
    "ConnectOptions": "fnact._options",
    "WorkerOptions": "fnact._options",
    "Plugin": "fnact._plugin",
    "WorkerSpec": "fnact._spec",
    "Worker": "fnact._worker",
    "connect": "fnact._worker",
    "create_worker": "fnact._worker",
    "run_worker": "fnact._worker",
}
"""Worker-side names and their modules, imported on first use: activity modules skip them."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fnact' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Activity",
    "ActivityContext",
    "ActivityOptions",
    "BoundLogger",
    "Clock",
    "ConnectOptions",
    "Container",
    "DevServer",
    "FakeClock",
    "Fault",
    "HealthProbes",
    "Heartbeat",
    "Heartbeater",
    "InMemoryStateStore",
    "JSONFormatter",
    "Plugin",
    "RunContextCache",
    "RunContextStats",
    "RunKey",
    "RunState",
    "Secret",
    "Settings",
    "StateStats",
    "StateStore",
    "SystemClock",
    "TextFormatter",
    "Worker",
    "WorkerOptions",
    "WorkerSpec",
    "activity",
    "auto_heartbeater",
    "build_output_path",
    "connect",
    "create_worker",
    "data_converter",
    "get_workflow_id",
    "get_workflow_run_id",
    "run_worker",
]
