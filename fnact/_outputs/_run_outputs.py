"""``ctx.outputs``: one run's outputs, written whole, read checked, listed and referred to."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec

from fnact._outputs._backend import Backend, BackendWriter, Sha256Counter
from fnact._outputs._local import LocalBackend
from fnact._outputs._names import output_parts
from fnact._outputs._root import backend_for
from fnact._paths import output_written, remove_stale_parts
from fnact.exceptions import OutputError, OutputIntegrityError, OutputNotFoundError

__all__ = ["OutputRef", "OutputWriter", "Outputs"]

Data = bytes | bytearray | memoryview | str | AsyncIterable[bytes] | Iterable[bytes]
"""What `Outputs.write` takes: bytes, text (written as UTF-8), or chunks of bytes."""


class OutputRef(msgspec.Struct, frozen=True, kw_only=True):
    """A committed output that any worker with the same output root can open.

    Pass it to another activity as a value (it is a msgspec Struct) and read it
    there with ``await ctx.outputs.read(ref)``: the read checks ``sha256``.

    Examples:
        >>> ref = OutputRef(root="s3://bucket/out", key="2026/01/02/03/04/wf/run/a.json",
        ...                 sha256="0" * 64, size=2)
        >>> ref.url
        's3://bucket/out/2026/01/02/03/04/wf/run/a.json'
    """

    root: str
    """The output root it was written under (``Settings.output_root``)."""
    key: str
    """Its key under the root: the run's prefix, then the output's name."""
    sha256: str
    """The SHA-256 of its bytes, in hex."""
    size: int
    """Its size in bytes."""

    @property
    def url(self) -> str:
        """The object's full URL (or path, on a local root)."""
        return f"{self.root.rstrip('/')}/{self.key}"


class OutputWriter:
    """Write one output as a stream of chunks; it is published whole when the block ends.

    Use it as ``async with ctx.outputs.open_writer("big.csv") as out: await out.write(b"...")``.
    Leaving the block with an exception publishes nothing. `ref` is set once it is published.
    """

    def __init__(self, outputs: Outputs, name: str) -> None:
        self._outputs = outputs
        self._name = name
        self._writer: BackendWriter = outputs.backend.open_writer(outputs.key(name))
        self.ref: OutputRef | None = None
        """The published output, once the block ended without an exception."""

    async def write(self, chunk: bytes | bytearray | memoryview | str) -> None:
        """Append ``chunk`` (text is written as UTF-8)."""
        await self._writer.write(chunk.encode() if isinstance(chunk, str) else bytes(chunk))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            await self._writer.abort()
            return
        try:
            info = await self._writer.commit()
        except BaseException:
            await self._writer.abort()
            raise
        self.ref = await self._outputs._committed(self._name, info.size, info.sha256 or "")


