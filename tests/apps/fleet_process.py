"""One worker process of a simulated fleet, reporting its run-state counters to a file.

    python -m tests.apps.fleet_process ROLE ADDRESS TASK_QUEUE STATUS_FILE

ROLE is ``workflows`` (runs the run-context test workflows only) or ``activities``
(runs their activities only). The process prints "ready" once polling, rewrites
STATUS_FILE (JSON) every 100 ms, and runs until sent SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import providers

import fnact
import fnact.worker
from tests.apps.run_context_app import ACTIVITIES, WORKFLOWS, RunContextContainer

END_CHECK = timedelta(seconds=float(os.environ.get("FNACT_TEST_END_CHECK", "2")))


def status(container: RunContextContainer) -> dict[str, Any]:
    """Return what this process holds and did."""
    ledger = container.ledger()
    with ledger.lock:
        builds, closes = dict(ledger.builds), dict(ledger.closes)
    cache: fnact.worker.RunContextCache = container.run_context()
    return {
        "pid": os.getpid(),
        "live": len(container.state_store()),
        "known_runs": len(cache),
        "reads": cache.stats.reads,
        "end_checks": cache.stats.end_checks,
        "builds": builds,
        "closes": closes,
    }


async def report_forever(container: RunContextContainer, path: Path) -> None:
    """Rewrite the status file atomically every 100 ms."""
    partial = path.with_suffix(".part")
    while True:
        partial.write_text(json.dumps(status(container)))
        partial.replace(path)
        await asyncio.sleep(0.1)


async def main(role: str, address: str, task_queue: str, status_file: str) -> None:
    """Run one worker of the given role until SIGTERM."""
    client = await fnact.worker.connect(address, use_environment=False)
    container = RunContextContainer()
    container.settings.override(providers.Object(fnact.Settings(run_end_check_interval=END_CHECK)))
    tasks: list[asyncio.Task[None]] = []

    def ready(*_: object) -> None:
        tasks.append(asyncio.create_task(report_forever(container, Path(status_file))))
        print("ready", flush=True)

    kinds: dict[str, Any] = (
        {"workflows": WORKFLOWS} if role == "workflows" else {"activities": ACTIVITIES}
    )
    await fnact.worker.run_worker(
        task_queue=task_queue,
        container=container,
        client=client,
        on_ready=ready,
        max_concurrent_activities=200,
        **kinds,
    )
    for task in tasks:
        task.cancel()
    Path(status_file).write_text(json.dumps(status(container)))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
    sys.stdout.flush()
    os._exit(0)  # skip a teardown temporalio's threads can crash (sdk-python#300)
