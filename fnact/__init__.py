"""fnact: functional, dependency-injected activities for Temporal.

This module holds what an activity author writes with. Building and running
workers is `fnact.worker`; the workflow side is `fnact.workflow`; writing a state
store is `fnact.state`; tests use `fnact.testing`; errors live in `fnact.exceptions`.
"""

from fnact._activity import Activity, ActivityDecorator, ActivityOptions, SyncActivity, activity
from fnact._attempt import get_workflow_id, get_workflow_run_id
from fnact._clock import Clock, SystemClock
from fnact._container import Container, Settings
from fnact._context import ActivityContext
from fnact._deprecation import moved_names
from fnact._heartbeat import Heartbeat, Heartbeater, auto_heartbeater
from fnact._logging import BoundLogger
from fnact._outcome import Fault
from fnact._outputs._run_outputs import OutputRef, Outputs, OutputWriter
from fnact._paths import build_output_path
from fnact._secret import Secret
from fnact._version import __version__ as __version__

_moved = moved_names(
    "fnact",
    {
        **dict.fromkeys(
            [
                "ConnectOptions",
                "DevServer",
                "HealthProbes",
                "JSONFormatter",
                "Plugin",
                "RunContextCache",
                "RunContextStats",
                "TextFormatter",
                "Worker",
                "WorkerOptions",
                "WorkerSpec",
                "connect",
                "create_worker",
                "data_converter",
                "run_worker",
            ],
            "fnact.worker",
        ),
        **dict.fromkeys(
            ["InMemoryStateStore", "RunKey", "RunState", "StateStats", "StateStore"], "fnact.state"
        ),
        "FakeClock": "fnact.testing",
    },
)


def __getattr__(name: str) -> object:
    """Return a name that moved to another module, warning with its new import path."""
    return _moved(name)


__all__ = [
    "Activity",
    "ActivityContext",
    "ActivityDecorator",
    "ActivityOptions",
    "BoundLogger",
    "Clock",
    "Container",
    "Fault",
    "Heartbeat",
    "Heartbeater",
    "OutputRef",
    "OutputWriter",
    "Outputs",
    "Secret",
    "Settings",
    "SyncActivity",
    "SystemClock",
    "activity",
    "auto_heartbeater",
    "build_output_path",
    "get_workflow_id",
    "get_workflow_run_id",
]
