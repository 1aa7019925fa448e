"""``large-result``: runs per second of a workflow whose activity returns a 10 MB typed result.

The result (10,000 records, about 10 MB of JSON) is over Temporal's 256 KiB
``payload_size_threshold``, so external storage keeps it: `fnact.worker.ObjectStoreDriver`
on one in-memory obstore store, for both sides. An fnact activity (msgspec Structs,
fnact's data converter) against a plain ``@temporalio.activity.defn`` activity
(dataclasses, Temporal's default converter), each in a worker on the embedded dev server.
"""

import asyncio
import dataclasses
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import obstore
import temporalio.activity
import temporalio.client
import temporalio.converter
import temporalio.workflow
from obstore.store import MemoryStore
from returns.result import Result, Success
from temporalio.converter import ExternalStorage
from temporalio.worker import UnsandboxedWorkflowRunner

import fnact
import fnact.worker
import fnact.workflow
from benchmarks._models import MSGSPEC, BenchContainer
from benchmarks._timing import TIMES, Target, rotated

RECORDS = 10_000
"""Records in every result."""
NOTE_CHARS = 900
"""Characters of each record's note: with its other fields, about 1 KB of JSON a record."""
RUNS_AT_ONCE = 4
"""Workflow runs started at once in each timed round of a side."""
ROUNDS = 7
"""Timed rounds; each runs both sides once, in rotated order."""
WARM_UP_RUNS = 2
"""Runs of each side before the timed rounds."""
QUEUES = {"fnact": "fnact-bench-large-fnact", "plain": "fnact-bench-large-plain"}
"""Each side's task queue."""
PAYLOADS_ROOT = "memory://payloads"
"""The external storage root of both sides' `ObjectStoreDriver`."""
ACTIVITY_TIMEOUT = timedelta(seconds=120)

LARGE_RESULT_GOAL = 1.5
"""fnact's runs per second over the plain activity's, as a ratio."""


class Record(msgspec.Struct, frozen=True):
    """One record of the fnact activity's result."""

    id: int
    run: int
    name: str
    email: str
    score: float
    active: bool
    tags: list[str]
    note: str


@dataclasses.dataclass(frozen=True)
class RecordClass:
    """`Record` as a dataclass, for Temporal's default converter."""

    id: int
    run: int
    name: str
    email: str
    score: float
    active: bool
    tags: list[str]
    note: str


