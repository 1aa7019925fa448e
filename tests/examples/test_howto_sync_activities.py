"""The "Sync activities and blocking code" how-to's example, on a dev server and in-process.

`export_table` exports in batches and resumes from its checkpoint, `wait_for_file` stops
when cancelled, `render_page` never runs more than two renderings at once, and a sync
activity called directly returns its Result.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
from returns.result import Success
from temporalio.client import WorkflowFailureError

import fnact
from examples.howto.sync_activities import (
    Export,
    Exported,
    ExportEvents,
    Renderer,
    RenderReport,
    ReportContainer,
    WaitForFile,
    export_table,
    render_page,
    report_worker,
    report_worker_on,
)
from fnact.testing import ActivityHarness, activity_info

# --8<-- [end:imports]

pytestmark = pytest.mark.integration


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite database whose ``events`` table has 250 rows, ids 1 to 250."""
    path = tmp_path / "events.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.executemany("INSERT INTO events VALUES (?, ?)", [(i, f"e{i}") for i in range(1, 251)])
    return str(path)


@pytest.fixture
def container(tmp_path: Path) -> ReportContainer:
    """The report worker's container, writing outputs under ``tmp_path/out``."""
    container = ReportContainer()
    container.settings.override(fnact.Settings(output_root=tmp_path / "out"))
    return container


def written(root: Path, folder: str) -> list[str]:
    """Return the names of the files under ``folder`` of any run's output path."""
    return sorted(p.name for p in root.rglob(f"{folder}/*") if p.is_file() and p.name[0] != ".")


async def test_export_table_exports_every_row_in_batches(
    client: temporalio.client.Client,
    fnact_task_queue: str,
    container: ReportContainer,
    database: str,
    tmp_path: Path,
) -> None:
    """The sync export runs on the worker's threads: 250 rows, three files of CSV lines."""
    async with report_worker(client, container, fnact_task_queue):
        rows = await client.execute_workflow(
            ExportEvents.run,
            Export(database, batch=100),
            id=f"export-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    assert rows == 250
    files = written(tmp_path / "out", "events")
    assert files == ["00000000.csv", "00000100.csv", "00000200.csv"]
    [last] = (tmp_path / "out").rglob("events/00000200.csv")
    assert last.read_text().splitlines()[-1] == "250,e250"


# --8<-- [start:harness]
async def test_a_retry_resumes_after_the_last_exported_batch(tmp_path: Path, database: str) -> None:
    """The harness runs the sync activity in a thread; a retry starts at its checkpoint."""
    async with ActivityHarness(ReportContainer(), output_root=tmp_path) as harness:
        run = await harness.run(
            export_table, Export(database, batch=100), heartbeat_details=[Exported(rows=200)]
        )
    assert run.result == Success(250)
    assert list(run.files) == ["events/00000200.csv"]
    assert run.checkpoints == [Exported(rows=250)]


# --8<-- [end:harness]


# --8<-- [start:direct]
def test_render_page_called_directly_returns_its_result(tmp_path: Path) -> None:
    """Called directly, a sync activity returns its Result: no event loop, no await."""
    started = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    ctx = fnact.ActivityContext(info=activity_info(), output_root=tmp_path, run_started=started)
    assert render_page(ctx, 7, renderer=Renderer()) == Success(7)
    assert (ctx.output_path / "pages" / "007.txt").read_text() == "page 7\n"


# --8<-- [end:direct]


async def pending_activity_started(handle: temporalio.client.WorkflowHandle[Any, str]) -> bool:
    """Whether the run's activity has been picked up by a worker."""
    description = await handle.describe()
    return any(a.attempt >= 1 and a.last_started_time.seconds
               for a in description.raw_description.pending_activities)  # fmt: skip


async def wait_until_started(handle: temporalio.client.WorkflowHandle[Any, str]) -> None:
    """Wait (up to 30 s) until the run's activity runs on a worker."""
    for _ in range(300):
        if await pending_activity_started(handle):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the activity never started")


async def test_wait_for_file_returns_once_the_file_appears(
    client: temporalio.client.Client, fnact_task_queue: str, container: ReportContainer,
    tmp_path: Path,
) -> None:  # fmt: skip
    """The sync wait ends when the file it naps for appears."""
    path = tmp_path / "ready.flag"
    async with report_worker(client, container, fnact_task_queue):
        handle = await client.start_workflow(
            WaitForFile.run,
            str(path),
            id=f"wait-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        await wait_until_started(handle)
        path.touch()
        assert await handle.result() == str(path)


async def test_cancelling_wait_for_file_stops_its_thread(
    client: temporalio.client.Client, fnact_task_queue: str, container: ReportContainer,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The workflow is cancelled: the napping thread gets the cancellation and logs why."""
    caplog.set_level(logging.INFO)
    async with report_worker(client, container, fnact_task_queue):
        handle = await client.start_workflow(
            WaitForFile.run, str(tmp_path / "never"), id=f"wait-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )  # fmt: skip
        await wait_until_started(handle)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        stopped: list[logging.LogRecord] = []
        for _ in range(200):
            stopped = [r for r in caplog.records if r.getMessage() == "stopped waiting"]
            if stopped:
                break
            await asyncio.sleep(0.05)
    assert stopped
    # The run closes at once (TRY_CANCEL): the activity learns it is cancelled, or gone.
    assert getattr(stopped[0], "fields", {}).get("reason") in ("cancel_requested", "not_found")


async def test_render_report_renders_at_most_two_pages_at_once(
    client: temporalio.client.Client,
    fnact_task_queue: str,
    container: ReportContainer,
    tmp_path: Path,
) -> None:
    """Twenty pages started at once: max_concurrent=2 keeps the renderer within its licence."""
    async with report_worker(client, container, fnact_task_queue):
        pages = await client.execute_workflow(
            RenderReport.run, 20, id=f"render-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
    assert pages == list(range(20))
    assert container.renderer().most_in_use == 2
    assert written(tmp_path / "out", "pages") == [f"{page:03d}.txt" for page in range(20)]


async def test_the_worker_runs_on_the_apps_own_thread_pool(
    client: temporalio.client.Client,
    fnact_task_queue: str,
    container: ReportContainer,
) -> None:
    """Given a ThreadPoolExecutor, the worker runs its sync activities there."""
    with concurrent.futures.ThreadPoolExecutor(20, thread_name_prefix="reports") as pool:
        async with report_worker_on(client, container, fnact_task_queue, pool):
            pages = await client.execute_workflow(
                RenderReport.run,
                4,
                id=f"render-{uuid.uuid4().hex[:8]}",
                task_queue=fnact_task_queue,
            )
    assert pages == [0, 1, 2, 3]
