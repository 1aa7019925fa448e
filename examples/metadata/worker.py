"""The metadata example's worker, for the ``fnact`` command.

    fnact worker examples.metadata.worker:spec

Output goes under ``$FNACT_OUTPUT_ROOT`` (``fnact-example/output`` by default).
"""

# --8<-- [start:imports]
from __future__ import annotations

import os
from pathlib import Path

import fnact
import fnact.worker
from examples.metadata.__main__ import TASK_QUEUE, build_container
from examples.metadata.activities import describe_columns, list_tables, write_metadata
from examples.metadata.workflows import ExtractMetadata

# --8<-- [end:imports]


# --8<-- [start:spec]
def spec() -> fnact.worker.WorkerSpec:
    """Build the example's worker: its container is built when the worker starts."""
    root = os.environ.get("FNACT_OUTPUT_ROOT", "fnact-example/output")  # a folder or a URL
    output_root = root if "://" in root else Path(root).resolve()
    return fnact.worker.WorkerSpec(
        task_queue=TASK_QUEUE,
        container=build_container(output_root),
        activities=[list_tables, describe_columns, write_metadata],
        workflows=[ExtractMetadata],
    )


# --8<-- [end:spec]
