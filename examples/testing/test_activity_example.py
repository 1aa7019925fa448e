"""The code of the how-to guide "Test an activity" (docs/how-to/test-an-activity.md)."""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import fnact
import fnact.state
from examples.metadata.activities import Ctx, describe_columns, list_tables, write_metadata
from examples.metadata.models import (
    Column,
    DatabaseMissing,
    DescribeTable,
    ExtractArgs,
    ListTables,
    TableMetadata,
    TableMissing,
    WriteMetadata,
)
from examples.testing.paged_export import Cursor, ExportPages, PageSource, export_pages
from fnact.exceptions import DependencyError
from fnact.testing import (
    ActivityHarness,
    StateCounts,
    activity_info,
    assert_failure,
    assert_success,
)

# --8<-- [end:imports]

# --8<-- [start:first_test]
ORDERS = TableMetadata("orders", [Column("id", "INTEGER", nullable=True, primary_key=True)])


async def test_writes_one_file_per_table(activity_harness: ActivityHarness) -> None:
    """write_metadata writes each table as JSON, plus an index of the tables."""
    run = await activity_harness.run(write_metadata, WriteMetadata(tables=[ORDERS]))
    assert assert_success(run.unwrap()).files == ["orders.json", "index.json"]
    assert sorted(run.files) == ["index.json", "tables/orders.json"]


# --8<-- [end:first_test]


# --8<-- [start:run_record]
async def test_a_run_records_what_the_activity_did(export_harness: ActivityHarness) -> None:
    """An ActivityRun holds the Result, heartbeats, checkpoints, log fields, state and files."""
    run = await export_harness.run(export_pages, ExportPages(pages=2))
    assert assert_success(run.unwrap()) == 2
    assert run.progress == [50.0, 100.0]
    assert run.checkpoints == [Cursor(page=1), Cursor(page=2)]
    assert run.heartbeats[-1] == fnact.Heartbeat(100.0, "page 1", Cursor(page=2))
    assert run.log_fields[0]["message"] == "export started"
    assert run.log_fields[0]["first_page"] == 0
    assert run.log_fields[0]["attempt"] == 1
    assert run.state == StateCounts()  # export_pages has no run state
    assert run.files == {"pages/0000.txt": b"alice\nbob", "pages/0001.txt": b"carol"}
    assert run.output_path == export_harness.output_path


# --8<-- [end:run_record]


# --8<-- [start:state]
async def test_lists_the_tables_of_the_runs_database(
    activity_harness: ActivityHarness, shop: ExtractArgs
) -> None:
    """list_tables opens the run's database once and lists its tables."""
    activity_harness.workflow_args = shop  # what the workflow was started with
    run = await activity_harness.run(list_tables, ListTables())
    assert_success(run.unwrap(), ["customers", "order_lines", "orders"])
    assert run.state == StateCounts(builds=1)
    assert run.log_fields[0]["count"] == 3


# --8<-- [end:state]


# --8<-- [start:failure]
async def test_a_missing_table_is_a_failure(
    activity_harness: ActivityHarness, shop: ExtractArgs
) -> None:
    """Describing a table the database lacks returns Failure(TableMissing); nothing raises."""
    activity_harness.workflow_args = shop
    run = await activity_harness.run(describe_columns, DescribeTable(table="invoices"))
    assert_failure(run.unwrap(), TableMissing, TableMissing(table="invoices"))


# --8<-- [end:failure]


# --8<-- [start:direct_state]
async def test_list_tables_without_a_database() -> None:
    """Awaited with a hand-built context, list_tables reports the missing database."""
    ctx: Ctx = fnact.ActivityContext(
        state=fnact.state.RunState(None, ExtractArgs(database="gone.db"), datetime.now(UTC))
    )
    result = await list_tables(ctx, ListTables())
    assert_failure(result, DatabaseMissing, DatabaseMissing(path="gone.db"))


# --8<-- [end:direct_state]


# --8<-- [start:direct_deps]
async def test_export_pages_awaited_directly(tmp_path: Path) -> None:
    """Awaited directly, export_pages uses the context and the source it is given."""
    beats: list[fnact.Heartbeat] = []
    ctx = fnact.ActivityContext(
        info=activity_info(attempt=1),  # ids, attempt, heartbeat details
        heartbeat=beats.append,  # receives every heartbeat, unthrottled
        output_root=tmp_path,
        run_started=datetime(2026, 1, 1, tzinfo=UTC),
    )
    result = await export_pages(ctx, ExportPages(pages=1), PageSource([["ada"]]))
    assert_success(result, 1)
    assert beats[-1].checkpoint == Cursor(page=1)
    assert (ctx.output_path / "pages/0000.txt").read_text() == "ada"
    with pytest.raises(DependencyError, match="pass source"):
        await export_pages(ctx, ExportPages(pages=1))


# --8<-- [end:direct_deps]
