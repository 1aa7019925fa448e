"""A fleet sharing no disk: worker processes exchange outputs and large payloads on S3."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.client

import fnact.worker
from fnact.worker import DevServer
from tests.apps import object_storage_app as app
from tests.integration.conftest import ChildWorker
from tests.object_stores import S3Server

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


class Fleet:
    """Activity worker processes, each started on demand and stopped at the end."""

    def __init__(self, server: DevServer, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.workers: list[ChildWorker] = []

    def start(self, queue: str, activity: str) -> ChildWorker:
        """Start an activity-only worker process serving ``activity`` on ``queue``."""
        log = self.folder / f"{activity}-{len(self.workers)}.log"
        worker = ChildWorker(
            "tests.apps.object_storage_app", queue, activity, self.server.address, log=log
        )
        self.workers.append(worker)
        return worker


@pytest.fixture
def s3_roots(s3_server: S3Server, s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Point outputs and Temporal's payloads at separate prefixes of one fresh bucket."""
    bucket = s3_server.create_bucket()
    monkeypatch.setenv("FNACT_TEST_OUTPUT_ROOT", f"s3://{bucket}/outputs")
    monkeypatch.setenv("FNACT_TEST_PAYLOAD_ROOT", f"s3://{bucket}/payloads")
    return bucket


@pytest.fixture
def fleet(temporal_server: DevServer, tmp_path: Path, s3_roots: str) -> Iterator[Fleet]:
    """Activity worker processes on the S3 roots; all stopped after the test."""
    built = Fleet(temporal_server, tmp_path)
    try:
        yield built
    finally:
        for worker in built.workers:
            worker.stop()


async def offloading_client(server: DevServer) -> temporalio.client.Client:
    """A client whose converter offloads large payloads to the S3 payload root."""
    client = await fnact.worker.connect(server.address, use_environment=False)
    options = client.config()
    options["data_converter"] = app.offloading(client.data_converter)
    return temporalio.client.Client(**options)


def objects(s3: S3Server, bucket: str, prefix: str) -> dict[str, int]:
    page = s3.boto3_client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {item["Key"]: item["Size"] for item in page.get("Contents", [])}


def uploads(s3: S3Server, bucket: str, prefix: str) -> list[str]:
    page = s3.boto3_client().list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in page.get("Uploads", [])]


async def test_a_50_mb_stream_written_on_one_process_is_read_on_another(
    temporal_server: DevServer, fleet: Fleet, fnact_task_queue: str
) -> None:
    """One process streams 50 MB to S3; another reads it back with the same SHA-256."""
    fleet.start(f"{fnact_task_queue}-w", "write_stream")
    fleet.start(f"{fnact_task_queue}-r", "read_back")
    client = await offloading_client(temporal_server)
    async with fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=app.container(), workflows=[app.ShareOutput]
    ):
        written, read, size, writer_pid, reader_pid = await client.execute_workflow(
            app.ShareOutput.run,
            args=[50, f"{fnact_task_queue}-w", f"{fnact_task_queue}-r"],
            id=f"share-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    assert read == written
    assert size == 50 * MB
    assert writer_pid != reader_pid != os.getpid()


async def test_a_writer_killed_mid_upload_leaves_nothing_visible_and_the_retry_completes(
    temporal_server: DevServer,
    fleet: Fleet,
    fnact_task_queue: str,
    s3_server: S3Server,
    s3_roots: str,
) -> None:
    """SIGKILL during the multipart upload: no partial object, a retry finishes, no upload left."""
    bucket = s3_roots
    writer = fleet.start(f"{fnact_task_queue}-w", "write_stream")
    fleet.start(f"{fnact_task_queue}-r", "read_back")
    client = await offloading_client(temporal_server)
    workflow_id = f"kill-{uuid.uuid4().hex[:8]}"
    async with fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=app.container(), workflows=[app.ShareOutput]
    ):
        handle = await client.start_workflow(
            app.ShareOutput.run,
            args=[50, f"{fnact_task_queue}-w", f"{fnact_task_queue}-r"],
            id=workflow_id,
            task_queue=fnact_task_queue,
        )
        # Wait for the upload to begin, then kill the writer mid-upload.
        deadline = time.monotonic() + 60
        while not uploads(s3_server, bucket, "outputs/"):
            assert time.monotonic() < deadline, "the writer never started its upload"
            assert not objects(s3_server, bucket, "outputs/"), "published before the kill"
            await asyncio.sleep(0.02)
        writer.process.send_signal(signal.SIGKILL)
        writer.process.wait(timeout=10)
        partial = [key for key, size in objects(s3_server, bucket, "outputs/").items()
                   if size != 50 * MB]  # fmt: skip
        assert partial == []
        fleet.start(f"{fnact_task_queue}-w", "write_stream")  # the retry runs here
        written, read, size, *_ = await handle.result()
        assert (read, size) == (written, 50 * MB)
        history = [event async for event in handle.fetch_history_events()]
        attempts = [
            event.activity_task_started_event_attributes.attempt
            for event in history
            if event.HasField("activity_task_started_event_attributes")
        ]
        assert max(attempts) >= 2
    # The run ended on this worker: its unfinished uploads are gone.
    deadline = time.monotonic() + 30
    while uploads(s3_server, bucket, "outputs/"):
        assert time.monotonic() < deadline, uploads(s3_server, bucket, "outputs/")
        await asyncio.sleep(0.1)
    assert list(objects(s3_server, bucket, "outputs/").values()) == [50 * MB]


async def test_a_3_mb_input_and_a_10_mb_result_pass_through_external_storage(
    temporal_server: DevServer,
    fleet: Fleet,
    fnact_task_queue: str,
    s3_server: S3Server,
    s3_roots: str,
) -> None:
    """With ObjectStoreDriver on S3, a 3 MB input and a 10 MB result reach their ends."""
    fleet.start(f"{fnact_task_queue}-big", "echo_big")
    client = await offloading_client(temporal_server)
    async with fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=app.container(), workflows=[app.BigPayloads]
    ):
        lengths: Any = await client.execute_workflow(
            app.BigPayloads.run,
            args=[f"{fnact_task_queue}-big"],
            id=f"big-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    assert lengths == [10 * MB, 3 * MB]
    stored = objects(s3_server, s3_roots, "payloads/")
    assert any(3 * MB < size < 4 * MB for size in stored.values())  # the input
    assert any(10 * MB < size < 11 * MB for size in stored.values())  # the result
