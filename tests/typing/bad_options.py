"""Deliberate type errors in fnact's typed options; mypy must report each tagged line.

``tests/typing/test_typed_options.py`` runs mypy on this file and checks that it reports
an error on exactly the lines whose comment starts with ``E:`` followed by the error code
or a fragment of the message. Nothing here runs: pytest only imports the module (for
doctests).
"""

from __future__ import annotations

from typing import Any

import temporalio.client
from temporalio.runtime import Runtime

from fnact._worker._options import WorkerOptions
from fnact.worker import WorkerSpec, connect, create_worker, run_worker


async def misspelled_and_mistyped(c: temporalio.client.Client, k: Any) -> None:
    create_worker(c, task_queue="q", container=k, max_concurent_activities=5)  # E: call-arg
    create_worker(c, task_queue="q", container=k, max_concurrent_activities="5")  # E: arg-type
    create_worker(c, task_queue="q", container=k, graceful_shutdown_timeout=10)  # E: arg-type
    await run_worker(task_queue="q", container=k, max_cached_workflows=1.5)  # E: arg-type
    await connect("localhost:7233", tls="yes")  # E: arg-type
    await connect("localhost:7233", runtme=Runtime.default())  # E: call-arg


def bad_specs(k: Any) -> None:
    WorkerSpec(task_queue="q", container=k, tls="yes")  # E: arg-type
    WorkerSpec(task_queue="q", container=k, worker_options={"debug_mod": True})  # E: unknown-key
    WorkerSpec(task_queue="q", container=k, worker_options={"debug_mode": 1})  # E: typeddict-item


def bad_dict() -> WorkerOptions:
    return {"max_concurrent_activities": 5, "identity": 7}  # E: typeddict-item