def record_fields(i: int) -> tuple[Any, ...]:
    """Return the fields of record ``i`` (``run`` 0), the same for both sides."""
    note = (f"line {i} of the export; " * (NOTE_CHARS // 20 + 1))[:NOTE_CHARS]
    tags = [f"tag{i % 7}", f"group{i % 13}", "bench"]
    return (i, 0, f"user-{i}", f"user{i}@example.com", i * 0.25, i % 2 == 0, tags, note)


ROWS = [Record(*record_fields(i)) for i in range(RECORDS)]
"""The fnact result's records, built once: the activities time converting, not building."""
ROW_CLASSES = [RecordClass(*record_fields(i)) for i in range(RECORDS)]
"""The plain result's records, built once."""


def fnact_result(run: int) -> list[Record]:
    """Return the fnact result of run ``run``: `ROWS`, the first record marked with ``run``.

    `ObjectStoreDriver` names a payload by its SHA-256 and stores it once: a result
    the same in every run would be stored once and then only looked up.
    """
    return [msgspec.structs.replace(ROWS[0], run=run), *ROWS[1:]]


def plain_result(run: int) -> list[RecordClass]:
    """Return the plain result of run ``run``, as `fnact_result`."""
    return [dataclasses.replace(ROW_CLASSES[0], run=run), *ROW_CLASSES[1:]]


@fnact.activity(start_to_close_timeout=ACTIVITY_TIMEOUT)
async def export_fnact(ctx: fnact.ActivityContext, run: int) -> Result[list[Record], fnact.Fault]:
    """Return the 10 MB result, as an fnact activity."""
    return Success(fnact_result(run))


@temporalio.activity.defn
async def export_plain(run: int) -> list[RecordClass]:
    """Return the 10 MB result, as a plain Temporal activity with dataclasses."""
    return plain_result(run)


@temporalio.workflow.defn
class ExportFnact:
    """Run `export_fnact` and check the records it got back."""

    @temporalio.workflow.run
    async def run(self, run: int) -> int:
        """Return the run number the first record carries, times the records' count."""
        rows = (await fnact.workflow.execute_activity(export_fnact, run)).unwrap()
        return rows[0].run * len(rows)


@temporalio.workflow.defn
class ExportPlain:
    """Run `export_plain` and check the records it got back."""

    @temporalio.workflow.run
    async def run(self, run: int) -> int:
        """Return the run number the first record carries, times the records' count."""
        rows = await temporalio.workflow.execute_activity(
            export_plain, run, start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        return rows[0].run * len(rows)


async def time_runs(
    client: temporalio.client.Client, workflow: Any, queue: str, first: int, runs: int
) -> float:
    """Start ``runs`` runs at once (numbered from ``first``); return runs per second.

    Raises:
        AssertionError: a run did not get its own records back.
    """
    numbers = range(first, first + runs)
    start = time.perf_counter()
    handles = await asyncio.gather(
        *(
            client.start_workflow(workflow, n, id=f"large-{uuid.uuid4()}", task_queue=queue)
            for n in numbers
        )
    )
    results = await asyncio.gather(*(handle.result() for handle in handles))
    elapsed = time.perf_counter() - start
    if results != [n * RECORDS for n in numbers]:
        raise AssertionError(f"the large-result runs returned {results}")
    return runs / elapsed


def clear(store: MemoryStore) -> int:
    """Delete every payload in ``store``; return how many there were."""
    paths = [str(meta["path"]) for batch in obstore.list(store) for meta in batch]
    if paths:
        obstore.delete(store, paths)
    return len(paths)


async def bench_large_result() -> list[Target]:
    """Compare runs per second of an fnact and a plain activity returning a 10 MB result.

    Both sides' data converters keep payloads over 256 KiB in external storage,
    `ObjectStoreDriver` on the same in-memory obstore store (``memory://payloads``),
    so the result is encoded and stored by the activity's worker and retrieved and
    decoded by the workflow's. fnact's side: a client from `fnact.worker.connect`
    (fnact's msgspec converter) and `fnact.worker.create_worker`; the plain side: a
    client on the same connection with Temporal's default converter and a plain
    `temporalio.worker.Worker`. Both unsandboxed.

    Returns:
        The ``large-result`` target: the median of the per-round ratios of fnact's
        runs per second over the plain side's.
    """
    store = MemoryStore()
    driver = fnact.worker.ObjectStoreDriver(PAYLOADS_ROOT, store=store)
    storage = ExternalStorage(drivers=[driver])
    size = MSGSPEC.to_payload(fnact_result(1)).ByteSize()
    with fnact.worker.DevServer(ui=False) as server:
        client = await fnact.worker.connect(
            server.address,
            use_environment=False,
            data_converter=dataclasses.replace(
                fnact.worker.data_converter, external_storage=storage
            ),
        )
        config = client.config()
        config["data_converter"] = dataclasses.replace(
            temporalio.converter.DataConverter.default, external_storage=storage
        )
        plain_client = temporalio.client.Client(**config)
        fnact_worker = fnact.worker.create_worker(
            client,
            task_queue=QUEUES["fnact"],
            container=BenchContainer(),
            activities=[export_fnact],
            workflows=[ExportFnact],
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        plain_worker = temporalio.worker.Worker(
            plain_client,
            task_queue=QUEUES["plain"],
            activities=[export_plain],
            workflows=[ExportPlain],
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        sides = {
            "fnact": (client, ExportFnact.run),
            "plain": (plain_client, ExportPlain.run),
        }
        samples: dict[str, list[float]] = {label: [] for label in sides}
        async with fnact_worker, plain_worker:
            number = 1
            for label, (side_client, workflow) in sides.items():
                await time_runs(side_client, workflow, QUEUES[label], number, WARM_UP_RUNS)
                number += WARM_UP_RUNS
            stored = clear(store)
            for turn in range(ROUNDS):
                for label in rotated(list(sides), turn):
                    side_client, workflow = sides[label]
                    samples[label].append(
                        await time_runs(side_client, workflow, QUEUES[label], number, RUNS_AT_ONCE)
                    )
                    number += RUNS_AT_ONCE
                    stored += clear(store)  # outside the timing: the store stays small
    medians = {label: statistics.median(values) for label, values in samples.items()}
    ratio = statistics.median(
        mine / theirs for mine, theirs in zip(samples["fnact"], samples["plain"], strict=True)
    )
    rounds = {
        label: ", ".join(f"{value:.2f}" for value in values) for label, values in samples.items()
    }
    print(
        f"large-result: {RECORDS:,} records, {size / 1e6:.1f} MB result payload (msgspec), "
        f"external storage ObjectStoreDriver({PAYLOADS_ROOT!r}) on both sides, {RUNS_AT_ONCE} "
        f"runs at once: median runs/s over {ROUNDS} rounds: fnact {medians['fnact']:.2f}, "
        f"plain {medians['plain']:.2f} (fnact/plain {ratio:.2f}{TIMES}, the median of the "
        f"per-round ratios; rounds fnact {rounds['fnact']}; plain {rounds['plain']}); "
        f"{stored} payloads stored"
    )
    return [Target("large-result", ratio, LARGE_RESULT_GOAL, TIMES, higher_is_better=True)]
