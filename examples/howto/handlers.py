"""A run's handler is shared: by the run's concurrent activities and by their threads.

`record_visit` writes to SQLite from a `ctx.run_blocking` thread: through the handler
`SharedConnection` it fails (a ``sqlite3.Connection`` belongs to the thread that made it),
through `ConnectionPerCall` or `LockedConnection` it works. The `add_*` activities each add
one to the run's `Counter`: without a lock, concurrent ones lose updates. The how-to guide
"Handlers, threads and concurrency" shows these pieces;
``tests/examples/test_howto_handlers.py`` runs them on a dev server.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from contextlib import closing
from datetime import timedelta
from typing import Protocol

import msgspec
from dependency_injector import providers
from returns.result import Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow

# --8<-- [end:imports]


# --8<-- [start:visits]
class Visits(msgspec.Struct, frozen=True):
    """Workflow input: a SQLite file with a ``visits (page)`` table, and the pages to record."""

    database: str
    pages: list[str]


class VisitLog(Protocol):
    """What the visit activities need of the run's handler; every call blocks."""

    def record(self, page: str) -> None:
        """Record one visit of ``page``."""
        ...

    def count(self, page: str) -> int:
        """Return how many visits of ``page`` are recorded."""
        ...


VisitCtx = fnact.ActivityContext[VisitLog, Visits]


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_attempts=1),  # the example's errors are not transient
)
async def record_visit(ctx: VisitCtx, page: str) -> Result[None, fnact.Fault]:
    """Record a visit through the run's handler, in a thread: SQLite blocks."""
    await ctx.run_blocking(ctx.state.handler.record, page)
    return Success(None)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def count_visits(ctx: VisitCtx, page: str) -> Result[int, fnact.Fault]:
    """Count the recorded visits of ``page``, in a thread."""
    return Success(await ctx.run_blocking(ctx.state.handler.count, page))


# --8<-- [end:visits]


# --8<-- [start:trap]
class SharedConnection:
    """The run's handler: one connection, opened when fnact builds the handler."""

    def __init__(self, workflow_args: Visits) -> None:
        # fnact builds a handler on the worker's event loop, so the loop's thread owns this.
        self.conn = sqlite3.connect(workflow_args.database)

    def record(self, page: str) -> None:
        """Insert a visit; called in a `run_blocking` thread, it raises ProgrammingError."""
        with self.conn:
            self.conn.execute("INSERT INTO visits (page) VALUES (?)", (page,))

    def count(self, page: str) -> int:
        """Count the visits of ``page``."""
        (n,) = self.conn.execute("SELECT count(*) FROM visits WHERE page = ?", (page,)).fetchone()
        return int(n)

    def close(self) -> None:
        """Close the connection: fnact calls this on the loop's thread, which owns it."""
        self.conn.close()


class VisitsContainer(fnact.Container):
    """The visit activities' container: the run's handler is a `SharedConnection`."""

    handler = providers.Factory(SharedConnection)


# --8<-- [end:trap]


# --8<-- [start:per_call]
class ConnectionPerCall:
    """The run's handler keeps the path; each call connects in the thread it runs in."""

    def __init__(self, workflow_args: Visits) -> None:
        self.database = workflow_args.database

    def record(self, page: str) -> None:
        """Insert a visit over a connection of this call's own."""
        with closing(sqlite3.connect(self.database)) as conn, conn:
            conn.execute("INSERT INTO visits (page) VALUES (?)", (page,))

    def count(self, page: str) -> int:
        """Count the visits of ``page`` over a connection of this call's own."""
        with closing(sqlite3.connect(self.database)) as conn:
            (n,) = conn.execute("SELECT count(*) FROM visits WHERE page = ?", (page,)).fetchone()
            return int(n)


# --8<-- [end:per_call]


# --8<-- [start:locked]
class LockedConnection:
    """The run's handler: one connection any thread may use, one thread at a time."""

    def __init__(self, workflow_args: Visits) -> None:
        self.conn = sqlite3.connect(workflow_args.database, check_same_thread=False)
        self.lock = threading.Lock()  # sqlite3 leaves serializing the threads to us

    def record(self, page: str) -> None:
        """Insert a visit, holding the lock."""
        with self.lock, self.conn:
            self.conn.execute("INSERT INTO visits (page) VALUES (?)", (page,))

    def count(self, page: str) -> int:
        """Count the visits of ``page``, holding the lock."""
        with self.lock:
            query = "SELECT count(*) FROM visits WHERE page = ?"
            (n,) = self.conn.execute(query, (page,)).fetchone()
            return int(n)

    def close(self) -> None:
        """Close the connection, holding the lock."""
        with self.lock:
            self.conn.close()


