"""Outputs on object storage (S3, GCS, Azure Blob, memory) through obstore.

A put is atomic on every object store, and a multipart upload is invisible until
it is completed: an object is whole or absent. A written stream is spooled to a
local temporary file while its SHA-256 is computed, then uploaded with the digest
in its metadata (``sha256``), in one put or in parts completed only at the end.

obstore's synchronous functions run in threads: its ``*_async`` functions can make
the process abort at interpreter exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fnact._outputs._backend import SHA256_KEY, Backend, BackendWriter, ObjectInfo, Sha256Counter

if TYPE_CHECKING:
    from obstore.store import ObjectStore

__all__ = ["ObjectStoreBackend", "spool_folder", "sweep_spool"]

_log = logging.getLogger("fnact.outputs")

SINGLE_PUT_LIMIT = 8 * 1024 * 1024
"""Objects up to this size go in one put; larger ones in parts of this size."""
UPLOAD_CONCURRENCY = 4
"""Parts of one object uploaded at once: at most this many parts are in memory."""
READ_CHUNK = 1024 * 1024


def spool_folder() -> Path:
    """Return the folder streamed outputs are spooled in before their upload."""
    return Path(tempfile.gettempdir()) / "fnact-spool"


def sweep_spool(*, before: datetime | None) -> int:
    """Remove spool files older than ``before`` (a killed writer's); return how many."""
    folder = spool_folder()
    cutoff = None if before is None else before.timestamp()
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if not entry.name.endswith(".spool"):
                continue
            try:
                if cutoff is None or entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass
    return removed


class _SpoolWriter(BackendWriter):
    def __init__(self, backend: ObjectStoreBackend, key: str) -> None:
        self._backend = backend
        self._key = key
        self._counter = Sha256Counter()
        self._path: Path | None = None
        self._handle: Any = None

    def _append(self, chunk: bytes) -> None:
        if self._handle is None:
            folder = spool_folder()
            folder.mkdir(parents=True, exist_ok=True)
            self._path = folder / f"{secrets.token_hex(12)}.spool"
            self._handle = open(self._path, "xb")  # noqa: SIM115  # closed by commit or abort
        self._handle.write(chunk)

    async def write(self, chunk: bytes) -> None:
        self._counter.update(chunk)
        await asyncio.to_thread(self._append, chunk)

    async def commit(self) -> ObjectInfo:
        digest = self._counter.hexdigest()
        try:
            if self._handle is None:
                await self._backend.put(self._key, b"", digest)
            else:
                self._handle.close()
                await self._backend.put(self._key, self._path, digest)
        finally:
            await self.abort()
        return ObjectInfo(self._counter.size, digest)

    async def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._handle = self._path = None


class ObjectStoreBackend(Backend):
    """Objects in an obstore store (its own prefix included)."""

    def __init__(self, store: ObjectStore, url: str) -> None:
        self.store = store
        self.url = url

    # --- writing

    def open_writer(self, key: str) -> BackendWriter:
        return _SpoolWriter(self, key)

    async def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        if len(data) <= SINGLE_PUT_LIMIT:
            # Hashed in the put's thread: the event loop stays free for other writes.
            return await asyncio.to_thread(self._put_bytes, key, data)
        return await super().write_bytes(key, data)

    def _put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        digest = hashlib.sha256(data).hexdigest()
        self._put(key, data, digest)
        return ObjectInfo(len(data), digest)

    async def put(self, key: str, source: bytes | Path | None, sha256: str) -> None:
        """Upload ``source`` at ``key`` with its digest: one put, or parts completed at the end."""
        await asyncio.to_thread(self._put, key, source or b"", sha256)

    def _put(self, key: str, source: bytes | Path, sha256: str) -> None:
        import obstore

        attributes = {SHA256_KEY: sha256}
        if isinstance(source, Path) and source.stat().st_size <= SINGLE_PUT_LIMIT:
            source = source.read_bytes()
        if isinstance(source, bytes):
            obstore.put(self.store, key, source, attributes=attributes, use_multipart=False)
            return
        obstore.put(
            self.store,
            key,
            source,
            attributes=attributes,
            use_multipart=True,
            chunk_size=SINGLE_PUT_LIMIT,
            max_concurrency=UPLOAD_CONCURRENCY,
        )

    # --- reading

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head, key)

    def _head(self, key: str) -> ObjectInfo | None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            result = obstore.get(self.store, key, options={"head": True})
        except (NotFoundError, FileNotFoundError):
            return None
        attributes: dict[str, Any] = dict(result.attributes)
        sha256 = attributes.get(SHA256_KEY)
        return ObjectInfo(int(result.meta["size"]), None if sha256 is None else str(sha256))

    async def read_chunks(self, key: str) -> AsyncIterator[bytes]:
        chunks = await asyncio.to_thread(self._open_stream, key)
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk

    def _open_stream(self, key: str) -> Iterator[bytes]:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            result = obstore.get(self.store, key)
        except NotFoundError as exc:
            raise FileNotFoundError(f"{self.url}/{key}") from exc
        return (bytes(chunk) for chunk in result.stream(min_chunk_size=READ_CHUNK))

    async def list_keys(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[str]:
        import obstore

        keys = [
            str(meta["path"])
            for batch in obstore.list(self.store, prefix=prefix or None)
            for meta in batch
        ]
        return sorted(keys)

    # --- leftovers

    async def sweep(self, prefix: str, *, before: datetime | None) -> int:
        return await asyncio.to_thread(self._sweep, prefix, before)

    def _sweep(self, prefix: str, before: datetime | None) -> int:
        """Abort incomplete multipart uploads under ``prefix`` (S3; others: see the docs).

        Azure discards uncommitted blocks after seven days itself; GCS and S3 buckets
        can also abort them with a lifecycle rule. obstore cannot list uploads, so
        this uses boto3 on S3 stores when it is installed (``fnact[s3]``).
        """
        from obstore.store import S3Store

        if not isinstance(self.store, S3Store):
            return 0
        try:
            client = _s3_client(self.store)
        except ImportError:
            _log.warning(
                "cannot abort incomplete uploads under %s/%s: install boto3 (fnact[s3]) or add "
                "an AbortIncompleteMultipartUpload lifecycle rule",
                self.url,
                prefix,
            )
            return 0
        config: dict[str, Any] = dict(self.store.config)
        bucket = str(config.get("bucket") or config.get("aws_bucket"))
        full = "/".join(part for part in (self.store.prefix, prefix) if part)
        removed = 0
        started = time.monotonic()
        pages = client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=full)
        for page in pages:
            for upload in page.get("Uploads", []):
                key = upload["Key"]
                if full and key != full and not key.startswith(f"{full}/"):
                    continue  # another key that only starts the same way
                if before is not None and upload["Initiated"] >= before:
                    continue
                with contextlib.suppress(client.exceptions.NoSuchUpload):
                    client.abort_multipart_upload(
                        Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        if removed:
            _log.info(
                "aborted %d incomplete upload(s) under %s/%s in %.1f s",
                removed,
                self.url,
                prefix,
                time.monotonic() - started,
            )
        return removed


def _s3_client(store: Any) -> Any:
    """Return a boto3 S3 client for the bucket of an obstore `S3Store`."""
    import boto3  # type: ignore[import-untyped]

    config: dict[str, Any] = {
        key.removeprefix("aws_"): value for key, value in dict(store.config).items()
    }
    endpoint = (
        config.get("endpoint")
        or os.environ.get("AWS_ENDPOINT_URL")
        or os.environ.get("AWS_ENDPOINT")
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("region")
        or config.get("default_region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION"),
        aws_access_key_id=config.get("access_key_id"),
        aws_secret_access_key=config.get("secret_access_key"),
        aws_session_token=config.get("token") or config.get("session_token"),
    )
