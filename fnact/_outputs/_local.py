"""Outputs in a local folder: a temporary file beside the target, fsync, then a rename.

Each object's SHA-256 is written beside it as a hidden ``.<name>.sha256`` file, renamed
into place before the object itself, so a committed object always has its checksum.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from fnact._outputs._backend import SHA256_KEY, Backend, BackendWriter, ObjectInfo, Sha256Counter
from fnact._paths import PART_NAME, atomic_write, create_part

__all__ = ["LocalBackend", "is_checksum_name", "is_hidden_name"]

_SIDECAR_NAME = re.compile(rf"^\..+\.{SHA256_KEY}$")
CHUNK = 1024 * 1024


def is_checksum_name(name: str) -> bool:
    """Whether ``name`` is the checksum file written beside an output."""
    return bool(_SIDECAR_NAME.match(name))


def is_hidden_name(name: str) -> bool:
    """Whether ``name`` is a temporary file or a checksum file, not an output."""
    return bool(PART_NAME.match(name) or _SIDECAR_NAME.match(name))


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}.{SHA256_KEY}")


class _LocalWriter(BackendWriter):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._tmp = ""
        self._counter = Sha256Counter()

    def _open(self) -> int:
        if self._fd is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._fd, self._tmp = create_part(self._path)
        return self._fd

    def _write(self, chunk: bytes) -> None:
        fd = self._open()
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]

    async def write(self, chunk: bytes) -> None:
        self._counter.update(chunk)
        if len(chunk) > 64 * 1024:
            await asyncio.to_thread(self._write, chunk)
        else:
            self._write(chunk)

    def _commit(self) -> ObjectInfo:
        fd = self._open()
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
            self._fd = None
        digest = self._counter.hexdigest()
        try:
            atomic_write(_sidecar(self._path), digest.encode())
            os.replace(self._tmp, self._path)
        except BaseException:
            Path(self._tmp).unlink(missing_ok=True)
            raise
        return ObjectInfo(self._counter.size, digest)

    async def commit(self) -> ObjectInfo:
        return await asyncio.to_thread(self._commit)

    async def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._tmp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)


class LocalBackend(Backend):
    """Objects as files under a local folder (the default, and ``file://`` roots)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def path(self, key: str) -> Path:
        """Return the file of ``key`` (a checked key)."""
        return self.root.joinpath(*key.split("/"))

    def open_writer(self, key: str) -> BackendWriter:
        return _LocalWriter(self.path(key))

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head, self.path(key))

    @staticmethod
    def _head(path: Path) -> ObjectInfo | None:
        try:
            size = path.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not path.is_file():
            return None
        try:
            sha256: str | None = _sidecar(path).read_text().strip()
        except FileNotFoundError:
            sha256 = None  # written by other means than fnact's writers
        return ObjectInfo(size, sha256)

    async def read_chunks(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self.path(key), "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def list_keys(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[str]:
        folder = self.path(prefix) if prefix else self.root
        keys: list[str] = []
        for parent, _, names in os.walk(folder):
            base = Path(parent).relative_to(self.root).as_posix()
            keys.extend(
                name if base == "." else f"{base}/{name}"
                for name in names
                if not is_hidden_name(name)
            )
        return sorted(keys)

    async def sweep(self, prefix: str, *, before: datetime | None) -> int:
        return await asyncio.to_thread(self._sweep, prefix, before)

    def _sweep(self, prefix: str, before: datetime | None) -> int:
        cutoff = None if before is None else before.timestamp()
        removed = 0
        for parent, _, names in os.walk(self.path(prefix) if prefix else self.root):
            for name in names:
                if not PART_NAME.match(name):
                    continue
                path = os.path.join(parent, name)
                try:
                    if cutoff is None or os.stat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    pass  # its writer finished or removed it meanwhile
        return removed
