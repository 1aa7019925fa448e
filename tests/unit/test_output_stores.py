"""Outputs on every store: whole or absent, retries, integrity, hostile names, leftovers."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import obstore
import pytest

import fnact
from fnact._outputs._object_store import ObjectStoreBackend, spool_folder
from fnact._outputs._root import backend_for
from fnact._outputs._sweep import OutputSweeper
from fnact._paths import create_part, format_output_path
from fnact.exceptions import OutputError, OutputIntegrityError, OutputNotFoundError
from tests.object_stores import AzuriteServer, S3Server

MB = 1024 * 1024
STARTED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@dataclass
class Root:
    """An output root under test, and how to reach behind fnact's back."""

    kind: str
    root: Path | str
    store: Any = None
    s3: S3Server | None = None
    bucket: str = ""

    def outputs(self, prefix: str) -> fnact.Outputs:
        return fnact.Outputs(self.root, prefix, store=self.store)

    def incomplete_uploads(self, prefix: str) -> list[str]:
        assert self.s3 is not None
        page = self.s3.boto3_client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [upload["Key"] for upload in page.get("Uploads", [])]

    def start_upload(self, key: str) -> datetime:
        """Begin a multipart upload and abandon it, as a writer killed mid-upload does.

        Returns when the server says it was initiated (moto reports a fixed time).
        """
        assert self.s3 is not None
        client = self.s3.boto3_client()
        upload = client.create_multipart_upload(Bucket=self.bucket, Key=key)
        client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10
        )
        page = client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
        initiated: datetime = page["Uploads"][0]["Initiated"]
        return initiated


STORES = ["local", "memory", "s3", "azure"]


@pytest.fixture(params=STORES)
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Root:
    """An output root on each store: a folder, memory, S3 (moto) and Azure Blob (Azurite)."""
    kind: str = request.param
    if kind == "local":
        return Root(kind, tmp_path / "out")
    if kind == "memory":
        return Root(kind, f"memory://{uuid.uuid4().hex}")
    if kind == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        request.getfixturevalue("s3_env")  # the root's URL finds the server through AWS_*
        bucket = s3.create_bucket()
        return Root(kind, f"s3://{bucket}/out", s3=s3, bucket=bucket)
    azurite: AzuriteServer = request.getfixturevalue("azurite_server")
    container = azurite.create_container()
    return Root(kind, f"az://{container}/out", store=azurite.store(container, "out"))


def run_prefix(workflow_id: str = "orders") -> str:
    return format_output_path(STARTED, workflow_id, uuid.uuid4().hex)


async def chunks(count: int, size: int = MB) -> AsyncIterator[bytes]:
    for index in range(count):
        yield bytes([index % 256]) * size


class TestWriteAndRead:
    async def test_bytes_and_text_round_trip_with_their_sha256(self, root: Root) -> None:
        """Written bytes and text read back equal, and the reference carries their SHA-256."""
        outputs = root.outputs(run_prefix())
        ref = await outputs.write("tables/users.json", b'[{"id": 1}]')
        text = await outputs.write("notes.txt", "héllo")
        assert await outputs.read("tables/users.json") == b'[{"id": 1}]'
        assert await outputs.read(text) == "héllo".encode()
        assert ref.sha256 == hashlib.sha256(b'[{"id": 1}]').hexdigest()
        assert (ref.size, ref.key) == (11, f"{outputs.prefix}/tables/users.json")
        assert await outputs.list() == ["notes.txt", "tables/users.json"]

    async def test_a_stream_is_written_without_joining_its_chunks(self, root: Root) -> None:
        """A 20 MB stream of 1 MB chunks is published whole and reads back with its digest."""
        outputs = root.outputs(run_prefix())
        expected = hashlib.sha256()
        async for chunk in chunks(20):
            expected.update(chunk)
        ref = await outputs.write("big.bin", chunks(20))
        assert (ref.size, ref.sha256) == (20 * MB, expected.hexdigest())
        streamed = hashlib.sha256()
        async for chunk in outputs.stream(ref):
            streamed.update(chunk)
        assert streamed.hexdigest() == expected.hexdigest()

    async def test_a_reference_opens_on_another_worker(self, root: Root) -> None:
        """An OutputRef passed as a value reads back through a fresh Outputs of the same root."""
        ref = await root.outputs(run_prefix()).write("a.csv", b"1,2\n")
        other = fnact.Outputs(root.root, run_prefix("another-run"), store=root.store)
        assert await other.read(ref) == b"1,2\n"

    async def test_a_missing_output_is_not_found(self, root: Root) -> None:
        """Reading or referring to an output never written raises OutputNotFoundError."""
        outputs = root.outputs(run_prefix())
        with pytest.raises(OutputNotFoundError, match=r"absent\.txt"):
            await outputs.read("absent.txt")
        with pytest.raises(OutputNotFoundError):
            await outputs.ref("absent.txt")


