"""A worker of the sync app's activities in its own process, for the kill test.

    python -m tests.apps.sync_process ADDRESS TASK_QUEUE

It prints "ready" once polling and runs until killed or sent SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import sys

import fnact.worker
from tests.apps.sync_app import ACTIVITIES, SyncContainer


async def main(address: str, task_queue: str) -> None:
    """Run the activity worker until SIGTERM."""
    client = await fnact.worker.connect(address, use_environment=False)

    def ready(*_: object) -> None:
        print("ready", flush=True)

    await fnact.worker.run_worker(
        task_queue=task_queue,
        container=SyncContainer(),
        activities=ACTIVITIES,
        client=client,
        on_ready=ready,
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
    sys.stdout.flush()
    os._exit(0)  # skip a teardown temporalio's threads can crash (sdk-python#300)
