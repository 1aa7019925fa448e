"""Workflows and activities that exercise how a run's context reaches its activities.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import msgspec
from dependency_injector import providers
from returns.result import Result, Success
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow

RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=1), maximum_attempts=2)


class Load(msgspec.Struct, frozen=True):
    """Workflow input: a name, padding to make it big, and how many activities to start."""

    name: str
    pad: str = ""
    fan_out: int = 1
    sequential: bool = False
    queue: str = ""
    continue_times: int = 0


class Unused(fnact.Fault):
    """An error these activities declare and never return."""


class Seen(msgspec.Struct, frozen=True):
    """What one activity saw of its run."""

    n: int
    name: str
    pad: int
    path: str


@dataclass
class Ledger:
    """Handlers built and closed in this process, per run (thread-safe)."""

    builds: dict[str, int] = field(default_factory=dict)
    closes: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self, key: str) -> None:
        with self.lock:
            self.builds[key] = self.builds.get(key, 0) + 1

    def closed(self, key: str) -> None:
        with self.lock:
            self.closes[key] = self.closes.get(key, 0) + 1


@dataclass
class Session:
    """A run's handler: it knows its run and records its own closing."""

    ledger: Ledger
    key: str
    load: Load

    def close(self) -> None:
        self.ledger.closed(self.key)


def open_session(ledger: Ledger, workflow_args: Load) -> Session:
    """Build a run's handler and record the build."""
    info = activity.info()
    key = f"{info.workflow_id}/{info.workflow_run_id}"
    ledger.opened(key)
    return Session(ledger, key, workflow_args)


class RunContextContainer(fnact.Container):
    """The container of these tests' workers."""

    ledger = providers.Singleton(Ledger)
    handler = providers.Callable(open_session, ledger=ledger)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def read_load(ctx: fnact.ActivityContext[Session, Load], n: int) -> Result[Seen, Unused]:
    """Return what the run's state and output path say about the run."""
    load = ctx.state.workflow_args
    assert ctx.state.handler.load is load
    path = str(ctx.output_path)
    if os.environ.get("FNACT_TEST_ACTIVITY_DELAY"):
        await asyncio.sleep(float(os.environ["FNACT_TEST_ACTIVITY_DELAY"]))
    return Success(Seen(n=n, name=load.name, pad=len(load.pad), path=path))


@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def double(ctx: fnact.ActivityContext, n: int) -> Result[int, Unused]:
    """A stateless activity: it needs no workflow run."""
    ctx.logger.info("doubling %s", n)
    return Success(2 * n)


class Cursor(msgspec.Struct):
    """Where ``resume`` picks up."""

    next: int


class OldCursor(msgspec.Struct):
    """A checkpoint type from before a deploy: ``next`` was a string."""

    next: str


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30),
    heartbeat_timeout=timedelta(seconds=2),
    checkpoint=Cursor,
    retry_policy=RETRY,
)
async def resume(ctx: fnact.ActivityContext[Session, Load], n: int) -> Result[int, Unused]:
    """Checkpoint an old-shaped cursor and crash; the retry cannot decode it."""
    assert ctx.state.workflow_args.name
    ctx.checkpoint(OldCursor(next="page-2"))
    raise RuntimeError("deploy happened")


@workflow.defn
class Deploy:
    """Read the run's state, then run an activity that is given a bad input or bad checkpoint."""

    @workflow.run
    async def run(self, load: Load) -> str:
        await _fan_out(load)
        try:
            if load.name == "bad-input":
                await workflow.execute_activity(
                    "read_load",
                    "not an int",
                    task_queue=load.queue or None,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RETRY,
                )
            else:
                await fnact.workflow.execute_activity(resume, 0, task_queue=load.queue or None)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                return str(cause.type)
            return repr(cause)
        return "no error"


@activity.defn
async def plain_path(n: int) -> str:
    """A plain Temporal activity that asks fnact for the run's output path."""
    return fnact.build_output_path()


async def _fan_out(load: Load, first: int = 0) -> list[Seen]:
    queue = load.queue or None
    if load.sequential:
        seen = []
        for n in range(load.fan_out):
            result = await fnact.workflow.execute_activity(read_load, first + n, task_queue=queue)
            seen.append(result.unwrap())
        return seen
    results = await asyncio.gather(
        *(
            fnact.workflow.execute_activity(read_load, first + n, task_queue=queue)
            for n in range(load.fan_out)
        )
    )
    return [r.unwrap() for r in results]


@workflow.defn
class FanOut:
    """Start ``fan_out`` activities (at once or one by one) that read the run's state."""

    @workflow.run
    async def run(self, load: Load) -> list[Seen]:
        return await _fan_out(load)


@workflow.defn
class SignalFirst:
    """Start an activity from a signal handler; the run returns what it saw."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    @workflow.signal
    async def go(self, n: int) -> None:
        result = await fnact.workflow.execute_activity(read_load, n)
        self.seen.append(result.unwrap())

    @workflow.run
    async def run(self, load: Load) -> list[Seen]:
        await workflow.wait_condition(lambda: len(self.seen) >= 1)
        return self.seen


@workflow.defn
class UpdateFirst:
    """Start an activity from an update handler; the run ends when told."""

    def __init__(self) -> None:
        self.done = False

    @workflow.update
    async def fetch(self, n: int) -> Seen:
        result = await fnact.workflow.execute_activity(read_load, n)
        return result.unwrap()

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.run
    async def run(self, load: Load) -> str:
        await workflow.wait_condition(lambda: self.done)
        return load.name


@workflow.defn
class Parent:
    """Run a child whose input differs from the parent's; return both views."""

    @workflow.run
    async def run(self, load: Load) -> list[Seen]:
        mine = await _fan_out(load)
        child = await workflow.execute_child_workflow(
            FanOut.run,
            Load(name=f"child-of-{load.name}", pad=load.pad + "c", fan_out=1),
            id=f"{workflow.info().workflow_id}-child",
        )
        return [*mine, *child]


@workflow.defn
class Relay:
    """Read the run's state, then continue as new with another name, ``continue_times`` times."""

    @workflow.run
    async def run(self, load: Load) -> list[Seen]:
        seen = await _fan_out(load)
        if load.continue_times > 0:
            workflow.continue_as_new(
                Load(
                    name=f"{load.name}+",
                    pad=load.pad,
                    fan_out=load.fan_out,
                    continue_times=load.continue_times - 1,
                )
            )
        return seen


@workflow.defn(sandboxed=False)
class ByName:
    """A plain Temporal workflow that calls fnact's activities by name, as any SDK could."""

    @workflow.run
    async def run(self, load: dict[str, Any]) -> list[Any]:
        seen = await workflow.execute_activity(
            "read_load",
            3,
            task_queue=load["queue"],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
        path = await workflow.execute_activity(
            "plain_path",
            4,
            task_queue=load["queue"],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
        return [seen, path]


@workflow.defn
class PlainPath:
    """Call the plain activity that builds the output path, on an fnact worker."""

    @workflow.run
    async def run(self, load: Load) -> str:
        return await workflow.execute_activity(
            plain_path,
            1,
            task_queue=load.queue or None,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )


@workflow.defn
class Waiter:
    """Read the run's state, then wait until terminated."""

    @workflow.run
    async def run(self, load: Load) -> None:
        await _fan_out(load)
        await workflow.wait_condition(lambda: False)


WORKFLOWS = [FanOut, SignalFirst, UpdateFirst, Parent, Relay, PlainPath, Waiter, Deploy]
ACTIVITIES = [read_load, double, resume, plain_path]
