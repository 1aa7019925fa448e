"""The object-store test servers: obstore and boto3 against moto's S3 and Azurite's Blob."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import boto3
import obstore
import pytest
from obstore.store import AzureStore, S3Store

from tests.object_stores import AzuriteServer, S3Server, start_server

MIB = 1024 * 1024


def paths(store: S3Store | AzureStore, prefix: str | None = None) -> list[str]:
    """Return the sorted paths of the objects under ``prefix``."""
    return sorted(meta["path"] for meta in obstore.list(store, prefix).collect())


def test_s3_put_get_list_delete(s3_server: S3Server, s3_bucket: str) -> None:
    """Through obstore, objects are written, read, listed and deleted on moto, under a prefix."""
    store = s3_server.store(s3_bucket, prefix="root")
    obstore.put(store, "a/one.txt", b"one")
    obstore.put(store, "a/two.txt", b"two")
    obstore.put(store, "b/three.txt", b"three")

    assert bytes(obstore.get(store, "a/two.txt").bytes()) == b"two"
    assert paths(store) == ["a/one.txt", "a/two.txt", "b/three.txt"]
    assert paths(store, "a") == ["a/one.txt", "a/two.txt"]
    listed = s3_server.boto3_client().list_objects_v2(Bucket=s3_bucket)
    assert sorted(item["Key"] for item in listed["Contents"]) == [
        "root/a/one.txt",
        "root/a/two.txt",
        "root/b/three.txt",
    ]

    obstore.delete(store, "a/one.txt")
    assert paths(store) == ["a/two.txt", "b/three.txt"]
    with pytest.raises(FileNotFoundError):
        obstore.get(store, "a/one.txt")


def test_s3_multipart_upload(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    """A 12 MiB file put in 5 MiB chunks is stored as a three-part upload and reads back whole."""
    data = os.urandom(12 * MIB)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    store = s3_server.store(s3_bucket)

    with source.open("rb") as file:
        result = obstore.put(store, "big.bin", file, chunk_size=5 * MIB)

    # S3 gives a multipart object the ETag "<md5 of the parts' md5s>-<number of parts>".
    assert result["e_tag"] is not None
    assert result["e_tag"].strip('"').endswith("-3")
    assert obstore.head(store, "big.bin")["size"] == len(data)
    assert bytes(obstore.get(store, "big.bin").bytes()) == data
    uploads = s3_server.boto3_client().list_multipart_uploads(Bucket=s3_bucket)
    assert uploads.get("Uploads", []) == []


def test_s3_incomplete_multipart_upload_is_listed_and_aborted(
    s3_server: S3Server, s3_bucket: str
) -> None:
    """boto3 lists an incomplete multipart upload, and aborting it removes it."""
    client = s3_server.boto3_client()
    upload_id = client.create_multipart_upload(Bucket=s3_bucket, Key="partial.bin")["UploadId"]
    client.upload_part(
        Bucket=s3_bucket, Key="partial.bin", UploadId=upload_id, PartNumber=1, Body=b"x" * MIB
    )

    uploads = client.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("partial.bin", upload_id)]
    assert paths(s3_server.store(s3_bucket)) == []

    client.abort_multipart_upload(Bucket=s3_bucket, Key="partial.bin", UploadId=upload_id)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_s3_custom_attributes_round_trip(s3_server: S3Server, s3_bucket: str) -> None:
    """A custom attribute put with an object comes back from get and is S3 user metadata."""
    data = b'{"rows": 3}'
    digest = hashlib.sha256(data).hexdigest()
    store = s3_server.store(s3_bucket)

    obstore.put(
        store, "out.json", data, attributes={"sha256": digest, "Content-Type": "application/json"}
    )

    got = obstore.get(store, "out.json")
    assert got.attributes == {"sha256": digest, "Content-Type": "application/json"}
    assert bytes(got.bytes()) == data
    assert obstore.head(store, "out.json")["size"] == len(data)
    assert [meta["size"] for meta in obstore.list(store).collect()] == [len(data)]
    head = s3_server.boto3_client().head_object(Bucket=s3_bucket, Key="out.json")
    assert head["Metadata"] == {"sha256": digest}
    assert head["ContentType"] == "application/json"


def test_s3_env_reaches_the_server(s3_env: dict[str, str], s3_bucket: str) -> None:
    """With s3_env, S3Store and boto3 built from the environment alone reach moto."""
    store = S3Store(s3_bucket)
    obstore.put(store, "from-env.txt", b"env")

    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket)
    assert [item["Key"] for item in listed["Contents"]] == ["from-env.txt"]
    assert bytes(obstore.get(store, "from-env.txt").bytes()) == b"env"


def test_azurite_put_get_list_delete(azurite_server: AzuriteServer, azurite_container: str) -> None:
    """Through obstore, blobs with custom attributes are written, read, listed and deleted."""
    store = azurite_server.store(azurite_container, prefix="root")
    digest = hashlib.sha256(b"one").hexdigest()
    obstore.put(store, "a/one.txt", b"one", attributes={"sha256": digest})
    obstore.put(store, "b/two.txt", b"two")

    got = obstore.get(store, "a/one.txt")
    assert bytes(got.bytes()) == b"one"
    assert got.attributes["sha256"] == digest
    assert paths(store) == ["a/one.txt", "b/two.txt"]
    assert paths(azurite_server.store(azurite_container)) == ["root/a/one.txt", "root/b/two.txt"]

    obstore.delete(store, "a/one.txt")
    assert paths(store) == ["b/two.txt"]
    with pytest.raises(FileNotFoundError):
        obstore.get(store, "a/one.txt")


def test_azurite_env_reaches_the_server(
    azurite_env: dict[str, str], azurite_container: str
) -> None:
    """With azurite_env, AzureStore built from the environment alone reaches Azurite."""
    store = AzureStore(azurite_container)
    obstore.put(store, "from-env.txt", b"env")

    assert bytes(obstore.get(store, "from-env.txt").bytes()) == b"env"
    assert paths(store) == ["from-env.txt"]


def test_a_server_that_exits_fails_with_its_output(tmp_path: Path) -> None:
    """A server that exits before answering fails the test with its exit code and output."""
    command = [sys.executable, "-c", "print('no such flag: --bogus'); raise SystemExit(3)"]

    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited with code 3.*no such flag"):
        start_server("fake", command, "http://127.0.0.1:9/", tmp_path / "fake.log")


def test_a_server_that_never_answers_fails_and_is_stopped(tmp_path: Path) -> None:
    """A server that does not answer within the bound fails the test and is terminated."""
    pid_file = tmp_path / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    command = [sys.executable, "-c", script]

    with pytest.raises(pytest.fail.Exception, match=r"did not answer .* within 1 s"):
        start_server("silent", command, "http://127.0.0.1:9/", tmp_path / "s.log", within=1)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
