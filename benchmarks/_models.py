"""The models, data and workloads the benchmarks run: payload types, activities, workflows.

- the per-call activity (``added-cost``, ``metrics-cost``): a 4-field `Order` priced into a
  3-field `Quote`, as an fnact activity, a plain Temporal activity and a plain activity with
  dataclasses for Temporal's default converter, and as an fnact activity taking the same
  input as a pydantic model (``pydantic-input``);
- the records of the converter comparison (``converters``), all built from the same fields;
- the run state of ``state-access``;
- the run-context workload (``run-context``): a run's input (`Job`), its SQLite handler
  (`Db`), the fan-out and stateful activities and workflows, fnact's and plain ones.
"""

import asyncio
import contextlib
import dataclasses
import sqlite3
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pydantic
import temporalio.activity
import temporalio.converter
import temporalio.workflow
from dependency_injector import providers
from returns.result import Result, Success
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter

import fnact
import fnact.worker
import fnact.workflow

MSGSPEC = fnact.worker.data_converter.payload_converter
"""fnact's msgspec payload converter."""
DEFAULT = temporalio.converter.DataConverter.default.payload_converter
"""Temporal's default payload converter."""
PYDANTIC = pydantic_data_converter.payload_converter
"""Temporal's pydantic payload converter (``temporalio.contrib.pydantic``)."""

KIB = 1024
ACTIVITY_TIMEOUT = timedelta(seconds=30)
"""The start-to-close timeout of every activity in the run-context measurements."""


# --- per-call activities under test --------------------------------------------------------------


class Order(msgspec.Struct, frozen=True):
    """The per-call measurement's activity input: 4 fields."""

    order_id: int
    customer: str
    quantity: int
    unit_price: float


class Quote(msgspec.Struct, frozen=True):
    """The per-call measurement's activity result: 3 fields."""

    order_id: int
    total: float
    label: str


@dataclasses.dataclass(frozen=True)
class OrderClass:
    """`Order` as a dataclass, for Temporal's default converter."""

    order_id: int
    customer: str
    quantity: int
    unit_price: float


@dataclasses.dataclass(frozen=True)
class QuoteClass:
    """`Quote` as a dataclass, for Temporal's default converter."""

    order_id: int
    total: float
    label: str


class OutOfStock(fnact.Fault):
    """The fnact activity's expected error; the measured calls never return it."""

    order_id: int


@fnact.activity
async def quote_fnact(ctx: fnact.ActivityContext, order: Order) -> Result[Quote, OutOfStock]:
    """Price ``order``, as a default fnact activity (no dependencies, no run state)."""
    return Success(
        Quote(
            order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
        )
    )


@temporalio.activity.defn
async def quote_raw(order: Order) -> Quote:
    """Price ``order``, as a plain Temporal activity."""
    return Quote(
        order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
    )


@temporalio.activity.defn
async def echo_raw(raw: RawValue) -> RawValue:
    """Return the input payload untouched: a plain activity that converts nothing."""
    return raw


@temporalio.activity.defn
async def quote_default(order: OrderClass) -> QuoteClass:
    """Price ``order``, as a plain Temporal activity with dataclasses."""
    return QuoteClass(
        order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
    )


class BenchContainer(fnact.Container):
    """fnact's container with nothing added: the adapter's own overhead only."""


# --- state-access: a run state to read -----------------------------------------------------------


class Args(msgspec.Struct, frozen=True):
    """The workflow input of the state-access measurement's run state: one number."""

    value: int


class Handler:
    """A stand-in for a run's handler (a database client, say)."""


# --- converter records ---------------------------------------------------------------------------


class RecordStruct(msgspec.Struct):
    """An 8-field record for the msgspec converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str


@dataclasses.dataclass
class RecordClass:
    """An 8-field record for Temporal's default converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str


class RecordModel(pydantic.BaseModel):
    """An 8-field record for Temporal's pydantic converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str


class WideStruct(msgspec.Struct):
    """A 10-field single value for the msgspec converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str
    country: str
    balance: float


@dataclasses.dataclass
class WideClass:
    """A 10-field single value for Temporal's default converter."""

    id: int
    name: str
    email: str
    age: int
    score: float
    active: bool
    tags: list[str]
    city: str
    country: str
    balance: float


def record_fields(index: int) -> dict[str, Any]:
    """Return the fields of record ``index``; the same values feed every record type.

    Args:
        index: the record's position, which determines every field.

    Returns:
        The 8 fields, keyed by name.
    """
    return {
        "id": index,
        "name": f"user-{index}",
        "email": f"user-{index}@example.com",
        "age": 18 + index % 60,
        "score": index * 0.5 + 0.25,
        "active": index % 3 != 0,
        "tags": ["alpha", f"group-{index % 7}"],
        "city": f"city-{index % 100}",
    }


def wide_fields() -> dict[str, Any]:
    """Return the fields of the 10-field single value.

    Returns:
        The 10 fields, keyed by name.
    """
    return {**record_fields(42), "country": "NL", "balance": 1234.5}


# --- run context: a run's input, its SQLite handler, fan-out and stateful runs -------------------


class Job(msgspec.Struct, frozen=True):
    """A run's input: a name, padding to give it a size, and how many activities to run."""

    name: str
    pad: str
    activities: int


class Step(msgspec.Struct, frozen=True):
    """The input of the raw stateful activity: its index and the run's whole input."""

    n: int
    job: Job


