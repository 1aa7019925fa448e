"""A worker of the integration test app in its own process, for crash tests.

    python -m tests.apps.worker_process ADDRESS TASK_QUEUE

It prints "ready" once polling and runs until killed or sent SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import fnact
import fnact.worker
from tests.apps.scenario_app import ACTIVITIES, Container


async def main(address: str, task_queue: str) -> None:
    """Run the worker until SIGTERM."""
    client = await fnact.worker.connect(address)

    def ready(*_: object) -> None:
        print("ready", flush=True)

    container = Container()
    output = os.environ.get("FNACT_TEST_OUTPUT")
    if output:
        container.settings.override(fnact.Settings(output_root=Path(output)))
    await fnact.worker.run_worker(
        task_queue=task_queue,
        container=container,
        activities=ACTIVITIES,
        client=client,
        on_ready=ready,
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
    sys.stdout.flush()
    os._exit(0)  # skip a teardown temporalio's threads can crash (sdk-python#300)
