"""The "Write outputs safely" how-to's example, in-process and on the dev server."""

# --8<-- [start:imports]
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from temporalio.exceptions import ApplicationError

import fnact
import fnact.worker
from examples.howto.outputs import (
    Checksums,
    ExportedFile,
    ExportOrders,
    Order,
    Shop,
    build_container,
    export_orders,
    fetch_orders,
)
from examples.howto.workflows import DailyExport
from fnact.testing import ActivityHarness, assert_success
from fnact.worker import DevServer

# --8<-- [end:imports]

STARTED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


# --8<-- [start:counting_shop]
class CountingShop(Shop):
    """A shop that counts how often it was asked, and can return many orders."""

    def __init__(self, orders: int = 3) -> None:
        self.count = orders
        self.calls = 0

    async def orders(self, day: str) -> list[Order]:
        self.calls += 1
        return [Order(id=n, day=day, cents=n) for n in range(1, self.count + 1)]


# --8<-- [end:counting_shop]


@pytest.fixture
def shop() -> CountingShop:
    """A counting shop with three orders."""
    return CountingShop()


@pytest.fixture
def harness(tmp_path: Path, shop: CountingShop) -> Iterator[ActivityHarness]:
    """A harness whose run started at 05:06:07 UTC, writing under ``tmp_path/out``."""
    container = build_container(tmp_path / "out")
    with ActivityHarness(
        container, workflow_id="daily-export", run_id="run-1", run_started=STARTED
    ) as harness:
        harness.override(shop=shop)
        yield harness


async def test_export_writes_under_the_runs_dated_path(
    harness: ActivityHarness, tmp_path: Path
) -> None:
    """The file lands at <root>/YYYY/MM/DD/HH/MM/<workflow_id>/<run_id> and its path is returned."""
    run = await harness.run(export_orders, ExportOrders("2026-03-03"))
    folder = tmp_path / "out/2026/03/04/05/06/daily-export/run-1"
    exported = assert_success(run.result)
    assert exported == ExportedFile(
        path=str(folder / "orders-2026-03-03.jsonl"),
        name="orders-2026-03-03.jsonl",
        size=(folder / "orders-2026-03-03.jsonl").stat().st_size,
    )
    lines = run.files["orders-2026-03-03.jsonl"].splitlines()
    assert [msgspec.json.decode(line, type=Order).id for line in lines] == [1, 2, 3]
    assert {"message": "exported orders", "orders": 3}.items() <= run.log_fields[-1].items()


# --8<-- [start:retry_test]
async def test_a_retry_skips_the_committed_file_and_gets_the_same_path(
    harness: ActivityHarness, shop: CountingShop
) -> None:
    """A later attempt of the same run finds the file committed and does not fetch again."""
    first = await harness.run(export_orders, ExportOrders("2026-03-03"), attempt=1)
    again = await harness.run(export_orders, ExportOrders("2026-03-03"), attempt=3)
    assert shop.calls == 1
    assert assert_success(again.result) == assert_success(first.result)
    assert again.files == {}  # nothing rewritten
    assert {"message": "already exported", "attempt": 3}.items() <= again.log_fields[-1].items()


# --8<-- [end:retry_test]


async def test_hostile_ids_cannot_leave_the_output_root(tmp_path: Path, shop: CountingShop) -> None:
    """Workflow and run ids full of ../ and slashes stay one folder each under the root."""
    root = tmp_path / "out"
    with ActivityHarness(
        build_container(root), workflow_id="../../../etc", run_id="/tmp/x", run_started=STARTED
    ) as harness:
        harness.override(shop=shop)
        run = await harness.run(export_orders, ExportOrders("2026-03-03"))
    path = Path(assert_success(run.result).path).resolve()
    assert path.is_relative_to(root.resolve())
    assert path.parent.relative_to(root.resolve()).parts == (
        *("2026", "03", "04", "05", "06"),
        "..%2F..%2F..%2Fetc",
        "%2Ftmp%2Fx",
    )


async def test_a_large_result_fails_at_once_but_its_file_does_not(
    harness: ActivityHarness, shop: CountingShop
) -> None:
    """Over 2 MB of rows fail non-retryable with the size; the same rows written as a file pass."""
    shop.count = 60_000
    run = await harness.run(fetch_orders, ExportOrders("2026-03-03"))
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.type == "PayloadTooLarge"
    assert run.exception.non_retryable
    assert run.exception.message == (  # as the guide quotes it
        "activity 'fetch_orders' result is 2,737,823 bytes, over the 2,097,152-byte payload "
        "limit; write large data with ctx.outputs and return or checkpoint its OutputRef "
        "instead, or configure Temporal's external storage (fnact.worker.ObjectStoreDriver)"
    )
    exported = assert_success((await harness.run(export_orders, ExportOrders("2026-03-03"))).result)
    assert exported.size > 2 * 1024 * 1024


@pytest.mark.integration
async def test_plain_activity_writes_beside_the_fnact_activity(
    temporal_server: DevServer, fnact_task_queue: str, tmp_path: Path
) -> None:
    """On a worker, the plain activity's build_output_path() is the fnact activity's folder."""
    root = tmp_path / "out"
    client = await fnact.worker.connect(temporal_server.address)
    async with fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=build_container(root),
        activities=[export_orders, Checksums(root).write_checksums],
        workflows=[DailyExport],
    ):
        handle = await client.start_workflow(
            DailyExport.run,
            ExportOrders("2026-03-03"),
            id=f"daily-export-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        report = await handle.result()
    started = (await handle.describe()).start_time.astimezone(UTC)
    folder = root / f"{started:%Y/%m/%d/%H/%M}" / handle.id / str(handle.result_run_id)
    assert Path(report.export.path) == folder / "orders-2026-03-03.jsonl"
    assert Path(report.checksums) == folder / "SHA256SUMS"
    digest = hashlib.sha256(Path(report.export.path).read_bytes()).hexdigest()
    assert Path(report.checksums).read_text() == f"{digest}  orders-2026-03-03.jsonl\n"
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "orders-2026-03-03.jsonl"]
