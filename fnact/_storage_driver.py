"""A driver for Temporal's external storage on the same stores as fnact's outputs.

Temporal stores a payload over ``ExternalStorage.payload_size_threshold`` through a
driver and records only a claim. `ObjectStoreDriver` keeps each payload as an
object named by its SHA-256 (so the same payload is stored once) under its own
root, checked on retrieval. Temporal never deletes what it stores: expire the
prefix with a lifecycle rule longer than the namespace's retention.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import temporalio.api.common.v1
from temporalio.converter import (
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

from fnact._outputs._backend import Backend
from fnact._outputs._root import backend_for, normalize_root
from fnact.exceptions import OutputIntegrityError

__all__ = ["ObjectStoreDriver"]

Payload = temporalio.api.common.v1.Payload


class ObjectStoreDriver(StorageDriver):
    """Temporal's external storage on a local folder or an object store.

    Give the same root forms as `Settings.output_root` (``s3://bucket/prefix``,
    ``gs://``, ``az://``, ``memory://``, a folder), or a configured obstore
    ``store``. Keep payloads and outputs under separate prefixes of one bucket:
    payloads are Temporal's (kept for the retention period), outputs are yours.

    Args:
        root: where payloads go.
        store: an obstore store serving ``root`` (credentials set in code).
        name: the driver's name, recorded in every claim: never change it while
            histories that name it are retained.

    Examples:
        >>> from temporalio.converter import ExternalStorage
        >>> storage = ExternalStorage(drivers=[ObjectStoreDriver("memory://payloads")])
        >>> storage.drivers[0].name()
        'fnact-object-store'
    """

    def __init__(
        self, root: Path | str, *, store: Any = None, name: str = "fnact-object-store"
    ) -> None:
        self._root = normalize_root(root, field="ObjectStoreDriver root")
        self._store = store
        self._name = name

    def name(self) -> str:
        """Return the driver's name (recorded in claims)."""
        return self._name

    def type(self) -> str:
        """Return the driver's type, the same for every instance."""
        return "fnact.ObjectStoreDriver"

    def _backend(self) -> Backend:
        return backend_for(self._root, self._store)

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        """Store each payload (once per content) and return its claim."""
        return list(await asyncio.gather(*(self._store_one(payload) for payload in payloads)))

    async def _store_one(self, payload: Payload) -> StorageDriverClaim:
        data = payload.SerializeToString(deterministic=True)
        digest = hashlib.sha256(data).hexdigest()
        key = f"sha256/{digest[:2]}/{digest}"
        backend = self._backend()
        if await backend.head(key) is None:
            await backend.write_bytes(key, data)
        return StorageDriverClaim(claim_data={"key": key, "sha256": digest})

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        """Return the payload of each claim, checked against its SHA-256."""
        return list(await asyncio.gather(*(self._retrieve_one(claim) for claim in claims)))

    async def _retrieve_one(self, claim: StorageDriverClaim) -> Payload:
        key = claim.claim_data["key"]
        chunks = [chunk async for chunk in self._backend().read_chunks(key)]
        data = b"".join(chunks)
        digest = hashlib.sha256(data).hexdigest()
        if digest != claim.claim_data.get("sha256", digest):
            raise OutputIntegrityError(
                f"external payload {self._root}/{key} is corrupt: its SHA-256 is {digest}"
            )
        payload = Payload()
        payload.ParseFromString(data)
        return payload