# --8<-- [end:locked]


# --8<-- [start:record_visits]
@workflow.defn
class RecordVisits:
    """Record every visit at once, then count each page's visits."""

    @workflow.run
    async def run(self, visits: Visits) -> dict[str, int]:
        """Return the number of visits recorded for each page."""
        recording = [fnact.workflow.start_activity(record_visit, page) for page in visits.pages]
        for recorded in await asyncio.gather(*recording):
            recorded.unwrap()
        counts: dict[str, int] = {}
        for page in sorted(set(visits.pages)):
            counts[page] = (await fnact.workflow.execute_activity(count_visits, page)).unwrap()
        return counts


# --8<-- [end:record_visits]


# --8<-- [start:counter]
class Counter:
    """A run's handler: a total that every activity of the run adds to."""

    def __init__(self) -> None:
        self.total = 0
        self.lock = asyncio.Lock()  # for read-modify-writes on the event loop
        self.thread_lock = threading.Lock()  # for read-modify-writes in run_blocking threads


class CounterContainer(fnact.Container):
    """The counting activities' container: each run gets a `Counter`."""

    handler = providers.Factory(Counter)


class AddUp(msgspec.Struct, frozen=True):
    """Workflow input: which adding activity to run, and how many of it at once."""

    adder: str  # a key of ADDERS
    times: int = 20


class Add(msgspec.Struct, frozen=True):
    """Input of the adding activities: how much to add to the run's total."""

    amount: int = 1


CounterCtx = fnact.ActivityContext[Counter, AddUp]


# --8<-- [end:counter]


# --8<-- [start:unlocked]
@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def add_unlocked(ctx: CounterCtx, args: Add) -> Result[None, fnact.Fault]:
    """Read the total, await, write it back: concurrent activities overwrite each other."""
    counter = ctx.state.handler
    total = counter.total
    await asyncio.sleep(0.05)  # any await: a network call, a database query, a log shipper
    counter.total = total + args.amount
    return Success(None)


# --8<-- [end:unlocked]


# --8<-- [start:add_up]
class ReadTotal(msgspec.Struct, frozen=True):
    """Input of `read_total`: nothing, the total is the run's."""


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def read_total(ctx: CounterCtx, args: ReadTotal) -> Result[int, fnact.Fault]:
    """Return the run's total."""
    return Success(ctx.state.handler.total)


@workflow.defn
class AddUpConcurrently:
    """Start ``times`` adding activities at once; return the run's total after them."""

    @workflow.run
    async def run(self, args: AddUp) -> int:
        """Every activity adds one, so the total is ``times`` unless updates were lost."""
        adder = ADDERS[args.adder]
        adding = [fnact.workflow.start_activity(adder, Add()) for _ in range(args.times)]
        for added in await asyncio.gather(*adding):
            added.unwrap()
        return (await fnact.workflow.execute_activity(read_total, ReadTotal())).unwrap()


# --8<-- [end:add_up]


# --8<-- [start:asyncio_lock]
@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def add_locked(ctx: CounterCtx, args: Add) -> Result[None, fnact.Fault]:
    """The same read-modify-write, one activity at a time: an asyncio.Lock on the loop."""
    counter = ctx.state.handler
    async with counter.lock:
        total = counter.total
        await asyncio.sleep(0.05)
        counter.total = total + args.amount
    return Success(None)


# --8<-- [end:asyncio_lock]


# --8<-- [start:thread_lock]
def add_blocking(counter: Counter, amount: int) -> None:
    """The read-modify-write in a thread, with blocking work inside: a threading.Lock."""
    with counter.thread_lock:
        total = counter.total
        time.sleep(0.05)  # blocking work between the read and the write
        counter.total = total + amount


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def add_in_thread(ctx: CounterCtx, args: Add) -> Result[None, fnact.Fault]:
    """Add in a `run_blocking` thread: the run's other threads share the handler."""
    await ctx.run_blocking(add_blocking, ctx.state.handler, args.amount)
    return Success(None)


# --8<-- [end:thread_lock]


# --8<-- [start:adders]
ADDERS = {"unlocked": add_unlocked, "asyncio.Lock": add_locked, "threading.Lock": add_in_thread}
# --8<-- [end:adders]
