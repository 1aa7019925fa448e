"""fnact: functional, dependency-injected activities for Temporal."""

from fnact._activity import Activity, ActivityOptions, activity
from fnact._clock import Clock, FakeClock, SystemClock
from fnact._codec import data_converter
from fnact._container import Container, Settings
from fnact._context import ActivityContext
from fnact._devserver import DevServer
from fnact._heartbeat import Heartbeat, Heartbeater, auto_heartbeater
from fnact._logging import BoundLogger, JSONFormatter
from fnact._options import ConnectOptions, WorkerOptions
from fnact._outcome import Fault
from fnact._paths import build_output_path
from fnact._plugin import Plugin
from fnact._runcontext import RunContextCache, RunContextStats
from fnact._runinfo import get_workflow_id, get_workflow_run_id
from fnact._secret import Secret
from fnact._spec import WorkerSpec
from fnact._state import InMemoryStateStore, RunKey, RunState, StateStats, StateStore
from fnact._worker import Worker, connect, create_worker, run_worker

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
