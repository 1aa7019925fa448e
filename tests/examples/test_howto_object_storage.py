"""The object storage and large-data how-tos' examples: in-process, on S3 and on the dev server.

The activities run in the `ActivityHarness` on a local folder, a ``memory://`` root and
moto's S3 server (``tests/object_stores.py``); the workflows run on the dev server with
their outputs and Temporal's external storage on S3 and on ``memory://`` roots.
"""

# --8<-- [start:imports]
from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import obstore
import pytest
from dependency_injector import providers
from obstore.store import MemoryStore
from returns.result import Failure
from temporalio.exceptions import ApplicationError

import fnact
import fnact.worker
from examples.howto import large_data
from examples.howto.large_data_workflows import SalesReport, SalesReportInline
from examples.howto.object_storage import (
    REGIONS,
    ExportDay,
    Manifest,
    RegionTotals,
    Sale,
    SalesDb,
    UnreadableSales,
    build_container,
    export_sales,
    fetch_sales,
    s3_store,
    total_by_region,
    write_manifest,
)
from fnact.exceptions import OutputError
from fnact.testing import ActivityHarness, assert_success
from fnact.worker import DevServer
from tests.object_stores import S3Server

# --8<-- [end:imports]

ROOT = Path(__file__).resolve().parents[2]


# --8<-- [start:definitions]
STARTED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PREFIX = "2026/03/04/05/06/sales-report/run-1"  # the run's prefix under the output root
DAY = ExportDay("2026-03-03")


def expected_totals(sales: int) -> RegionTotals:
    """The totals of ``SalesDb(sales)``, computed apart from the activities."""
    totals = dict.fromkeys(REGIONS, 0)
    for n in range(sales):
        totals[REGIONS[n % 4]] += 100 + n % 100
    return RegionTotals(totals=totals, sales=sales)


def memory_root() -> str:
    """A ``memory://`` root no other test uses (one store per URL per process)."""
    return f"memory://sales-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["local", "memory"])