class Outputs:
    """One run's outputs on its output root: ``ctx.outputs``.

    Every output is whole or absent: a reader never sees part of one, and writing
    a name again (a retry) replaces it whole. `exists` sees only committed
    outputs, so a retry can skip finished work. Each output carries its SHA-256,
    and reads check it. Names are ``/``-separated and stay under the run's prefix.

    Args:
        root: the output root: a folder or an object store URL, as `Settings.output_root`.
        prefix: the run's prefix under the root (`fnact.build_output_path`'s form).
        store: an obstore store serving ``root``; built from ``root`` when omitted.

    Examples:
        >>> import asyncio
        >>> outputs = Outputs("memory://doc", "2026/01/02/03/04/wf/run")
        >>> ref = asyncio.run(outputs.write("hello.txt", "hi"))
        >>> ref.size, asyncio.run(outputs.read(ref)), asyncio.run(outputs.list())
        (2, b'hi', ['hello.txt'])
    """

    def __init__(self, root: Path | str, prefix: str, *, store: Any = None) -> None:
        self.backend: Backend = backend_for(root, store)
        self.prefix = prefix
        """The run's prefix under the root: ``YYYY/MM/DD/HH/MM/<workflow_id>/<run_id>``."""
        self._attempt_started: datetime | None = None

    @classmethod
    def _for_attempt(
        cls, backend: Backend, prefix: str, attempt_started: datetime | None
    ) -> Outputs:
        """Bind an attempt's outputs; ``attempt_started`` (retries only) sweeps its leftovers."""
        outputs = cls.__new__(cls)
        outputs.backend = backend
        outputs.prefix = prefix
        outputs._attempt_started = attempt_started
        return outputs

    @property
    def root(self) -> str:
        """The output root (``Settings.output_root``, or the configured store's URL)."""
        return self.backend.url

    def key(self, name: str) -> str:
        """Return the key of output ``name`` under the root (``name`` checked)."""
        return f"{self.prefix}/{'/'.join(output_parts(name))}"

    # --- writing

    async def write(self, name: str, data: Data) -> OutputRef:
        """Write output ``name`` whole and return its reference.

        ``data`` is bytes, text (UTF-8), or an iterable or async iterable of byte
        chunks: chunks are not held in memory together.
        """
        if isinstance(data, str):
            data = data.encode()
        if isinstance(data, bytes | bytearray | memoryview):
            info = await self.backend.write_bytes(self.key(name), bytes(data))
            return await self._committed(name, info.size, info.sha256 or "")
        async with self.open_writer(name) as writer:
            if isinstance(data, AsyncIterable):
                async for chunk in data:
                    await writer.write(chunk)
            else:
                for chunk in data:
                    await writer.write(chunk)
        assert writer.ref is not None  # set when the block ends without an exception
        return writer.ref

    def open_writer(self, name: str) -> OutputWriter:
        """Return a writer for output ``name``: ``async with`` it and write chunks."""
        return OutputWriter(self, name)

    async def _committed(self, name: str, size: int, sha256: str) -> OutputRef:
        key = self.key(name)
        backend = self.backend
        if self._attempt_started is not None:
            # An earlier attempt killed mid-write left its temporary file or upload.
            if isinstance(backend, LocalBackend):
                remove_stale_parts(backend.path(key), before=self._attempt_started)
            else:
                await backend.sweep(key, before=self._attempt_started)
        if isinstance(backend, LocalBackend):
            observer = output_written.get()
            if observer is not None:
                observer(backend.path(key))
        return OutputRef(root=backend.url, key=key, sha256=sha256, size=size)

    # --- reading

    async def exists(self, name: str) -> bool:
        """Whether output ``name`` is committed (an earlier attempt may have written it)."""
        return await self.backend.head(self.key(name)) is not None

    async def list(self) -> list[str]:
        """Return the names of the run's committed outputs, sorted."""
        start = len(self.prefix) + 1
        return [key[start:] for key in await self.backend.list_keys(self.prefix)]

    async def ref(self, name: str) -> OutputRef:
        """Return the reference of committed output ``name``.

        Raises:
            OutputNotFoundError: no committed output has that name.
        """
        key = self.key(name)
        info = await self.backend.head(key)
        if info is None:
            raise OutputNotFoundError(f"no output {name!r} under {self.root}/{self.prefix}")
        return OutputRef(root=self.root, key=key, sha256=info.sha256 or "", size=info.size)

    async def read(self, target: str | OutputRef) -> bytes:
        """Return the bytes of an output of this run (by name) or of any run (by reference).

        Raises:
            OutputNotFoundError: it is not there.
            OutputIntegrityError: its bytes do not match its SHA-256.
        """
        chunks = [chunk async for chunk in self.stream(target)]
        return b"".join(chunks)

    async def stream(self, target: str | OutputRef) -> AsyncIterator[bytes]:
        """Yield an output's bytes in chunks; the SHA-256 is checked after the last one.

        Raises:
            OutputNotFoundError: it is not there.
            OutputIntegrityError: its bytes do not match its SHA-256 (raised at the end).
        """
        key, expected = await self._resolve(target)
        counter = Sha256Counter()
        try:
            async for chunk in self.backend.read_chunks(key):
                counter.update(chunk)
                yield chunk
        except FileNotFoundError as exc:
            raise OutputNotFoundError(f"no output at {self.root}/{key}") from exc
        if expected and counter.hexdigest() != expected:
            raise OutputIntegrityError(
                f"output {self.root}/{key} is corrupt: its SHA-256 is {counter.hexdigest()}, "
                f"and {expected} was written with it"
            )

    async def _resolve(self, target: str | OutputRef) -> tuple[str, str | None]:
        """Return the key to read and the SHA-256 it must have."""
        if isinstance(target, OutputRef):
            if target.root.rstrip("/") != self.root.rstrip("/"):
                raise OutputError(
                    f"output {target.url} was written under the output root {target.root}, "
                    f"and this worker's output root is {self.root}"
                )
            key = "/".join(output_parts(target.key))
            info = await self.backend.head(key)
            if info is None:
                raise OutputNotFoundError(f"no output at {target.url}")
            if info.sha256 and info.sha256 != target.sha256:
                raise OutputIntegrityError(
                    f"output {target.url} changed since it was referred to: its SHA-256 is "
                    f"{info.sha256}, the reference says {target.sha256}"
                )
            return key, target.sha256
        key = self.key(target)
        info = await self.backend.head(key)
        if info is None:
            raise OutputNotFoundError(f"no output {target!r} under {self.root}/{self.prefix}")
        return key, info.sha256