class TestWholeOrAbsent:
    async def test_an_interrupted_stream_publishes_nothing(self, root: Root) -> None:
        """A writer whose block raises mid-stream leaves no object and no spool file."""
        outputs = root.outputs(run_prefix())
        spooled = set(spool_folder().glob("*.spool")) if spool_folder().exists() else set()
        seen_mid_write: list[bool] = []

        async def interrupted() -> None:
            async with outputs.open_writer("report.csv") as writer:
                await writer.write(b"a" * MB)
                seen_mid_write.append(await outputs.exists("report.csv"))
                raise RuntimeError("source failed")

        with pytest.raises(RuntimeError, match="source failed"):
            await interrupted()
        assert seen_mid_write == [False]
        assert not await outputs.exists("report.csv")
        assert await outputs.list() == []
        after = set(spool_folder().glob("*.spool")) if spool_folder().exists() else set()
        assert after <= spooled

    async def test_exists_means_committed(self, root: Root) -> None:
        """An output being written does not exist until its writer's block ends."""
        outputs = root.outputs(run_prefix())
        async with outputs.open_writer("part.bin") as writer:
            await writer.write(b"x" * 10)
            assert not await outputs.exists("part.bin")
        assert await outputs.exists("part.bin")
        assert writer.ref is not None
        assert writer.ref.size == 10


class TestRetry:
    async def test_writing_a_name_again_replaces_it_whole(self, root: Root) -> None:
        """A retry's write of the same name replaces the earlier object entirely."""
        outputs = root.outputs(run_prefix())
        await outputs.write("result.json", b"a" * 100)
        ref = await outputs.write("result.json", b"bb")
        assert await outputs.read("result.json") == b"bb"
        assert (await outputs.ref("result.json")).sha256 == ref.sha256
        assert await outputs.list() == ["result.json"]


class TestIntegrity:
    async def test_a_changed_object_fails_its_read(self, root: Root) -> None:
        """Bytes changed behind fnact's back no longer match their SHA-256: the read fails."""
        outputs = root.outputs(run_prefix())
        ref = await outputs.write("data.bin", b"original")
        backend = backend_for(root.root, root.store)
        if isinstance(backend, ObjectStoreBackend):
            # Same metadata, other bytes: what a corrupted object looks like.
            obstore.put(backend.store, ref.key, b"tampered", attributes={"sha256": ref.sha256})
        else:
            Path(ref.url).write_bytes(b"tampered")
        with pytest.raises(OutputIntegrityError, match="SHA-256"):
            await outputs.read("data.bin")
        with pytest.raises(OutputIntegrityError):
            await outputs.read(ref)


class TestNames:
    @pytest.mark.parametrize("name", ["..", "../x", "a/../../b", "/etc/passwd", "a\\b", "a//b", ""])
    async def test_hostile_names_are_refused_on_every_store(self, root: Root, name: str) -> None:
        """A name that could leave the run's prefix is refused with its name in the message."""
        outputs = root.outputs(run_prefix())
        with pytest.raises(ValueError, match="output file name"):
            await outputs.write(name, b"x")
        assert await outputs.list() == []

    async def test_ids_are_encoded_inside_the_prefix(self, root: Root) -> None:
        """A workflow id with slashes and dots stays one segment of the run's prefix."""
        prefix = format_output_path(STARTED, "../../etc/passwd", "run")
        outputs = root.outputs(prefix)
        ref = await outputs.write("a.txt", b"x")
        assert ref.key.split("/")[5] == "..%2F..%2Fetc%2Fpasswd"
        assert await outputs.read("a.txt") == b"x"

    async def test_a_reference_from_another_root_is_refused(self, root: Root) -> None:
        """A reference written under another root names both roots instead of reading."""
        ref = await root.outputs(run_prefix()).write("a.txt", b"x")
        foreign = type(ref)(root="s3://elsewhere/out", key=ref.key, sha256=ref.sha256, size=1)
        with pytest.raises(OutputError, match="s3://elsewhere/out"):
            await root.outputs(run_prefix()).read(foreign)