def output_root(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The output root: a local folder, or a ``memory://`` object store."""
    return tmp_path / "out" if request.param == "local" else memory_root()


# --8<-- [end:definitions]


# --8<-- [start:harness]
@pytest.fixture
def harness(output_root: Path | str) -> Iterator[ActivityHarness]:
    """A harness whose runs write under ``output_root`` (a folder, or ``memory://...``)."""
    container = build_container(output_root)
    with ActivityHarness(
        container, workflow_id="sales-report", run_id="run-1", run_started=STARTED
    ) as harness:
        yield harness


async def test_export_then_total_by_reference(harness: ActivityHarness) -> None:
    """The export's reference points at its bytes; the next activity reads it and totals them."""
    exported = await harness.run(export_sales, DAY)
    ref = assert_success(exported.result)
    data = await harness.outputs.read(ref)  # what any worker with the same root reads
    assert ref.key == f"{PREFIX}/sales-2026-03-03.jsonl"
    assert (ref.size, ref.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert len(data.splitlines()) == 2_500

    totalled = await harness.run(total_by_region, ref)
    assert assert_success(totalled.result) == expected_totals(2_500)
    assert await harness.outputs.list() == ["sales-2026-03-03.jsonl", "totals.json"]


# --8<-- [end:harness]


async def test_the_reference_names_the_root_and_the_runs_prefix(
    harness: ActivityHarness, output_root: Path | str
) -> None:
    """OutputRef.url is the root, the run's dated prefix and the output's name."""
    ref = assert_success((await harness.run(export_sales, DAY)).result)
    assert ref.root == str(output_root)
    assert ref.url == f"{output_root}/{PREFIX}/sales-2026-03-03.jsonl"


async def test_a_retry_skips_the_committed_export(harness: ActivityHarness) -> None:
    """A later attempt of the run finds the output committed and does not query again."""
    db = SalesDb()
    harness.override(sales=db)
    first = await harness.run(export_sales, DAY, attempt=1)
    again = await harness.run(export_sales, DAY, attempt=2)
    assert db.queries == 1
    assert assert_success(again.result) == assert_success(first.result)
    assert {"message": "already exported", "attempt": 2}.items() <= again.log_fields[-1].items()


class BrokenDb(SalesDb):
    """A database whose cursor fails after its first page."""

    async def pages(self, day: str) -> AsyncIterator[list[Sale]]:
        yield [Sale(id=0, region="north", cents=1)]
        raise ConnectionError("the database went away")


async def test_an_export_that_fails_midway_publishes_nothing(harness: ActivityHarness) -> None:
    """The writer's block ends with the exception: no output, not even a part of one."""
    harness.override(sales=BrokenDb())
    run = await harness.run(export_sales, DAY)
    assert isinstance(run.exception, ConnectionError)
    assert not await harness.outputs.exists("sales-2026-03-03.jsonl")
    assert await harness.outputs.list() == []
    if isinstance(harness.output_root, Path):  # not even a temporary file in the folder
        assert [p for p in harness.output_root.rglob("*") if p.is_file()] == []


async def test_the_manifest_lists_every_output_with_its_sha256(harness: ActivityHarness) -> None:
    """SHA256SUMS holds one sha256sum line per output, from the digests stored with them."""
    await harness.run(export_sales, DAY)
    await harness.run(total_by_region, await harness.outputs.ref("sales-2026-03-03.jsonl"))
    names = assert_success((await harness.run(write_manifest, Manifest())).result)
    assert names == ["sales-2026-03-03.jsonl", "totals.json"]
    expected = ""
    for name in names:
        expected += f"{hashlib.sha256(await harness.outputs.read(name)).hexdigest()}  {name}\n"
    assert (await harness.outputs.read("SHA256SUMS")).decode() == expected


async def corrupt(harness: ActivityHarness, ref: fnact.OutputRef) -> None:
    """Change an output's bytes behind fnact's back, keeping the digest written with it."""
    forged = b'{"id":0,"region":"north","cents":999999}\n'  # well-formed, but not what was written
    root = harness.output_root
    if isinstance(root, Path):
        (root / ref.key).write_bytes(forged)
    else:
        store = harness.outputs.backend.store  # type: ignore[attr-defined]
        obstore.put(store, ref.key, forged, attributes={"sha256": ref.sha256})


async def test_a_corrupt_export_is_a_final_failure(harness: ActivityHarness) -> None:
    """Bytes that no longer match the SHA-256 end in UnreadableSales, not in a retry loop."""
    ref = assert_success((await harness.run(export_sales, DAY)).result)
    await corrupt(harness, ref)
    run = await harness.run(total_by_region, ref)
    assert isinstance(run.result, Failure)
    failure = run.result.failure()
    assert isinstance(failure, UnreadableSales)
    assert failure.url == ref.url
    assert "is corrupt: its SHA-256 is" in failure.reason
    assert not await harness.outputs.exists("totals.json")


async def test_a_corrupt_export_that_no_longer_parses_is_a_final_failure_too(
    harness: ActivityHarness,
) -> None:
    """Bytes that fail to decode before the SHA-256 check (it comes last) end the same way."""
    ref = assert_success((await harness.run(export_sales, DAY)).result)
    garbage = b"\x00not json\n"
    if isinstance(harness.output_root, Path):
        (harness.output_root / ref.key).write_bytes(garbage)
    else:
        store = harness.outputs.backend.store  # type: ignore[attr-defined]
        obstore.put(store, ref.key, garbage, attributes={"sha256": ref.sha256})
    run = await harness.run(total_by_region, ref)
    assert isinstance(run.result, Failure)
    failure = run.result.failure()
    assert isinstance(failure, UnreadableSales)
    assert failure.reason.startswith("JSON is malformed")
    assert not await harness.outputs.exists("totals.json")


async def test_a_missing_export_is_a_final_failure(harness: ActivityHarness) -> None:
    """A reference to an output that is gone (expired, deleted) ends in UnreadableSales."""
    ref = assert_success((await harness.run(export_sales, DAY)).result)
    gone = fnact.OutputRef(root=ref.root, key=f"{PREFIX}/gone.jsonl", sha256=ref.sha256, size=1)
    run = await harness.run(total_by_region, gone)
    assert isinstance(run.result, Failure)
    assert run.result.failure() == UnreadableSales(url=gone.url, reason=f"no output at {gone.url}")


async def test_an_export_over_8_mib_goes_up_in_parts_and_reads_back_whole() -> None:
    """On an object store, 210,000 sales (over 8 MiB) are uploaded in parts, read back whole."""
    with ActivityHarness(build_container(memory_root()), run_started=STARTED) as harness:
        harness.override(sales=SalesDb(sales=210_000, page_size=10_000))
        ref = assert_success((await harness.run(export_sales, DAY)).result)
        assert ref.size > 8 * 1024 * 1024
        totals = assert_success((await harness.run(total_by_region, ref)).result)
    assert totals == expected_totals(210_000)


async def test_sales_over_2_mib_as_a_value_fail_at_once_without_external_storage(
    harness: ActivityHarness,
) -> None:
    """fetch_sales with 60,000 sales fails non-retryable with PayloadTooLarge, naming the size."""
    harness.override(sales=SalesDb(sales=60_000))
    run = await harness.run(fetch_sales, DAY)
    assert isinstance(run.exception, ApplicationError)
    assert run.exception.type == "PayloadTooLarge"
    assert run.exception.non_retryable
    assert "over the 2,097,152-byte payload limit" in run.exception.message


async def test_local_only_calls_name_their_replacement_on_an_object_store() -> None:
    """The local-only export of "Write outputs safely" fails on S3 with the message it quotes."""
    from examples.howto.outputs import ExportOrders, export_orders
    from examples.howto.outputs import build_container as build_local_container

    container = build_local_container(Path("unused"))
    with ActivityHarness(container, output_root="s3://reports/outputs") as harness:
        run = await harness.run(export_orders, ExportOrders("2026-03-03"))
    assert isinstance(run.exception, OutputError)
    quoted = page_blocks("write-outputs-safely.md", "text", indent="    ")
    assert [str(run.exception)] == [q.strip() for q in quoted if "ctx.has_output" in q]


# --8<-- [start:s3_store_test]
async def test_a_store_configured_in_code_writes_to_s3_with_the_digest_in_metadata(
    s3_server: S3Server, s3_bucket: str
) -> None:
    """With s3_store() in the container, outputs land in the bucket, sha256 in their metadata."""
    store = s3_store(
        s3_bucket,
        "outputs",
        region=s3_server.region,
        access_key_id=s3_server.access_key_id,
        secret_access_key=fnact.Secret(s3_server.secret_access_key),
        endpoint=s3_server.endpoint,
    )
    container = build_container(f"s3://{s3_bucket}/outputs", store)
    with ActivityHarness(
        container, workflow_id="sales-report", run_id="run-1", run_started=STARTED
    ) as harness:
        ref = assert_success((await harness.run(export_sales, DAY)).result)
        totals = assert_success((await harness.run(total_by_region, ref)).result)
    assert ref.url == f"s3://{s3_bucket}/outputs/{PREFIX}/sales-2026-03-03.jsonl"
    assert totals == expected_totals(2_500)
    head = s3_server.boto3_client().head_object(Bucket=s3_bucket, Key=f"outputs/{ref.key}")
    assert head["Metadata"] == {"sha256": ref.sha256}
    assert head["ContentLength"] == ref.size


# --8<-- [end:s3_store_test]


def page_blocks(page: str, lang: str, indent: str = "") -> list[str]:
    """Return the bodies of a docs page's fenced blocks in ``lang``, fenced at ``indent``."""
    text = (ROOT / "docs" / "how-to" / page).read_text()
    return re.findall(rf"^{indent}```{lang}[^\n]*\n(.*?)^{indent}```", text, re.S | re.M)


def test_the_iam_policy_on_the_page_grants_what_outputs_and_payloads_use() -> None:
    """The page's S3 policy is valid JSON with the five actions outputs need, on the right ARNs."""
    policies = [
        json.loads(body) for body in page_blocks("store-outputs-in-object-storage.md", "json")
    ]
    policy = next(p for p in policies if "Statement" in p)
    actions = {
        action
        for statement in policy["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert actions == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:AbortMultipartUpload",
    }


def test_the_lifecycle_rules_on_the_pages_are_accepted_by_s3(
    s3_server: S3Server, s3_bucket: str
) -> None:
    """Each lifecycle configuration the pages show is taken by the S3 API and read back."""
    client = s3_server.boto3_client()
    shown = [
        json.loads(body)
        for page in ("store-outputs-in-object-storage.md", "pass-large-data-between-activities.md")
        for body in page_blocks(page, "json")
        if '"Rules"' in body
    ]
    assert len(shown) == 2
    for configuration in shown:
        client.put_bucket_lifecycle_configuration(
            Bucket=s3_bucket, LifecycleConfiguration=configuration
        )
        rules = client.get_bucket_lifecycle_configuration(Bucket=s3_bucket)["Rules"]
        assert [rule["ID"] for rule in rules] == [rule["ID"] for rule in configuration["Rules"]]


# --- the workflows, on the dev server


async def run_workflow(
    client: Any, spec: fnact.worker.WorkerSpec, task_queue: str, workflow: Any, args: Any
) -> Any:
    """Run ``workflow`` with ``args`` on a worker built from ``spec``; return its result."""
    async with fnact.worker.create_worker(
        client,
        task_queue=task_queue,
        container=spec.container,
        activities=spec.activities,
        workflows=spec.workflows,
    ):
        return await client.execute_workflow(
            workflow.run, args, id=f"sales-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )


@pytest.mark.integration
async def test_the_sales_report_passes_a_reference_on_s3(
    temporal_server: DevServer,
    fnact_task_queue: str,
    s3_env: dict[str, str],
    s3_server: S3Server,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the root in the environment, the run's outputs are in the bucket, not in history."""
    monkeypatch.setenv("SALES_OUTPUT_ROOT", f"s3://{s3_bucket}/outputs")
    monkeypatch.setenv("SALES_PAYLOADS_ROOT", f"s3://{s3_bucket}/payloads")
    spec = large_data.spec()
    client = await fnact.worker.connect(temporal_server.address, data_converter=spec.data_converter)
    report = await run_workflow(client, spec, fnact_task_queue, SalesReport, DAY)
    assert report.totals == expected_totals(2_500)
    assert report.outputs == ["sales-2026-03-03.jsonl", "totals.json"]
    assert report.sales.url.startswith(f"s3://{s3_bucket}/outputs/")
    listed = s3_server.boto3_client().list_objects_v2(Bucket=s3_bucket)["Contents"]
    keys = sorted(item["Key"].rsplit("/", 1)[-1] for item in listed)
    assert keys == ["SHA256SUMS", "sales-2026-03-03.jsonl", "totals.json"]  # no payload offloaded


@pytest.mark.integration
async def test_the_inline_report_offloads_its_large_payloads(
    temporal_server: DevServer, fnact_task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60,000 sales (over 2 MiB) pass as a value through ObjectStoreDriver, stored once."""
    payloads = memory_root()
    monkeypatch.setenv("SALES_OUTPUT_ROOT", memory_root())
    monkeypatch.setenv("SALES_PAYLOADS_ROOT", payloads)
    spec = large_data.spec()
    spec.container.sales.override(providers.Object(SalesDb(sales=60_000)))
    client = await large_data.connect_offloading(payloads, temporal_server.address)
    totals = await run_workflow(client, spec, fnact_task_queue, SalesReportInline, DAY)
    assert totals == expected_totals(60_000)
    stored = [meta for batch in obstore.list(memory_store(payloads)) for meta in batch]
    # The sales went out as fetch_sales's result and came back as total_sales's input: the
    # same bytes, kept once under their SHA-256.
    big = [meta for meta in stored if meta["size"] > 2 * 1024 * 1024]
    assert len(big) == 1
    assert re.fullmatch(r"sha256/([0-9a-f]{2})/\1[0-9a-f]{62}", str(big[0]["path"]))


def memory_store(root: str) -> MemoryStore:
    """The one MemoryStore this process keeps for ``root``."""
    outputs = fnact.Outputs(root, "unused")
    store: MemoryStore = outputs.backend.store  # type: ignore[attr-defined]
    return store
