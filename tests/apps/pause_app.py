"""A long, checkpointed, stateful activity to pause, unpause and reset from the CLI.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import msgspec
from dependency_injector import providers
from returns.result import Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow


class Job(msgspec.Struct, frozen=True):
    rows: int


class Never(fnact.Fault):
    """Declared, never returned."""


@dataclass
class Journal:
    """What each attempt of the activity saw and how it ended (shared with the test)."""

    starts: list[tuple[int, int]] = field(default_factory=list)
    """(attempt, first row) of each attempt."""
    endings: list[str | None] = field(default_factory=list)
    """``ctx.cancellation_reason`` of each attempt that was cancelled."""
    rows: list[int] = field(default_factory=list)


JOURNAL = Journal()
BUILDS = itertools.count(1)


class Session:
    """The run's handler: records how many were built."""

    def __init__(self) -> None:
        self.number = next(BUILDS)

    def close(self) -> None:
        """Nothing to close."""


class Container(fnact.Container):
    handler = providers.Factory(Session)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=5),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
    checkpoint=int,
)
async def scan(ctx: fnact.ActivityContext[Session, Job], job: Job) -> Result[int, Never]:
    """Scan rows one by one, checkpointing the next row, slowly enough to be paused."""
    _ = ctx.state.handler
    start = ctx.last_checkpoint(int) or 0
    JOURNAL.starts.append((ctx.info.attempt, start))
    try:
        for row in range(start, job.rows):
            JOURNAL.rows.append(row)
            await asyncio.sleep(0.1)
            ctx.checkpoint(row + 1)
    except asyncio.CancelledError:
        JOURNAL.endings.append(ctx.cancellation_reason)
        raise
    return Success(job.rows)


@workflow.defn(sandboxed=False)
class ScanAll:
    @workflow.run
    async def run(self, job: Job) -> int:
        return (await fnact.workflow.execute_activity(scan, job, activity_id="scan")).unwrap()