class Db:
    """A run's handler: a SQLite connection to the benchmark's database file.

    Args:
        path: the database file.
        job: the run's input, which the queries use.
    """

    def __init__(self, path: str, job: Job) -> None:
        self.job = job
        self.connection = sqlite3.connect(path)
        self.connection.execute("SELECT count(*) FROM jobs").fetchone()

    def lookup(self, n: int) -> int:
        """Return ``n`` plus the number of jobs named like the run's, by a trivial query."""
        row = self.connection.execute(
            "SELECT ? + count(*) FROM jobs WHERE name = ?", (n, self.job.name)
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def create_db(path: str) -> None:
    """Create the benchmark's database file with one ``jobs`` row, named ``bench``.

    Args:
        path: the database file.
    """
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE jobs (name TEXT NOT NULL)")
        connection.execute("INSERT INTO jobs VALUES ('bench')")


def open_db(path: str, workflow_args: Job) -> Db:
    """Build a run's handler, as the container's ``handler`` provider.

    Args:
        path: the database file.
        workflow_args: the run's input, which fnact passes.

    Returns:
        The run's open connection.
    """
    return Db(path, workflow_args)


class SqliteContainer(fnact.Container):
    """fnact's container with a SQLite connection as each run's handler."""

    db_path = providers.Object(":memory:")
    handler = providers.Callable(open_db, path=db_path)


@fnact.activity(start_to_close_timeout=ACTIVITY_TIMEOUT)
async def fan_fnact(ctx: fnact.ActivityContext[Db, Job], n: int) -> Result[int, fnact.Fault]:
    """Return ``n`` once the run's input is in hand, as an fnact activity with run state."""
    if n >= ctx.state.workflow_args.activities:
        raise AssertionError(f"activity {n} is not one of the run's")
    return Success(n)


@temporalio.activity.defn
async def fan_plain(n: int) -> int:
    """Return ``n``, as a plain Temporal activity."""
    return n


@fnact.activity(start_to_close_timeout=ACTIVITY_TIMEOUT)
async def step_fnact(ctx: fnact.ActivityContext[Db, Job], n: int) -> Result[int, fnact.Fault]:
    """Run one query on the run's connection, which fnact builds once per run."""
    return Success(ctx.state.handler.lookup(n))


@dataclasses.dataclass(frozen=True)
class RawSteps:
    """The raw stateful activity, bound to the database file.

    Args:
        path: the database file.
    """

    path: str

    @temporalio.activity.defn(name="step_raw")
    async def step_raw(self, step: Step) -> int:
        """Open a connection for the run's input, run one query on it and close it."""
        db = Db(self.path, step.job)
        try:
            return db.lookup(step.n)
        finally:
            db.close()


@temporalio.workflow.defn
class FnactFanOut:
    """Start ``job.activities`` fnact activities at once; return their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> list[int]:
        """Return each activity's result, in order."""
        results = await asyncio.gather(
            *(fnact.workflow.execute_activity(fan_fnact, n) for n in range(job.activities))
        )
        return [result.unwrap() for result in results]


@temporalio.workflow.defn
class PlainFanOut:
    """Start ``job.activities`` plain activities at once; return their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> list[int]:
        """Return each activity's result, in order."""
        return list(
            await asyncio.gather(
                *(
                    temporalio.workflow.execute_activity(
                        fan_plain, n, start_to_close_timeout=ACTIVITY_TIMEOUT
                    )
                    for n in range(job.activities)
                )
            )
        )


@temporalio.workflow.defn
class FnactSteps:
    """Run ``job.activities`` stateful fnact activities one after another; sum their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> int:
        """Return the sum of the activities' results."""
        total = 0
        for n in range(job.activities):
            total += (await fnact.workflow.execute_activity(step_fnact, n)).unwrap()
        return total


@temporalio.workflow.defn
class PlainSteps:
    """Run ``job.activities`` raw stateful activities one after another; sum their results."""

    @temporalio.workflow.run
    async def run(self, job: Job) -> int:
        """Return the sum of the activities' results."""
        total = 0
        for n in range(job.activities):
            total += await temporalio.workflow.execute_activity(
                "step_raw", Step(n, job), result_type=int, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        return total


def new_job(pad: int, activities: int) -> Job:
    """Return a run input named ``bench`` with ``pad`` characters of padding.

    Args:
        pad: characters of padding.
        activities: how many activities the run runs.

    Returns:
        The run's input.
    """
    return Job("bench", "x" * pad, activities)


def run_id(label: str) -> str:
    """Return a fresh workflow id; ids of one label are all as long.

    Args:
        label: what the run is for.

    Returns:
        The workflow id.
    """
    return f"bench-{label}-{uuid.uuid4()}"


def sqlite_container(path: str, **settings: Any) -> SqliteContainer:
    """Return a container whose handlers open ``path``, with fnact's settings changed.

    Args:
        path: the database file.
        settings: `fnact.Settings` fields to change from their defaults.

    Returns:
        The container.
    """
    container = SqliteContainer()
    container.db_path.override(providers.Object(path))
    if settings:
        container.settings.override(providers.Object(fnact.Settings(**settings)))
    return container


# --- pydantic-input: the per-call activity with a pydantic input ---------------------------------


class OrderModel(pydantic.BaseModel):
    """`Order` as a pydantic model: the same 4 fields."""

    order_id: int
    customer: str
    quantity: int
    unit_price: float


@fnact.activity
async def quote_fnact_model(
    ctx: fnact.ActivityContext, order: OrderModel
) -> Result[Quote, OutOfStock]:
    """Price ``order`` as `quote_fnact` does, from a pydantic input."""
    return Success(
        Quote(
            order.order_id, order.quantity * order.unit_price, f"{order.customer}/{order.order_id}"
        )
    )
