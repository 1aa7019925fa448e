"""``output-write`` and ``output-vs-fsspec``: outputs written through fnact on S3, by throughput.

200 outputs of 1 MiB each, 8 in flight, on a moto S3 server this benchmark starts on
127.0.0.1, written three ways in interleaved rounds: through fnact's API
(``fnact.Outputs(...).write(name, data)``), with obstore called directly (the store
library fnact uses) and with s3fs (fsspec's S3 file system). The targets are fnact's
throughput over each of the other two.
"""

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import obstore
import s3fs  # type: ignore[import-untyped]
from obstore.store import from_url

import fnact
from benchmarks._s3_server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, S3Server, s3_server
from benchmarks._timing import TIMES, Target, rotated

OUTPUTS = 200
"""Outputs written per side and round."""
OUTPUT_SIZE = 1024 * 1024
"""The size of every output, in bytes (1 MiB)."""
IN_FLIGHT = 8
"""Writes in flight at once on every side."""
ROUNDS = 9
"""Timed rounds; each writes the outputs once per side, sides in rotated order."""
WARM_UP_ROUNDS = 1
"""Untimed rounds before the timed ones (connections, the server's first buckets and keys)."""
PREFIX = "2026/01/02/03/04/bench-wf/bench-run"
"""The run prefix fnact writes under (`fnact.build_output_path`'s form)."""

OUTPUT_WRITE_GOAL = 0.95
"""fnact's throughput over obstore called directly, as a ratio."""
OUTPUT_VS_FSSPEC_GOAL = 2.0
"""fnact's throughput over s3fs, as a ratio."""

Write = Callable[[int, bytes], Awaitable[Any]]
"""One side's write of output number ``i`` with its data."""


async def write_all(write: Write, data: list[bytes]) -> None:
    """Write every output of ``data`` with ``write``, `IN_FLIGHT` at a time.

    `IN_FLIGHT` tasks take the next output's number in turn, so every side keeps
    the same number of writes in flight and starts them in the same order.
    """
    numbers = iter(range(len(data)))

    async def writer() -> None:
        for i in numbers:
            await write(i, data[i])

    async with asyncio.TaskGroup() as group:
        for _ in range(IN_FLIGHT):
            group.create_task(writer())


@contextlib.asynccontextmanager
async def sides(server: S3Server, bucket: str) -> AsyncIterator[dict[str, Write]]:
    """Yield the three sides' writes, each under its own prefix of ``bucket``.

    - ``fnact``: ``Outputs.write(name, bytes)`` on an ``s3://`` output root; fnact
      builds its obstore store from the URL and the environment, hashes the data
      (SHA-256, kept in the object's metadata) and puts it in one request in a thread.
    - ``obstore``: ``obstore.put(store, key, data)`` in ``asyncio.to_thread``, the
      store built the same way (``from_url``) and no metadata.
    - ``s3fs``: ``await fs._pipe_file(path, data)`` on an ``asynchronous=True``
      ``S3FileSystem`` in this event loop: s3fs's own async path (one ``put_object``
      through aiobotocore under 100 MiB), which its sync ``pipe_file`` wraps.
    """
    outputs = fnact.Outputs(f"s3://{bucket}/fnact", PREFIX)
    store = from_url(f"s3://{bucket}/obstore")
    fs = s3fs.S3FileSystem(
        asynchronous=True,
        skip_instance_cache=True,
        endpoint_url=server.endpoint,
        key=ACCESS_KEY_ID,
        secret=SECRET_ACCESS_KEY,
    )
    session = await fs.set_session()

    async def fnact_write(i: int, data: bytes) -> Any:
        return await outputs.write(f"part-{i:04d}.bin", data)

    async def obstore_write(i: int, data: bytes) -> Any:
        return await asyncio.to_thread(obstore.put, store, f"part-{i:04d}.bin", data)

    async def s3fs_write(i: int, data: bytes) -> Any:
        return await fs._pipe_file(f"{bucket}/s3fs/part-{i:04d}.bin", data)

    try:
        yield {"fnact": fnact_write, "obstore": obstore_write, "s3fs": s3fs_write}
    finally:
        await session.close()


