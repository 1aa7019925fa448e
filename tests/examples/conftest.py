"""Helpers for the examples' tests: snippet sections, a process's output, a worker in a task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

OnReady = Callable[..., None]


def section(path: Path, name: str) -> str:
    """Return the lines between a file's ``--8<-- [start:name]`` and ``[end:name]`` markers."""
    text = path.read_text()
    start = text.index("\n", text.index(f"--8<-- [start:{name}]")) + 1
    end = text.rindex("\n", 0, text.index(f"--8<-- [end:{name}]")) + 1
    return text[start:end]


async def read_until(stream: asyncio.StreamReader, text: str) -> str:
    """Read lines from ``stream`` until one contains ``text``; return it."""
    while line := (await stream.readline()).decode():
        if text in line:
            return line
    raise AssertionError(f"the stream ended before {text!r}")


@contextlib.asynccontextmanager
async def worker_task(
    start: Callable[[OnReady], Coroutine[Any, Any, Any]],
) -> AsyncIterator[asyncio.Task[Any]]:
    """Run the worker ``start(on_ready)`` returns in a task; yield the task once it polls.

    The task is cancelled, and awaited, when the block ends.
    """
    ready = asyncio.Event()
    task = asyncio.create_task(start(lambda *_: ready.set()))
    try:
        await asyncio.wait_for(ready.wait(), timeout=20)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
