"""A fleet that shares no disk: activities on separate processes exchange outputs on S3.

``write_stream`` streams a large output and returns its reference; ``read_back``,
on another process, reads it and returns its SHA-256; ``echo_big`` returns a large
result (offloaded by Temporal's external storage). Run a worker of one queue with::

    python -m tests.apps.object_storage_app QUEUE ACTIVITY ADDRESS

with ``FNACT_TEST_OUTPUT_ROOT`` and ``FNACT_TEST_PAYLOAD_ROOT`` naming S3 roots and the
``AWS_*`` variables pointing at the server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import msgspec
from dependency_injector import providers
from returns.result import Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.converter import ExternalStorage

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.worker
    import fnact.workflow

MB = 1024 * 1024


class WriteArgs(msgspec.Struct, frozen=True):
    name: str
    megabytes: int


class Written(msgspec.Struct, frozen=True):
    ref: fnact.OutputRef
    pid: int


class ReadBack(msgspec.Struct, frozen=True):
    sha256: str
    size: int
    pid: int


class Nothing(fnact.Fault):
    reason: str


def block(index: int) -> bytes:
    """Return the ``index``-th megabyte of the test stream: distinct, and cheap to make."""
    return hashlib.sha256(index.to_bytes(4, "big")).digest() * (MB // 32)


async def stream(megabytes: int) -> AsyncIterator[bytes]:
    for index in range(megabytes):
        yield block(index)
        await asyncio.sleep(0)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=3),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=5),
)
async def write_stream(ctx: fnact.ActivityContext, args: WriteArgs) -> Result[Written, Nothing]:
    if await ctx.outputs.exists(args.name):  # a retry skips finished work
        return Success(Written(await ctx.outputs.ref(args.name), os.getpid()))
    ref = await ctx.outputs.write(args.name, stream(args.megabytes))
    return Success(Written(ref, os.getpid()))


@fnact.activity(start_to_close_timeout=timedelta(seconds=120))
async def read_back(ctx: fnact.ActivityContext, ref: fnact.OutputRef) -> Result[ReadBack, Nothing]:
    digest = hashlib.sha256()
    size = 0
    async for chunk in ctx.outputs.stream(ref):
        digest.update(chunk)
        size += len(chunk)
    return Success(ReadBack(digest.hexdigest(), size, os.getpid()))


@fnact.activity(start_to_close_timeout=timedelta(seconds=120))
async def echo_big(ctx: fnact.ActivityContext, data: str) -> Result[str, Nothing]:
    """Return a 10 MB result that starts with the input."""
    return Success(data + "z" * (10 * MB - len(data)))


@workflow.defn(sandboxed=False)
class ShareOutput:
    @workflow.run
    async def run(self, megabytes: int, writer_queue: str, reader_queue: str) -> list[int | str]:
        written = (
            await fnact.workflow.execute_activity(
                write_stream, WriteArgs("export/big.bin", megabytes), task_queue=writer_queue
            )
        ).unwrap()
        read = (
            await fnact.workflow.execute_activity(read_back, written.ref, task_queue=reader_queue)
        ).unwrap()
        return [written.ref.sha256, read.sha256, read.size, written.pid, read.pid]


@workflow.defn(sandboxed=False)
class BigPayloads:
    @workflow.run
    async def run(self, queue: str) -> list[int]:
        result = await fnact.workflow.execute_activity(echo_big, "y" * 3 * MB, task_queue=queue)
        value = result.unwrap()
        return [len(value), value.count("y")]


ACTIVITIES = {"write_stream": write_stream, "read_back": read_back, "echo_big": echo_big}


def container() -> fnact.Container:
    """Return a container whose outputs go to ``FNACT_TEST_OUTPUT_ROOT``."""
    built = fnact.Container()
    settings = fnact.Settings(
        output_root=os.environ["FNACT_TEST_OUTPUT_ROOT"],
        run_end_check_interval=timedelta(seconds=1),
    )
    built.settings.override(providers.Object(settings))
    return built


def offloading(converter: object) -> object:
    """Return ``converter`` with Temporal's external storage on ``FNACT_TEST_PAYLOAD_ROOT``."""
    driver = fnact.worker.ObjectStoreDriver(os.environ["FNACT_TEST_PAYLOAD_ROOT"])
    return dataclasses.replace(converter, external_storage=ExternalStorage(drivers=[driver]))  # type: ignore[type-var]


async def main(queue: str, activity: str, address: str) -> None:
    """Serve one activity on ``queue`` until SIGTERM (or SIGKILL)."""
    client = await fnact.worker.connect(address, use_environment=False)
    options = client.config()
    options["data_converter"] = offloading(client.data_converter)
    client = type(client)(**options)
    await fnact.worker.run_worker(
        task_queue=queue,
        container=container(),
        client=client,
        activities=[ACTIVITIES[activity]],
        on_ready=lambda *_: print("ready", flush=True),
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
