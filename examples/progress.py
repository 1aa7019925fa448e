"""A workflow whose activities report progress, to watch with ``fnact watch``.

In three terminals::

    fnact dev
    TEMPORAL_ADDRESS=127.0.0.1:7233 fnact worker examples.progress:spec
    TEMPORAL_ADDRESS=127.0.0.1:7233 python -m examples.progress   # prints the command below
    fnact watch copy-tables-1a2b3c4d

`copy_table` pretends to copy a table's rows in twenty steps and reports each
step as a percentage with ``ctx.heartbeat``; `CopyTables` copies a few tables
at once.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import timedelta

import msgspec
from returns.result import Failure, Result, Success
from temporalio import workflow
from temporalio.exceptions import ApplicationError

import fnact
import fnact.worker
import fnact.workflow

TASK_QUEUE = "fnact-example-progress"
STEPS = 20


class CopyTable(msgspec.Struct, frozen=True):
    """Input of `copy_table`: the table, its row count and how long copying takes."""

    table: str
    rows: int
    seconds: float = 2.0
    missing: bool = False
    """The table does not exist: the copy returns a `TableMissing` Failure at once."""
    flaky: bool = False
    """The first attempt loses its connection halfway (raises); the retry copies it all."""


class TableMissing(fnact.Fault):
    """The table to copy does not exist."""

    table: str


class CopyArgs(msgspec.Struct, frozen=True):
    """The workflow's input: the tables to copy, all at once."""

    tables: tuple[CopyTable, ...] = (
        CopyTable("customers", rows=1_200, seconds=2.0),
        CopyTable("orders", rows=5_000, seconds=3.0),
        CopyTable("order_lines", rows=20_000, seconds=4.0),
    )


@fnact.activity(start_to_close_timeout=timedelta(minutes=5), heartbeat_timeout=timedelta(seconds=3))
async def copy_table(ctx: fnact.ActivityContext, args: CopyTable) -> Result[int, TableMissing]:
    """Copy a table in twenty steps, reporting progress in percent after each."""
    if args.missing:
        return Failure(TableMissing(table=args.table))
    for step in range(1, STEPS + 1):
        await asyncio.sleep(args.seconds / STEPS)
        copied = args.rows * step // STEPS
        ctx.heartbeat(progress=100 * step / STEPS, message=f"{copied:,} of {args.rows:,} rows")
        if args.flaky and ctx.info.attempt == 1 and step == STEPS // 2:
            raise ConnectionError(f"lost the connection to {args.table}")
    return Success(args.rows)


@workflow.defn
class CopyTables:
    """Copy every table at once and return how many rows were copied."""

    @workflow.run
    async def run(self, args: CopyArgs) -> int:
        """Run one `copy_table` per table; a Failure fails the workflow."""
        results = await asyncio.gather(
            *(
                fnact.workflow.execute_activity(copy_table, table, summary=f"copy {table.table}")
                for table in args.tables
            )
        )
        copied = 0
        for result in results:
            if isinstance(result, Failure):
                raise ApplicationError(f"copy failed: {result.failure()!r}", non_retryable=True)
            copied += result.unwrap()
        return copied


def spec() -> fnact.worker.WorkerSpec:
    """Return the example's worker, for ``fnact worker examples.progress:spec``."""
    return fnact.worker.WorkerSpec(
        task_queue=TASK_QUEUE,
        container=fnact.Container(),
        activities=[copy_table],
        workflows=[CopyTables],
    )


async def start(address: str | None = None) -> str:
    """Start a `CopyTables` run on ``address`` (``TEMPORAL_ADDRESS`` by default); return its id."""
    client = await fnact.worker.connect(address)
    handle = await client.start_workflow(
        CopyTables.run,
        CopyArgs(),
        id=f"copy-tables-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
    )
    return handle.id


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m examples.progress", description=__doc__)
    parser.add_argument("--address", help="host:port of Temporal (default: TEMPORAL_ADDRESS)")
    workflow_id = asyncio.run(start(parser.parse_args().address))
    print(f"started {workflow_id}; watch it with: fnact watch {workflow_id}")
