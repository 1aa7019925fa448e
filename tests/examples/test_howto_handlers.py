"""The "Handlers, threads and concurrency" how-to, on a dev server.

A sqlite3 connection the handler opened fails in a run_blocking thread, the two fixes
work, and 20 concurrent read-modify-writes lose updates without a lock and none with one.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from contextlib import closing
from pathlib import Path

import pytest
import temporalio.client
from dependency_injector import providers
from temporalio.exceptions import ActivityError, ApplicationError

from examples.howto.handlers import (
    AddUp,
    AddUpConcurrently,
    ConnectionPerCall,
    CounterContainer,
    LockedConnection,
    RecordVisits,
    SharedConnection,
    Visits,
    VisitsContainer,
    add_in_thread,
    add_locked,
    add_unlocked,
    count_visits,
    read_total,
    record_visit,
)
from fnact.testing import StartWorker

# --8<-- [end:imports]

pytestmark = pytest.mark.integration
# --8<-- [start:pages]
PAGES = ["home"] * 12 + ["pricing"] * 8  # twenty visits, recorded at once
# --8<-- [end:pages]


@pytest.fixture
def database(tmp_path: Path) -> str:
    """An empty SQLite database with the ``visits`` table."""
    path = tmp_path / "visits.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE visits (page TEXT NOT NULL)")
    return str(path)


def visit_count(database: str) -> int:
    """Count the rows of the ``visits`` table."""
    with closing(sqlite3.connect(database)) as conn:
        (n,) = conn.execute("SELECT count(*) FROM visits").fetchone()
        return int(n)


# --8<-- [start:trap_test]
async def test_a_connection_the_handler_opened_fails_in_a_run_blocking_thread(
    fnact_worker: StartWorker, client: temporalio.client.Client, database: str
) -> None:
    """SharedConnection's connection belongs to the loop's thread: record_visit raises."""
    queue = await fnact_worker(
        activities=[record_visit, count_visits],
        workflows=[RecordVisits],
        container=VisitsContainer(),
    )
    with pytest.raises(temporalio.client.WorkflowFailureError) as failed:
        await client.execute_workflow(
            RecordVisits.run, Visits(database, PAGES), id=f"visits-{uuid.uuid4()}", task_queue=queue
        )
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    error = activity_error.cause
    assert isinstance(error, ApplicationError)
    assert error.type == "ProgrammingError"
    assert error.message.startswith(
        "SQLite objects created in a thread can only be used in that same thread."
    )


# --8<-- [end:trap_test]


class WatchedConnection(SharedConnection):
    """A SharedConnection that notes the thread it is built and closed in."""

    threads: list[tuple[str, int]] = []  # noqa: RUF012 - shared with the test on purpose

    def __init__(self, workflow_args: Visits) -> None:
        super().__init__(workflow_args)
        self.threads.append(("built", threading.get_ident()))

    def close(self) -> None:
        self.threads.append(("closed", threading.get_ident()))
        super().close()


async def test_the_handler_is_built_and_closed_on_the_event_loops_thread(
    fnact_worker: StartWorker, client: temporalio.client.Client, database: str
) -> None:
    """The run's handler is built and closed on the worker's event loop, not in a thread."""
    container = VisitsContainer()
    container.handler.override(providers.Factory(WatchedConnection))
    queue = await fnact_worker(
        activities=[record_visit, count_visits], workflows=[RecordVisits], container=container
    )
    with pytest.raises(temporalio.client.WorkflowFailureError):
        await client.execute_workflow(
            RecordVisits.run, Visits(database, PAGES), id=f"visits-{uuid.uuid4()}", task_queue=queue
        )
    kinds = [kind for kind, _ in WatchedConnection.threads]
    for _ in range(100):  # the failed attempts released the run's state: its handlers close
        kinds = [kind for kind, _ in WatchedConnection.threads]
        if kinds.count("closed") == kinds.count("built"):
            break
        await asyncio.sleep(0.05)
    assert kinds.count("built") == kinds.count("closed") >= 1
    loop_thread = threading.get_ident()  # the worker runs on this test's event loop
    assert {thread for _, thread in WatchedConnection.threads} == {loop_thread}


@pytest.mark.parametrize("handler", [ConnectionPerCall, LockedConnection])
async def test_a_connection_per_call_or_a_locked_one_records_every_visit(
    fnact_worker: StartWorker, client: temporalio.client.Client, database: str, handler: type
) -> None:
    """With either fix as the run's handler, the twenty concurrent visits are all recorded."""
    container = VisitsContainer()
    container.handler.override(providers.Factory(handler))
    queue = await fnact_worker(
        activities=[record_visit, count_visits], workflows=[RecordVisits], container=container
    )
    counts = await client.execute_workflow(
        RecordVisits.run, Visits(database, PAGES), id=f"visits-{uuid.uuid4()}", task_queue=queue
    )
    assert counts == {"home": 12, "pricing": 8}
    assert visit_count(database) == 20


# --8<-- [start:counter_test]
async def add_up(fnact_worker: StartWorker, client: temporalio.client.Client, adder: str) -> int:
    """Run AddUpConcurrently with twenty of ``adder`` on a fresh worker; return the total."""
    queue = await fnact_worker(
        activities=[add_unlocked, add_locked, add_in_thread, read_total],
        workflows=[AddUpConcurrently],
        container=CounterContainer(),
    )
    return await client.execute_workflow(
        AddUpConcurrently.run,
        AddUp(adder=adder, times=20),
        id=f"add-up-{uuid.uuid4()}",
        task_queue=queue,
    )


async def test_concurrent_read_modify_writes_lose_updates_without_a_lock(
    fnact_worker: StartWorker, client: temporalio.client.Client
) -> None:
    """Twenty activities each add one to the run's Counter; without a lock, some adds vanish."""
    total = await add_up(fnact_worker, client, "unlocked")
    assert 1 <= total < 20


@pytest.mark.parametrize("adder", ["asyncio.Lock", "threading.Lock"])
async def test_a_lock_in_the_handler_loses_no_update(
    fnact_worker: StartWorker, client: temporalio.client.Client, adder: str
) -> None:
    """With the handler's asyncio.Lock (on the loop) or threading.Lock (in threads): 20."""
    assert await add_up(fnact_worker, client, adder) == 20


# --8<-- [end:counter_test]