async def timed_rounds(
    server: S3Server, writes: dict[str, Write], data: list[bytes]
) -> dict[str, dict[str, list[float]]]:
    """Time every side's writes of ``data`` in `ROUNDS` interleaved rounds.

    Returns:
        Per side: ``MB/s`` (wall time, first write to last), ``client ms`` (this
        process's CPU time per output, all its threads) and ``server ms`` (the moto
        server's CPU time per output), one figure per round.
    """
    labels = list(writes)
    figures: dict[str, dict[str, list[float]]] = {
        label: {"MB/s": [], "client ms": [], "server ms": []} for label in labels
    }
    megabytes = len(data) * OUTPUT_SIZE / 1e6
    for turn in range(-WARM_UP_ROUNDS, ROUNDS):
        for label in rotated(labels, turn):
            client, served = time.process_time(), server.cpu_seconds()
            started = time.perf_counter()
            await write_all(writes[label], data)
            elapsed = time.perf_counter() - started
            client, served = time.process_time() - client, server.cpu_seconds() - served
            if turn >= 0:
                figures[label]["MB/s"].append(megabytes / elapsed)
                figures[label]["client ms"].append(client / len(data) * 1000)
                figures[label]["server ms"].append(served / len(data) * 1000)
    return figures


def per_round_ratio(figures: dict[str, dict[str, list[float]]], over: str) -> float:
    """Return the median over the rounds of fnact's throughput over side ``over``'s."""
    pairs = zip(figures["fnact"]["MB/s"], figures[over]["MB/s"], strict=True)
    return statistics.median(mine / theirs for mine, theirs in pairs)


async def bench_output_write() -> list[Target]:
    """Compare fnact's output writes on S3 with obstore's and s3fs's, on one moto server.

    Returns:
        The ``output-write`` target (fnact's throughput over obstore's, called
        directly) and the ``output-vs-fsspec`` target (over s3fs's): each the median
        of the per-round ratios, the rounds interleaving the three sides.
    """
    data = [os.urandom(OUTPUT_SIZE) for _ in range(OUTPUTS)]
    with s3_server() as server:
        bucket = server.create_bucket(f"fnact-bench-{uuid.uuid4().hex[:12]}")
        async with sides(server, bucket) as writes:
            figures = await timed_rounds(server, writes, data)
    medians = {
        label: {name: statistics.median(values) for name, values in by_name.items()}
        for label, by_name in figures.items()
    }
    write = per_round_ratio(figures, "obstore")
    fsspec = per_round_ratio(figures, "s3fs")
    print(
        f"output-write: {OUTPUTS} x {OUTPUT_SIZE // 1024} KiB outputs, {IN_FLIGHT} in flight, "
        f"moto S3 on 127.0.0.1: median MB/s over {ROUNDS} rounds: "
        + ", ".join(f"{label} {m['MB/s']:.1f}" for label, m in medians.items())
        + f" (fnact/obstore {write:.2f}{TIMES}, fnact/s3fs {fsspec:.2f}{TIMES}, "
        "medians of the per-round ratios)"
    )
    print(
        "output-write: median CPU ms per output, this process (all threads) / the moto server: "
        + ", ".join(
            f"{label} {m['client ms']:.2f} / {m['server ms']:.2f}" for label, m in medians.items()
        )
    )
    print(
        "output-write: MB/s by round: "
        + "; ".join(
            f"{label} " + ", ".join(f"{value:.0f}" for value in by_name["MB/s"])
            for label, by_name in figures.items()
        )
    )
    return [
        Target("output-write", write, OUTPUT_WRITE_GOAL, TIMES, higher_is_better=True),
        Target("output-vs-fsspec", fsspec, OUTPUT_VS_FSSPEC_GOAL, TIMES, higher_is_better=True),
    ]