class TestLeftovers:
    def leave(self, root: Root, key: str) -> datetime:
        """Leave what a writer killed mid-write leaves at ``key``; return when it was left."""
        if root.kind == "local":
            assert isinstance(root.root, Path)
            path = root.root.joinpath(*key.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = create_part(path)
            os.write(fd, b"x" * 1000)
            os.close(fd)
            return datetime.fromtimestamp(os.stat(name).st_mtime, UTC)
        return root.start_upload(f"out/{key}")

    def left(self, root: Root, prefix: str) -> int:
        if root.kind == "local":
            assert isinstance(root.root, Path)
            return len(list(root.root.joinpath(*prefix.split("/")).rglob("*.part")))
        return len(root.incomplete_uploads(f"out/{prefix}"))

    @pytest.mark.parametrize("kind", ["local", "s3"])
    async def test_run_end_removes_every_unfinished_write_of_the_run(
        self, kind: str, request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        """When a run ends, its temporary files or incomplete uploads go; other runs' stay."""
        root = _root_of(kind, request, tmp_path)
        ended, other = run_prefix("ended"), run_prefix("other")
        self.leave(root, f"{ended}/big.bin")
        self.leave(root, f"{other}/big.bin")
        sweeper = OutputSweeper(root.root, root.store, leftover_ttl=timedelta(hours=1))
        run_id = ended.rsplit("/", 1)[1]
        assert await sweeper.run_ended(STARTED, "ended", run_id) == 1
        assert (self.left(root, ended), self.left(root, other)) == (0, 1)

    @pytest.mark.parametrize("kind", ["local", "s3"])
    async def test_late_leftovers_are_swept_once_older_than_the_ttl(
        self, kind: str, request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        """A zombie's leftover survives sweeps until it is older than leftover_ttl, then goes."""
        root = _root_of(kind, request, tmp_path)
        prefix = run_prefix("zombie")
        left_at = self.leave(root, f"{prefix}/late.bin")
        sweeper = OutputSweeper(root.root, root.store, leftover_ttl=timedelta(hours=1))
        await sweeper.sweep_old(left_at + timedelta(minutes=59))
        assert self.left(root, prefix) == 1
        await sweeper.sweep_old(left_at + timedelta(hours=1, minutes=1))
        assert self.left(root, prefix) == 0


@pytest.mark.parametrize("kind", ["local", "s3"])
async def test_a_retry_removes_what_its_killed_attempt_left_of_the_same_output(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Attempt 2 writing a name removes attempt 1's unfinished write of it, and only of it."""
    root = _root_of(kind, request, tmp_path)
    prefix = run_prefix("retried")
    leftovers = TestLeftovers()
    leftovers.leave(root, f"{prefix}/big.bin")
    leftovers.leave(root, f"{prefix}/big.bin2")
    retry_started = datetime.now(UTC) + timedelta(seconds=5)  # after attempt 1's writes
    outputs = fnact.Outputs._for_attempt(backend_for(root.root, root.store), prefix, retry_started)
    await outputs.write("big.bin", b"whole")
    assert leftovers.left(root, prefix) == 1  # big.bin2's, which no retry wrote
    assert await outputs.read("big.bin") == b"whole"


def _root_of(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Root:
    if kind == "local":
        return Root(kind, tmp_path / "out")
    s3: S3Server = request.getfixturevalue("s3_server")
    request.getfixturevalue("s3_env")
    bucket = s3.create_bucket()
    return Root(kind, f"s3://{bucket}/out", s3=s3, bucket=bucket)
