"""Build, connect and run workers of fnact activities.

`create_worker` builds a Temporal worker from a container and a list of
activities; `run_worker` runs one until a signal; `Plugin` brings fnact into an
app that builds its own `temporalio.worker.Worker`; `DevServer` starts a local
Temporal server; `execute_activity` runs an fnact activity with no workflow (a
standalone activity) from a client.
"""

from fnact._converter import data_converter
from fnact._logging import JSONFormatter, TextFormatter
from fnact._run_facts import RunContextCache, RunContextStats
from fnact._standalone import StandaloneActivity, execute_activity, start_activity
from fnact._storage_driver import ObjectStoreDriver
from fnact._worker._build import Worker, connect, create_worker, run_worker
from fnact._worker._devserver import DevServer, find_temporal_cli
from fnact._worker._health import HealthProbes
from fnact._worker._options import ConnectOptions, WorkerOptions
from fnact._worker._plugin import Plugin
from fnact._worker._spec import WorkerSpec

__all__ = [
    "ConnectOptions",
    "DevServer",
    "HealthProbes",
    "JSONFormatter",
    "ObjectStoreDriver",
    "Plugin",
    "RunContextCache",
    "RunContextStats",
    "StandaloneActivity",
    "TextFormatter",
    "Worker",
    "WorkerOptions",
    "WorkerSpec",
    "connect",
    "create_worker",
    "data_converter",
    "execute_activity",
    "find_temporal_cli",
    "run_worker",
    "start_activity",
]
