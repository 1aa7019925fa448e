"""Activities and workflows at Temporal's payload limit, and a zombie that leaves a temp file.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter
from datetime import timedelta

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow

RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=1), maximum_attempts=3)


class Never(fnact.Fault):
    """Declared, never returned."""


class Blob(msgspec.Struct):
    """A checkpoint with padding."""

    pad: str


class Job(msgspec.Struct, frozen=True):
    """Which activity to run, with what size."""

    activity: str
    size: int = 0


class LimitsContainer(fnact.Container):
    """Counts body runs per activity."""

    runs = providers.Singleton(Counter)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def sized_result(
    ctx: fnact.ActivityContext, n: int, runs: Counter[str] = Provide[LimitsContainer.runs]
) -> Result[str, Never]:
    """Return a string of ``n`` characters."""
    runs.update([ctx.info.activity_type])
    return Success("x" * n)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30),
    heartbeat_timeout=timedelta(seconds=5),
    retry_policy=RETRY,
)
async def sized_checkpoint(
    ctx: fnact.ActivityContext, n: int, runs: Counter[str] = Provide[LimitsContainer.runs]
) -> Result[int, Never]:
    """Checkpoint a blob of ``n`` characters, give the heartbeat time to be sent, succeed."""
    runs.update([ctx.info.activity_type])
    ctx.checkpoint(Blob("c" * n))
    await asyncio.sleep(1.5)
    return Success(ctx.info.attempt)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def takes_input(
    ctx: fnact.ActivityContext, pad: str, runs: Counter[str] = Provide[LimitsContainer.runs]
) -> Result[int, Never]:
    """Return the input's length."""
    runs.update([ctx.info.activity_type])
    return Success(len(pad))


@fnact.activity(start_to_close_timeout=timedelta(seconds=1), retry_policy=RETRY)
async def zombie_write(
    ctx: fnact.ActivityContext, n: int, runs: Counter[str] = Provide[LimitsContainer.runs]
) -> Result[int, Never]:
    """Attempt 1 starts a write and hangs past its timeout (a zombie); attempt 2 writes another."""
    runs.update([ctx.info.activity_type])
    if ctx.info.attempt == 1:
        ctx.output_path.mkdir(parents=True, exist_ok=True)
        fd, _ = tempfile.mkstemp(dir=ctx.output_path, prefix=".big.bin.", suffix=".part")
        os.write(fd, b"z" * n)
        os.close(fd)
        await asyncio.sleep(30)
    ctx.write_output("small.txt", "done")
    return Success(ctx.info.attempt)


ACTIVITIES = [sized_result, sized_checkpoint, takes_input, zombie_write]
_BY_NAME = {a.name: a for a in ACTIVITIES}


@workflow.defn
class Limits:
    """Run one activity with a size; report its outcome as text."""

    @workflow.run
    async def run(self, job: Job) -> str:
        activity = _BY_NAME[job.activity]
        arg: object = "p" * job.size if job.activity == "takes_input" else job.size
        try:
            result = await fnact.workflow.execute_activity(activity, arg)  # type: ignore[arg-type]
        except ApplicationError as err:
            return f"workflow-side {err.type}: {err.message}"
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return f"{cause.type} non_retryable={cause.non_retryable}: {cause.message}"
        return f"ok {len(str(result.unwrap()))}"
