"""Test fnact activities without a cluster, and workflows against a real dev server.

Installing fnact registers a pytest plugin (`fnact.testing._plugin`) with fixtures
for all of this: ``activity_harness``, ``temporal_server``, ``temporal_client``,
``fnact_worker`` and ``fnact_task_queue``.
"""

from fnact._clock import FakeClock
from fnact._deprecation import moved_names
from fnact._history_check import (
    CompatibilityReport,
    Incompatibility,
    RecordedRun,
    runs_from_client,
    runs_from_files,
)
from fnact._history_check import check_runs as check_compatibility
from fnact.testing._activity import run_activity
from fnact.testing._assertions import assert_failure, assert_success
from fnact.testing._harness import ActivityHarness
from fnact.testing._info import activity_info, run_started_at
from fnact.testing._protocols import StartWorker
from fnact.testing._rehearsal import Crash, CrashRehearsal, RehearsedCrash
from fnact.testing._run import ActivityRun, StateCounts

_moved = moved_names(
    "fnact.testing",
    {
        "DevServer": "fnact.worker",
        "DevServerError": "fnact.exceptions",
        "find_temporal_cli": "fnact.worker",
    },
)


def __getattr__(name: str) -> object:
    """Return a name that moved to another module, warning with its new import path."""
    return _moved(name)


__all__ = [
    "ActivityHarness",
    "ActivityRun",
    "CompatibilityReport",
    "Crash",
    "CrashRehearsal",
    "FakeClock",
    "Incompatibility",
    "RecordedRun",
    "RehearsedCrash",
    "StartWorker",
    "StateCounts",
    "activity_info",
    "assert_failure",
    "assert_success",
    "check_compatibility",
    "run_activity",
    "run_started_at",
    "runs_from_client",
    "runs_from_files",
]
