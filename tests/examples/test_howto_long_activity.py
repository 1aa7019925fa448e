"""The long-running activity how-to's example, run in-process."""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from returns.result import Failure, Success
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import fnact
import fnact.testing
from examples.howto.long_activity import (
    CompressExport,
    Container,
    Cursor,
    ExportReport,
    ExportTable,
    Lock,
    LockTaken,
    TableMissing,
    Warehouse,
    compress_export,
    export_table,
    hold_lock,
    run_command,
)
from fnact.testing import ActivityHarness

# --8<-- [end:imports]

RUN_STARTED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PAGES = ["orders/page-00000.jsonl", "orders/page-00001.jsonl", "orders/page-00002.jsonl"]


# --8<-- [start:flaky]
class FlakyWarehouse(Warehouse):
    """Drops the connection once, when asked for the rows after ``fail_after``."""

    def __init__(self, path: str | Path, *, fail_after: int) -> None:
        super().__init__(path)
        self.fail_after = fail_after
        self.failed = False

    def page(self, table: str, after_id: int, limit: int) -> list[dict[str, Any]]:
        if after_id == self.fail_after and not self.failed:
            self.failed = True
            raise ConnectionError("connection reset by peer")
        return super().page(table, after_id, limit)


# --8<-- [end:flaky]


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """A database whose ``orders`` table has ten rows, ids 1 to 10."""
    path = tmp_path / "warehouse.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, cents INTEGER)")
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)", [(i, f"c{i}", i * 100) for i in range(1, 11)]
        )
    return Warehouse(path)


@pytest.fixture
def harness(tmp_path: Path, warehouse: Warehouse) -> Iterator[ActivityHarness]:
    """A harness running the example's activities against ``warehouse``, writing to tmp_path."""
    with ActivityHarness(Container(), output_root=tmp_path / "out") as harness:
        harness.override(warehouse=warehouse)
        yield harness


def context(
    tmp_path: Path, *, cancelled: asyncio.Event, beats: list[fnact.Heartbeat] | None = None
) -> fnact.ActivityContext:
    """A context built by hand, cancelled when ``cancelled`` is set."""
    return fnact.ActivityContext(
        info=fnact.testing.activity_info(),
        heartbeat=(beats if beats is not None else []).append,
        cancelled=cancelled,
        output_root=tmp_path / "out",
        run_started=RUN_STARTED,
    )


async def test_export_writes_every_page_with_checkpoints_and_progress(
    harness: ActivityHarness,
) -> None:
    """The export writes ten rows as three pages, checkpointing and reporting after each."""
    run = await harness.run(
        export_table, ExportTable("orders", page_size=4), heartbeat_timeout=timedelta(seconds=30)
    )
    assert run.result == Success(ExportReport("orders", rows=10, pages=3, resumed_after_id=0))
    assert sorted(run.files) == PAGES
    last = [json.loads(line) for line in run.files[PAGES[2]].splitlines()]
    assert last == [
        {"id": 9, "customer": "c9", "cents": 900},
        {"id": 10, "customer": "c10", "cents": 1000},
    ]
    assert run.checkpoints == [
        Cursor(after_id=4, pages=1, rows=4),
        Cursor(after_id=8, pages=2, rows=8),
        Cursor(after_id=10, pages=3, rows=10),
    ]
    assert run.progress == [40, 80, 100]
    assert run.heartbeats[-1].message == "10 of 10 rows"


async def test_missing_table_is_a_typed_failure(harness: ActivityHarness) -> None:
    """Exporting a table that does not exist returns Failure(TableMissing) and writes nothing."""
    run = await harness.run(export_table, ExportTable("refunds"))
    assert run.result == Failure(TableMissing(table="refunds"))
    assert run.files == {}


