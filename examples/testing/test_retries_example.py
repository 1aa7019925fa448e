"""The code of the how-to guide "Simulate retries and cancellation".

See docs/how-to/simulate-retries-and-cancellation.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from dependency_injector import providers
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from examples.metadata.activities import list_tables
from examples.metadata.models import ExtractArgs, ListTables
from examples.testing.paged_export import (
    Cursor,
    ExportPages,
    PageSource,
    SampleRows,
    SourceBusy,
    export_pages,
    sample_rows,
)
from fnact.testing import ActivityHarness, StateCounts, assert_failure, assert_success

# --8<-- [end:imports]

# --8<-- [start:fakes]
PAGES = [["alice", "bob"], ["carol"], ["dave", "erin"], ["frank"]]


class FlakySource(PageSource):
    """Drops the connection once, when asked for page ``fail_at``."""

    def __init__(self, pages: list[list[str]], fail_at: int) -> None:
        super().__init__(pages)
        self.fail_at = fail_at

    async def fetch(self, page: int) -> list[str] | None:
        if page == self.fail_at:
            self.fail_at = -1
            raise ConnectionError("connection reset by peer")
        return await super().fetch(page)


class BusySource(PageSource):
    """Always asks the caller to come back later."""

    async def fetch(self, page: int) -> list[str] | None:
        return None


class SlowSource(PageSource):
    """Takes ten seconds per page."""

    async def fetch(self, page: int) -> list[str] | None:
        await asyncio.sleep(10)
        return await super().fetch(page)


# --8<-- [end:fakes]


# --8<-- [start:retries]
async def test_a_retry_resumes_from_the_last_checkpoint(export_harness: ActivityHarness) -> None:
    """After a dropped connection at page 2, the second attempt starts at page 2, not 0."""
    export_harness.override(source=FlakySource(PAGES, fail_at=2))
    runs = await export_harness.run_retries(export_pages, ExportPages(pages=4), max_attempts=5)
    first, second = runs
    assert isinstance(first.exception, ConnectionError)
    assert first.checkpoints[-1] == Cursor(page=2)
    assert second.log_fields[0]["first_page"] == 2
    assert assert_success(second.unwrap()) == 2  # pages written by the second attempt
    assert sorted(second.files) == ["pages/0002.txt", "pages/0003.txt"]


# --8<-- [end:retries]


# --8<-- [start:retryable_failure]
async def test_a_retryable_failure_is_retried_until_the_last_attempt(
    export_harness: ActivityHarness,
) -> None:
    """SourceBusy declares itself retryable, so every allowed attempt runs and fails."""
    export_harness.override(source=BusySource([]))
    runs = await export_harness.run_retries(export_pages, ExportPages(pages=2), max_attempts=3)
    assert [run.attempt for run in runs] == [1, 2, 3]
    assert_failure(runs[-1].unwrap(), SourceBusy, SourceBusy(page=0))


# --8<-- [end:retryable_failure]


# --8<-- [start:attempt]
class LockedCatalog:
    """A catalog whose database another process holds locked."""

    def tables(self, *, include_views: bool) -> list[str]:
        raise sqlite3.OperationalError("database is locked")

    def close(self) -> None:
        pass


async def test_only_the_last_attempt_releases_the_run_state(
    activity_harness: ActivityHarness, shop: ExtractArgs
) -> None:
    """An exception keeps the run's state for the retry, except on the policy's last attempt."""
    activity_harness.workflow_args = shop
    activity_harness.override(handler=providers.Factory(LockedCatalog))
    policy = RetryPolicy(maximum_attempts=3)
    first = await activity_harness.run(list_tables, ListTables(), attempt=1, retry_policy=policy)
    last = await activity_harness.run(list_tables, ListTables(), attempt=3, retry_policy=policy)
    assert isinstance(first.exception, sqlite3.OperationalError)
    assert first.state == StateCounts(builds=1)  # kept for attempt 2
    assert last.state == StateCounts(releases=1, closes=1)  # no attempt follows


# --8<-- [end:attempt]


# --8<-- [start:heartbeat_details]
async def test_an_attempt_resumes_from_the_details_it_is_given(
    export_harness: ActivityHarness,
) -> None:
    """Given attempt 1's last heartbeat, or only its checkpoint, attempt 2 starts at page 2."""
    export_harness.override(source=FlakySource(PAGES, fail_at=2))
    first = await export_harness.run(export_pages, ExportPages(pages=4))
    assert isinstance(first.exception, ConnectionError)
    for details in ([first.heartbeats[-1]], [Cursor(page=2)]):
        retry = await export_harness.run(
            export_pages, ExportPages(pages=4), attempt=2, heartbeat_details=details
        )
        assert retry.log_fields[0]["first_page"] == 2
        assert assert_success(retry.unwrap()) == 2


