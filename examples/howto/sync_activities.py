"""Sync activities: blocking code in a plain ``def``, run on the worker's threads.

`export_table` reads SQLite with the blocking ``sqlite3`` module and checkpoints each
batch; `wait_for_file` naps until a file appears, and stops when cancelled;
`render_page` drives a blocking renderer licensed for two sessions at once, so it
declares ``max_concurrent=2``. The how-to guide "Sync activities and blocking code"
shows these pieces; ``tests/examples/test_howto_sync_activities.py`` runs them on a
dev server.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import threading
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import msgspec
import temporalio.client
import temporalio.exceptions
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Result, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.worker
    import fnact.workflow

# --8<-- [end:imports]


# --8<-- [start:export]
class Export(msgspec.Struct, frozen=True):
    """Workflow input: a SQLite file with an ``events (id, name)`` table, and a batch size."""

    database: str
    batch: int = 100


class Exported(msgspec.Struct, frozen=True):
    """``export_table``'s checkpoint: how many rows are exported."""

    rows: int


@fnact.activity(
    start_to_close_timeout=timedelta(minutes=30),
    heartbeat_timeout=timedelta(seconds=30),
    checkpoint=Exported,
)
def export_table(ctx: fnact.ActivityContext, job: Export) -> Result[int, fnact.Fault]:
    """Export the events as CSV, one file per batch; a retry resumes after the last batch."""
    done = ctx.last_checkpoint(Exported) or Exported(rows=0)
    with closing(sqlite3.connect(job.database)) as db:  # made in this thread, used in it
        while True:
            rows: list[tuple[int, str]] = db.execute(
                "SELECT id, name FROM events ORDER BY id LIMIT ? OFFSET ?", (job.batch, done.rows)
            ).fetchall()
            if not rows:
                break
            lines = "".join(f"{event_id},{name}\n" for event_id, name in rows)
            ctx.write_output(f"events/{done.rows:08d}.csv", lines)
            done = Exported(rows=done.rows + len(rows))
            ctx.checkpoint(done, progress=done.rows)
    ctx.logger.info("events exported", rows=done.rows)
    return Success(done.rows)


# --8<-- [end:export]


# --8<-- [start:wait]
@fnact.activity(start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=10))
def wait_for_file(ctx: fnact.ActivityContext, path: str) -> Result[str, fnact.Fault]:
    """Wait until ``path`` exists, in short naps: a cancellation lands between two of them."""
    try:
        while not Path(path).exists():
            time.sleep(0.1)
    except temporalio.exceptions.CancelledError:
        ctx.logger.info("stopped waiting", path=path, reason=ctx.cancellation_reason)
        raise
    return Success(path)


# --8<-- [end:wait]


# --8<-- [start:render]
class Renderer:
    """A blocking rendering library, licensed for two sessions at once per machine."""

    seats = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0
        self.most_in_use = 0

    def render(self, page: int) -> str:
        """Render one page; a third session at once breaks the licence."""
        with self._lock:
            if self.in_use == self.seats:
                raise RuntimeError("licence exceeded: two sessions at most")
            self.in_use += 1
            self.most_in_use = max(self.most_in_use, self.in_use)
        try:
            time.sleep(0.05)
            return f"page {page}\n"
        finally:
            with self._lock:
                self.in_use -= 1


class ReportContainer(fnact.Container):
    """The container of the report worker: one renderer per process."""

    renderer = providers.Singleton(Renderer)


@fnact.activity(start_to_close_timeout=timedelta(minutes=5), max_concurrent=Renderer.seats)
def render_page(
    ctx: fnact.ActivityContext,
    page: int,
    renderer: Renderer = Provide[ReportContainer.renderer],
) -> Result[int, fnact.Fault]:
    """Render a page and store it: at most two renderings at once in this process."""
    text = renderer.render(page)
    ctx.run_on_loop(ctx.outputs.write(f"pages/{page:03d}.txt", text))  # ctx.outputs is async
    return Success(page)


# --8<-- [end:render]


# --8<-- [start:workflows]
@workflow.defn
class ExportEvents:
    """Export the events table; return how many rows were exported."""

    @workflow.run
    async def run(self, job: Export) -> int:
        result = await fnact.workflow.execute_activity(export_table, job)
        return result.unwrap()


@workflow.defn
class WaitForFile:
    """Wait for a file to appear."""

    @workflow.run
    async def run(self, path: str) -> str:
        result = await fnact.workflow.execute_activity(wait_for_file, path)
        return result.unwrap()


@workflow.defn
class RenderReport:
    """Render ``pages`` pages, all started at once."""

    @workflow.run
    async def run(self, pages: int) -> list[int]:
        results = await asyncio.gather(
            *(fnact.workflow.execute_activity(render_page, page) for page in range(pages))
        )
        return [result.unwrap() for result in results]


# --8<-- [end:workflows]


# --8<-- [start:worker]
def report_worker(
    client: temporalio.client.Client, container: fnact.Container, task_queue: str
) -> fnact.worker.Worker:
    """The sync activities get a ThreadPoolExecutor of 20 threads, one per activity slot."""
    return fnact.worker.create_worker(
        client,
        task_queue=task_queue,
        container=container,
        activities=[export_table, wait_for_file, render_page],
        workflows=[ExportEvents, WaitForFile, RenderReport],
        max_concurrent_activities=20,
    )


def report_worker_on(
    client: temporalio.client.Client,
    container: fnact.Container,
    task_queue: str,
    pool: concurrent.futures.ThreadPoolExecutor,
) -> fnact.worker.Worker:
    """The same worker on a thread pool of the app's, as large as its activity slots."""
    return fnact.worker.create_worker(
        client,
        task_queue=task_queue,
        container=container,
        activities=[export_table, wait_for_file, render_page],
        workflows=[ExportEvents, WaitForFile, RenderReport],
        max_concurrent_activities=20,
        activity_executor=pool,
    )


# --8<-- [end:worker]