# --8<-- [start:resume_test]
async def test_retry_resumes_after_the_last_checkpoint(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    """When page 2 fails, the retry resumes after page 1 instead of starting over."""
    with ActivityHarness(Container(), output_root=tmp_path) as harness:
        harness.override(warehouse=FlakyWarehouse(warehouse.path, fail_after=4))
        first, second = await harness.run_retries(
            export_table, ExportTable("orders", page_size=4), max_attempts=3
        )
    assert isinstance(first.exception, ConnectionError)
    assert first.checkpoints == [Cursor(after_id=4, pages=1, rows=4)]
    # The second attempt reads that checkpoint with ctx.last_checkpoint(Cursor).
    assert second.result == Success(ExportReport("orders", rows=10, pages=3, resumed_after_id=4))
    assert sorted(second.files) == ["orders/page-00001.jsonl", "orders/page-00002.jsonl"]


# --8<-- [end:resume_test]


@pytest.mark.parametrize(
    ("old", "problem"),
    [
        (
            {"after_id": "order-4", "pages": 1, "rows": 4},
            "Expected `int`, got `str` - at `$.after_id`",
        ),
        ({"last_id": 4, "pages": 1, "rows": 4}, "unknown field(s) 'last_id'"),
    ],
    ids=["retyped", "renamed"],
)
async def test_changed_checkpoint_type_fails_before_the_body_runs(
    harness: ActivityHarness, old: dict[str, object], problem: str
) -> None:
    """A checkpoint of an older Cursor shape fails the retry at once, non-retryable."""
    run = await harness.run(
        export_table, ExportTable("orders"), attempt=2, heartbeat_details=[{"checkpoint": old}]
    )
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.type == "CheckpointDecodeError"
    assert run.exception.non_retryable
    assert f"does not decode as Cursor: {problem}" in run.exception.message
    assert run.files == {}


async def stopped_export(harness: ActivityHarness, **stop: int) -> fnact.testing.ActivityRun:
    """Export orders in pages of 4, stopped as ``stop`` says; check it ended without a result."""
    run = await harness.run(
        export_table,
        ExportTable("orders", page_size=4),
        heartbeat_timeout=timedelta(seconds=30),
        **stop,
    )
    assert run.cancelled
    assert run.result is None
    return run


async def test_cancelled_export_logs_where_it_stopped_and_reraises(
    harness: ActivityHarness,
) -> None:
    """Cancelled after its first page, the export logs its row count and ends cancelled."""
    run = await stopped_export(harness, cancel_after_heartbeats=1)
    assert {"message": "export cancelled", "table": "orders", "rows": 4}.items() <= (
        run.log_fields[-1].items()
    )
    # A page thread already running when the cancellation came may finish its file; no
    # later page is started.
    await asyncio.sleep(0.2)
    assert (harness.output_path / PAGES[0]).exists()
    assert not (harness.output_path / PAGES[2]).exists()


async def test_worker_shutdown_mid_export_is_retried_not_a_success(
    harness: ActivityHarness,
) -> None:
    """A worker shutdown ends the attempt cancelled, not a success, its checkpoint already sent."""
    run = await stopped_export(harness, shutdown_after_heartbeats=2)
    assert run.heartbeats[-1].checkpoint == Cursor(after_id=4, pages=1, rows=4)


async def test_compress_gzips_every_page_in_a_thread(harness: ActivityHarness) -> None:
    """After an export, every page is gzipped, with progress reported from the thread."""
    await harness.run(export_table, ExportTable("orders", page_size=4))
    run = await harness.run(
        compress_export, CompressExport("orders"), heartbeat_timeout=timedelta(seconds=30)
    )
    assert run.result == Success(3)
    assert sorted(run.files) == [f"{page}.gz" for page in PAGES]
    assert gzip.decompress(run.files[f"{PAGES[0]}.gz"]).count(b"\n") == 4
    assert not list((harness.output_path / "orders").glob("*.jsonl"))
    assert run.progress == [100 / 3, 200 / 3, 100]
    assert run.heartbeats[-1].message == "gzipped page-00002.jsonl"


async def test_cancelled_compress_touches_nothing_and_never_succeeds(tmp_path: Path) -> None:
    """Once cancelled, the thread gzips no file and the activity raises CancelledError."""
    cancelled = asyncio.Event()
    cancelled.set()
    ctx = context(tmp_path, cancelled=cancelled)
    folder = ctx.output_path / "orders"
    folder.mkdir(parents=True)
    (folder / "page-00000.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(asyncio.CancelledError):
        await compress_export(ctx, CompressExport("orders"))
    assert sorted(p.name for p in folder.iterdir()) == ["page-00000.jsonl"]


async def test_auto_heartbeat_delivers_cancellation_to_the_lock_holder(
    harness: ActivityHarness, tmp_path: Path
) -> None:
    """hold_lock never heartbeats itself; auto beats carry the cancel, and the lock is removed."""
    lock = tmp_path / "orders.lock"
    run = await harness.run(
        hold_lock,
        Lock(str(lock)),
        heartbeat_timeout=timedelta(milliseconds=30),
        cancel_after_heartbeats=3,
    )
    assert run.cancelled
    assert len(run.heartbeats) >= 3
    assert not lock.exists()


@pytest.mark.parametrize("cancels_task", [True, False], ids=["as-a-worker", "event-only"])
async def test_lock_is_held_until_cancelled(tmp_path: Path, cancels_task: bool) -> None:
    """The lock file exists while the activity waits and is gone once it is cancelled."""
    lock = tmp_path / "orders.lock"
    cancelled = asyncio.Event()
    task = asyncio.create_task(hold_lock(context(tmp_path, cancelled=cancelled), Lock(str(lock))))
    for _ in range(200):
        if lock.exists():
            break
        await asyncio.sleep(0.01)
    assert lock.exists()
    assert not task.done()
    cancelled.set()  # a worker sets the flag and cancels the task; a bare event only sets it
    if cancels_task:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not lock.exists()


async def test_lock_held_elsewhere_is_a_typed_failure(tmp_path: Path) -> None:
    """When the lock file already exists, the activity returns Failure(LockTaken) and keeps it."""
    lock = tmp_path / "orders.lock"
    lock.write_text("someone else")
    result = await fnact.testing.run_activity(hold_lock, Lock(str(lock)), container=Container())
    assert result == Failure(LockTaken(path=str(lock)))
    assert lock.read_text() == "someone else"


async def test_plain_activity_is_heartbeated_while_its_program_runs() -> None:
    """fnact.auto_heartbeater beats for the plain run_command activity until the program exits."""
    env = ActivityEnvironment()
    env.info = fnact.testing.activity_info(heartbeat_timeout=timedelta(milliseconds=30))
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    program = [sys.executable, "-c", "import sys, time; time.sleep(0.2); sys.exit(3)"]
    assert await env.run(run_command, program) == 3
    assert len(beats) >= 3


async def test_cancelled_plain_activity_kills_its_program() -> None:
    """Cancelling run_command kills the program instead of waiting for it to finish."""
    env = ActivityEnvironment()
    env.info = fnact.testing.activity_info(heartbeat_timeout=timedelta(seconds=1))
    program = [sys.executable, "-c", "import time; time.sleep(30)"]
    run = asyncio.ensure_future(env.run(run_command, program))
    await asyncio.sleep(0.2)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, timeout=5)