# --8<-- [end:heartbeat_details]


# --8<-- [start:cancel]
async def test_cancelled_after_two_pages(export_harness: ActivityHarness) -> None:
    """Cancelled after its second heartbeat, the export stops with two pages written."""
    run = await export_harness.run(export_pages, ExportPages(pages=4), cancel_after_heartbeats=2)
    assert run.cancelled
    assert isinstance(run.exception, asyncio.CancelledError)
    assert run.result is None
    assert run.checkpoints[-1] == Cursor(page=2)
    assert sorted(run.files) == ["pages/0000.txt", "pages/0001.txt"]


async def test_cancelled_while_waiting_for_a_page(export_harness: ActivityHarness) -> None:
    """Cancelled after 50 ms while the source is slow, the export wrote nothing."""
    export_harness.override(source=SlowSource(PAGES))
    run = await export_harness.run(export_pages, ExportPages(pages=4), cancel_after=0.05)
    assert run.cancelled
    assert (run.heartbeats, run.files) == ([], {})


# --8<-- [end:cancel]


# --8<-- [start:shutdown]
async def test_a_cancelled_sample_returns_what_it_has(export_harness: ActivityHarness) -> None:
    """Cancelled by its workflow, sample_rows returns the rows it collected so far."""
    run = await export_harness.run(sample_rows, SampleRows(limit=100), cancel_after_heartbeats=2)
    assert_success(run.unwrap(), ["alice", "bob", "carol"])


async def test_a_worker_shutdown_is_never_a_success(export_harness: ActivityHarness) -> None:
    """Interrupted by a worker shutdown instead, the same body fails retryably."""
    by_count = await export_harness.run(
        sample_rows, SampleRows(limit=100), shutdown_after_heartbeats=2
    )
    export_harness.override(source=SlowSource(PAGES))
    by_time = await export_harness.run(sample_rows, SampleRows(limit=100), shutdown_after=0.05)
    for run in (by_count, by_time):
        assert run.result is None
        assert isinstance(run.exception, ApplicationError)
        assert run.exception.type == "WorkerShutdown"
        assert not run.exception.non_retryable


# --8<-- [end:shutdown]


# --8<-- [start:clock]
async def test_the_run_state_is_rebuilt_after_fifteen_minutes(
    activity_harness: ActivityHarness, shop: ExtractArgs
) -> None:
    """The run's Catalog is reused until it is 15 minutes old, then reopened."""
    activity_harness.workflow_args = shop
    first = await activity_harness.run(list_tables, ListTables())
    activity_harness.clock.advance(timedelta(minutes=14, seconds=59))
    reused = await activity_harness.run(list_tables, ListTables())
    activity_harness.clock.advance(timedelta(seconds=1))
    rebuilt = await activity_harness.run(list_tables, ListTables())
    assert first.state == StateCounts(builds=1)
    assert reused.state == StateCounts()
    assert rebuilt.state == StateCounts(builds=1, refreshes=1, closes=1)


# --8<-- [end:clock]
