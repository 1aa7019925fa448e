"""The app's worker: its own client and plain Temporal worker, with fnact added by a plugin.

    python -m examples.existing_app.worker [ADDRESS]

connects to the Temporal server at ADDRESS (``localhost:7233`` by default) and runs the
worker on the ``shop`` task queue until Ctrl+C.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import contextlib
import sys

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

import fnact.worker
from examples.existing_app.activities import ShopContainer, quote_order, reserve_line
from examples.existing_app.workflows import ShipOrder

# --8<-- [end:imports]


# --8<-- [start:connect]
async def connect(address: str, container: ShopContainer) -> Client:
    """Connect the app's client: its own pydantic converter, and fnact's plugin."""
    return await Client.connect(
        address,
        data_converter=pydantic_data_converter,
        plugins=[fnact.worker.Plugin(container)],
    )


# --8<-- [end:connect]


# --8<-- [start:worker]
TASK_QUEUE = "shop"


def build_worker(client: Client, task_queue: str = TASK_QUEUE) -> Worker:
    """Build the app's plain Temporal worker: its own activity beside the fnact one."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ShipOrder],
        activities=[quote_order, reserve_line],
    )


# --8<-- [end:worker]


# --8<-- [start:main]
async def main(address: str, task_queue: str = TASK_QUEUE) -> None:
    """Run the app's worker until it is cancelled (Ctrl+C)."""
    client = await connect(address, ShopContainer())
    await build_worker(client, task_queue).run()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "localhost:7233"))
# --8<-- [end:main]
