"""What every output store does: whole-or-absent writes, checked reads, lists and sweeps."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

__all__ = ["SHA256_KEY", "Backend", "BackendWriter", "ObjectInfo", "Sha256Counter"]

SHA256_KEY = "sha256"
"""The metadata key (or sidecar suffix) holding an object's SHA-256, in hex."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """A committed object: its size and the SHA-256 written with it (``None``: none was)."""

    size: int
    sha256: str | None


class Sha256Counter:
    """Hash and count bytes as they pass."""

    __slots__ = ("_hash", "size")

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        """Add ``chunk``."""
        self._hash.update(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        """Return the SHA-256 of everything added, in hex."""
        return self._hash.hexdigest()


class BackendWriter(ABC):
    """One object being written: chunks go to a temporary place; `commit` makes it whole."""

    @abstractmethod
    async def write(self, chunk: bytes) -> None:
        """Append ``chunk``."""

    @abstractmethod
    async def commit(self) -> ObjectInfo:
        """Publish the object whole (replacing any earlier one) and return what was written."""

    @abstractmethod
    async def abort(self) -> None:
        """Drop what was written; nothing is published."""


class Backend(ABC):
    """A store of objects under keys made of ``/``-separated checked names.

    Every implementation keeps these promises: a reader sees an object whole or
    not at all; writing a key again replaces it whole; `head` finds only committed
    objects; each object written carries its SHA-256 and `read` checks it.
    """

    url: str
    """The store's root, as a URL (or a local folder's path)."""

    @abstractmethod
    def open_writer(self, key: str) -> BackendWriter:
        """Start writing the object at ``key``."""

    @abstractmethod
    async def head(self, key: str) -> ObjectInfo | None:
        """Return the committed object at ``key``, or ``None``."""

    @abstractmethod
    def read_chunks(self, key: str) -> AsyncIterator[bytes]:
        """Yield the object's bytes in chunks (raises `FileNotFoundError` when absent)."""

    @abstractmethod
    async def list_keys(self, prefix: str) -> list[str]:
        """Return the keys of committed objects under ``prefix``, sorted."""

    @abstractmethod
    async def sweep(self, prefix: str, *, before: datetime | None) -> int:
        """Remove unfinished writes under ``prefix`` started before ``before`` (``None``: all).

        Returns how many were removed.
        """

    async def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Write ``data`` at ``key`` whole."""
        writer = self.open_writer(key)
        try:
            await writer.write(data)
        except BaseException:
            await writer.abort()
            raise
        return await writer.commit()
