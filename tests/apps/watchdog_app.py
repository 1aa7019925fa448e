"""An activity that blocks its worker's event loop, and one that waits politely beside it.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from returns.result import Result, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def block_the_loop(ctx: fnact.ActivityContext, seconds: float) -> Result[str, fnact.Fault]:
    """Hold the event loop with a blocking sleep: the mistake the watchdog reports."""
    time.sleep(seconds)  # noqa: ASYNC251  # BLOCKING LINE
    return Success("woke")


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def wait_politely(ctx: fnact.ActivityContext, seconds: float) -> Result[str, fnact.Fault]:
    """Await a sleep: it yields the loop, and is stalled only by the other one."""
    await asyncio.sleep(seconds)
    return Success("waited")


@workflow.defn
class BlockTheLoop:
    """Start a polite activity, then the one that blocks the loop, and wait for both."""

    @workflow.run
    async def run(self, seconds: float) -> list[str]:
        polite = fnact.workflow.start_activity(wait_politely, seconds * 2)
        await workflow.sleep(0.3)  # the polite one is running, awaiting, when the loop blocks
        blocked = await fnact.workflow.execute_activity(block_the_loop, seconds)
        results = [blocked, await polite]
        return [r.unwrap() for r in results]
