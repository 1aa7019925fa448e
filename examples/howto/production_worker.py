"""A production worker of the outputs example, for the ``fnact`` command.

    fnact worker examples.howto.production_worker:spec

It logs JSON lines to stderr and writes every run's outputs under
``$REPORTS_OUTPUT_ROOT``. The how-to guide "Run workers in production" shows it;
`production.sh` beside it holds that guide's shell snippets.
"""

# --8<-- [start:imports]
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import fnact
import fnact.worker
from examples.howto.logging_setup import configure_logging
from examples.howto.outputs import Checksums, build_container, export_orders
from examples.howto.workflows import DailyExport

# --8<-- [end:imports]


# --8<-- [start:spec]
def spec() -> fnact.worker.WorkerSpec:
    """Build the worker when ``fnact worker`` starts it, not when the module is imported."""
    configure_logging()  # JSON lines, at fnact worker's --log-level
    # The same shared folder (a network filesystem) on every machine that runs a worker.
    output_root = Path(os.environ.get("REPORTS_OUTPUT_ROOT", "fnact-output")).resolve()
    return fnact.worker.WorkerSpec(
        task_queue="reports",
        container=build_container(output_root),
        activities=[export_orders, Checksums(output_root).write_checksums],
        workflows=[DailyExport],
        # SIGTERM: stop polling, give running activities a minute to finish.
        options={"graceful_shutdown_timeout": timedelta(minutes=1)},
    )


# --8<-- [end:spec]
