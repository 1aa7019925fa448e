"""A long export: a table read page by page from a blocking database, written as files.

`export_table` checkpoints a `Cursor` after each page and reports progress, so a retry
resumes where the failed attempt stopped. `compress_export` runs blocking work in a
thread that heartbeats and stops when cancelled. `hold_lock` waits for cancellation.
`run_command` is a plain Temporal activity kept alive by `fnact.auto_heartbeater`.
The how-to guide "Write long-running activities" shows these pieces.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import gzip
import shutil
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success
from temporalio import activity

import fnact

# --8<-- [end:imports]

# --8<-- [start:definitions]
_encoder = msgspec.json.Encoder()


class Warehouse:
    """A blocking client of the database rows are exported from (SQLite here).

    Every call blocks the thread it runs on: activities call it through
    `ActivityContext.run_blocking`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def count(self, table: str) -> int | None:
        """Return how many rows ``table`` has, or ``None`` when there is no such table."""
        with closing(sqlite3.connect(self.path)) as conn:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            if exists is None:
                return None
            (count,) = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()
            return int(count)

    def page(self, table: str, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Return up to ``limit`` rows of ``table`` whose ``id`` is above ``after_id``, in order."""
        with closing(sqlite3.connect(self.path)) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                f"SELECT * FROM {_quote(table)} WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
            return [dict(row) for row in rows]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class Container(fnact.Container):
    """The composition root of the export activities."""

    warehouse = providers.Singleton(Warehouse, path="warehouse.db")


class ExportTable(msgspec.Struct, frozen=True):
    """Input of `export_table`: which table, in pages of how many rows."""

    table: str
    page_size: int = 1000


class ExportReport(msgspec.Struct, frozen=True):
    """What `export_table` did."""

    table: str
    rows: int
    pages: int
    resumed_after_id: int
    """The last row id an earlier attempt had exported (0 when starting afresh)."""


class TableMissing(fnact.Fault):
    """The table to export does not exist."""

    table: str


# --8<-- [end:definitions]


# --8<-- [start:cursor]
class Cursor(msgspec.Struct, frozen=True):
    """Where a retry resumes: after the last row id exported, with the totals so far.

    No field has a default, so a checkpoint from an older shape fails to decode
    instead of silently resuming from a default.
    """

    after_id: int
    pages: int
    rows: int


# --8<-- [end:cursor]


# --8<-- [start:export]
@fnact.activity(
    start_to_close_timeout=timedelta(hours=2),
    heartbeat_timeout=timedelta(seconds=30),
    stall_timeout=timedelta(minutes=10),
    checkpoint=Cursor,
)
async def export_table(
    ctx: fnact.ActivityContext,
    args: ExportTable,
    warehouse: Warehouse = Provide[Container.warehouse],
) -> Result[ExportReport, TableMissing]:
    """Export a table as JSON-lines files, one per page, resuming after a failed attempt."""
    start = ctx.last_checkpoint(Cursor) or Cursor(after_id=0, pages=0, rows=0)
    total = await ctx.run_blocking(warehouse.count, args.table)
    if total is None:
        return Failure(TableMissing(table=args.table))
    cursor = start
    try:
        while (
            page := await ctx.run_blocking(write_page, ctx, warehouse, args, cursor)
        ) is not None:
            cursor = page
            ctx.checkpoint(cursor)
            ctx.heartbeat(
                progress=100 * cursor.rows / max(total, 1),
                message=f"{cursor.rows} of {total} rows",
            )
    except asyncio.CancelledError:
        ctx.logger.warning("export cancelled", table=args.table, rows=cursor.rows)
        raise  # always: swallowing it would report a partial export as done
    return Success(ExportReport(args.table, cursor.rows, cursor.pages, start.after_id))


# --8<-- [end:export]


# --8<-- [start:write_page]
def write_page(
    ctx: fnact.ActivityContext, warehouse: Warehouse, args: ExportTable, cursor: Cursor
) -> Cursor | None:
    """Write the page after ``cursor`` as one file; blocking, so it runs in a thread.

    Returns the cursor after that page, or ``None`` when no rows are left.
    """
    rows = warehouse.page(args.table, cursor.after_id, args.page_size)
    if not rows:
        return None
    lines = b"".join(_encoder.encode(row) + b"\n" for row in rows)
    # Atomic, and the same name on a retry: a page written twice is replaced whole.
    ctx.write_output(f"{args.table}/page-{cursor.pages:05d}.jsonl", lines)
    return Cursor(after_id=rows[-1]["id"], pages=cursor.pages + 1, rows=cursor.rows + len(rows))


# --8<-- [end:write_page]


# --8<-- [start:compress]
class CompressExport(msgspec.Struct, frozen=True):
    """Input of `compress_export`: the table whose exported pages to gzip."""

    table: str


@fnact.activity(start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=30))
async def compress_export(
    ctx: fnact.ActivityContext, args: CompressExport
) -> Result[int, fnact.Fault]:
    """Gzip every exported page of a table in a thread; the event loop keeps heartbeating."""
    compressed = await ctx.run_blocking(gzip_pages, ctx, ctx.output_path / args.table)
    if ctx.is_cancelled:
        raise asyncio.CancelledError  # the thread stopped early: never report it as done
    return Success(compressed)


def gzip_pages(ctx: fnact.ActivityContext, folder: Path) -> int:
    """Gzip the page files in ``folder`` one by one, reporting progress; stop when cancelled."""
    pages = sorted(folder.glob("page-*.jsonl"))
    for done, page in enumerate(pages):
        if ctx.is_cancelled:  # cancellation cannot interrupt a thread: look for it
            return done
        with page.open("rb") as source, gzip.open(f"{page}.gz", "wb") as target:
            shutil.copyfileobj(source, target)
        page.unlink()
        ctx.heartbeat(progress=100 * (done + 1) / len(pages), message=f"gzipped {page.name}")
    return len(pages)


# --8<-- [end:compress]


# --8<-- [start:hold_lock]
class Lock(msgspec.Struct, frozen=True):
    """Input of `hold_lock`: the lock file to hold."""

    path: str


class LockTaken(fnact.Fault):
    """Someone else holds the lock."""

    path: str


@fnact.activity(start_to_close_timeout=timedelta(hours=12), heartbeat_timeout=timedelta(seconds=30))
async def hold_lock(ctx: fnact.ActivityContext, lock: Lock) -> Result[None, LockTaken]:
    """Hold a lock file until the workflow cancels this activity, then remove it."""
    path = Path(lock.path)
    try:
        await ctx.run_blocking(path.touch, exist_ok=False)
    except FileExistsError:
        return Failure(LockTaken(path=lock.path))
    try:
        await ctx.wait_for_cancel()  # auto-heartbeat is what delivers the cancellation
    finally:
        await ctx.run_blocking(path.unlink, missing_ok=True)
    raise asyncio.CancelledError  # in a worker, the await above has already raised it


# --8<-- [end:hold_lock]


# --8<-- [start:plain]
@activity.defn  # outermost, so Temporal registers the heartbeating wrapper
@fnact.auto_heartbeater
async def run_command(argv: list[str]) -> int:
    """Run an external program to the end and return its exit code: a plain Temporal activity."""
    process = await asyncio.create_subprocess_exec(*argv)
    try:
        return await process.wait()
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise


# --8<-- [end:plain]
