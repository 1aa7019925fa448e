"""A run whose activities succeed, return a Failure and raise: what monitoring must tell apart.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow


class Tables(msgspec.Struct, frozen=True):
    """The run's input: the database to read."""

    database: str


class Cursor(msgspec.Struct, frozen=True):
    """Where a scan got to."""

    next: int


class TableMissing(fnact.Fault):
    """A terminal expected error."""

    table: str


class Handler:
    """A run's database client (counted, so its build shows in the metrics)."""

    def __init__(self, workflow_args: Tables) -> None:
        self.database = workflow_args.database


class Container(fnact.Container):
    """The app's container."""

    handler = providers.Callable(Handler)


Ctx = fnact.ActivityContext[Handler, Tables]


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=20),
    heartbeat_timeout=timedelta(seconds=5),
    checkpoint=Cursor,
)
async def scan(ctx: Ctx, rows: int) -> Result[str, TableMissing]:
    """Scan ``rows`` rows, checkpointing each: a Success that heartbeats."""
    for row in range(rows):
        ctx.checkpoint(Cursor(next=row + 1))
        await asyncio.sleep(0.05)
    return Success(f"{ctx.state.handler.database}: {rows} rows")


@fnact.activity(start_to_close_timeout=timedelta(seconds=20))
async def read_table(ctx: Ctx, table: str) -> Result[str, TableMissing]:
    """Return a terminal Failure: an expected error."""
    return Failure(TableMissing(table=table))


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(maximum_attempts=1),
)
async def crash(ctx: fnact.ActivityContext, reason: str) -> Result[str, TableMissing]:
    """Raise: a bug, not an expected error."""
    raise RuntimeError(reason)


class Report(msgspec.Struct, frozen=True):
    """What the run saw."""

    scanned: str
    failure: str
    crashed: str


@workflow.defn
class Observed:
    """Run one activity of each outcome."""

    @workflow.run
    async def run(self, args: Tables) -> Report:
        scanned = await fnact.workflow.execute_activity(scan, 4)
        failed = await fnact.workflow.execute_activity(read_table, "orders")
        try:
            await fnact.workflow.execute_activity(crash, "disk on fire")
            crashed = "no"
        except ActivityError as exc:
            crashed = type(exc.cause).__name__
        return Report(
            scanned=scanned.unwrap(),
            failure=type(failed.failure()).__name__,
            crashed=crashed,
        )
