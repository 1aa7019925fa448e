"""Sync activities (plain ``def``) and ``max_concurrent``, for the dev-server tests.

``tests/integration/test_sync_activities.py`` runs these; ``tests/apps/sync_process.py``
serves the activities from a worker process of their own, for the kill test. The
workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import msgspec
import temporalio.activity
import temporalio.exceptions
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow

ONCE = RetryPolicy(maximum_attempts=1)


@dataclass
class Probe:
    """What the activities of one worker process saw and did (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: dict[str, Any] = field(default_factory=dict)
    started: threading.Event = field(default_factory=threading.Event)
    exited: threading.Event = field(default_factory=threading.Event)
    running: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    finished: dict[str, int] = field(default_factory=dict)

    def saw(self, **facts: Any) -> None:
        """Record facts a sync body observed in its thread."""
        with self.lock:
            self.seen.update(facts)

    @contextlib.contextmanager
    def running_one(self, name: str) -> Iterator[None]:
        """Count one running execution of ``name`` for the block, and the peak."""
        with self.lock:
            self.running[name] = self.running.get(name, 0) + 1
            self.peak[name] = max(self.peak.get(name, 0), self.running[name])
        try:
            yield
        finally:
            with self.lock:
                self.running[name] -= 1
                self.finished[name] = self.finished.get(name, 0) + 1


@dataclass
class RunHandle:
    """A run's handler: the sync bodies reach the probe through the run's state."""

    probe: Probe
    job: Job


def open_run(probe: Probe, workflow_args: Job) -> RunHandle:
    """Build a run's handler."""
    return RunHandle(probe, workflow_args)


class SyncContainer(fnact.Container):
    """The container of the sync app's workers."""

    probe = providers.Singleton(Probe)
    handler = providers.Callable(open_run, probe=probe)


class Job(msgspec.Struct, frozen=True):
    """Workflow input: how long to block, how far to count, on which activity task queue."""

    seconds: float = 0.0
    steps: int = 0
    progress_file: str = ""
    queue: str = ""


class Step(msgspec.Struct, frozen=True):
    """``count_up``'s checkpoint: how many steps are done."""

    done: int


class Counted(msgspec.Struct, frozen=True):
    """What ``count_up`` returns: the attempt that finished, and where it started."""

    attempt: int
    resumed_from: int
    total: int


# --- A sync body that blocks until cancelled.


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=2),
    retry_policy=ONCE,
)
def block(ctx: fnact.ActivityContext[RunHandle, Job], seconds: float) -> Result[str, fnact.Fault]:
    """Sleep in short naps for ``seconds``, noting what the thread sees; re-raise a cancel."""
    probe = ctx.state.handler.probe
    try:
        asyncio.get_running_loop()
        loop_in_thread = True
    except RuntimeError:
        loop_in_thread = False
    probe.saw(
        thread=threading.current_thread().name,
        loop_in_thread=loop_in_thread,
        temporal_activity_type=temporalio.activity.info().activity_type,
        ctx_workflow_id=ctx.info.workflow_id,
        fnact_workflow_id=fnact.get_workflow_id(),
    )
    ctx.logger.info("blocking in a thread")
    probe.started.set()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(0.05)
    except temporalio.exceptions.CancelledError:
        probe.saw(
            cancelled_in_thread=True,
            is_cancelled=ctx.is_cancelled,
            reason=ctx.cancellation_reason,
        )
        raise
    finally:
        probe.exited.set()
    return Success("finished")


@workflow.defn
class BlockUntilCancelled:
    """Run ``block``; a cancelled run waits for the activity to report its cancellation."""

    @workflow.run
    async def run(self, job: Job) -> str:
        result = await fnact.workflow.execute_activity(
            block,
            job.seconds,
            task_queue=job.queue or None,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        return result.unwrap()


# --- A sync body that blocks longer than its heartbeat timeout.


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=2),
    retry_policy=ONCE,
)
def sleep_through(ctx: fnact.ActivityContext, seconds: float) -> Result[str, fnact.Fault]:
    """One blocking call longer than the heartbeat timeout: the auto-heartbeat keeps it alive."""
    time.sleep(seconds)
    return Success(f"slept {seconds:g} s in attempt {ctx.info.attempt}")


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=2),
    retry_policy=ONCE,
    auto_heartbeat=False,
)
def sleep_unbeaten(ctx: fnact.ActivityContext, seconds: float) -> Result[str, fnact.Fault]:
    """The same without auto-heartbeat: Temporal's heartbeat timeout ends it."""
    time.sleep(seconds)
    return Success("unreachable: the heartbeat timeout fires first")


@workflow.defn
class SleepThrough:
    """Run ``sleep_through`` (or ``sleep_unbeaten`` when ``steps`` is 1) for ``seconds``."""

    @workflow.run
    async def run(self, job: Job) -> str:
        chosen = sleep_unbeaten if job.steps == 1 else sleep_through
        result = await fnact.workflow.execute_activity(chosen, job.seconds)
        return result.unwrap()


# --- A sync body that checkpoints, for the kill test.


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=3),
    checkpoint=Step,
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3),
)
def count_up(
    ctx: fnact.ActivityContext[RunHandle, Job], steps: int
) -> Result[Counted, fnact.Fault]:
    """Count to ``steps``, a checkpoint per step, from the last checkpoint a retry sees."""
    last = ctx.last_checkpoint(Step)
    first = 0 if last is None else last.done
    progress = ctx.state.workflow_args.progress_file
    for step in range(first, steps):
        time.sleep(0.1)
        ctx.checkpoint(Step(step + 1), progress=step + 1)
        if progress:
            with open(progress, "a") as file:
                file.write(f"{ctx.info.attempt} {step + 1}\n")
    return Success(Counted(attempt=ctx.info.attempt, resumed_from=first, total=steps))


@workflow.defn
class CountUp:
    """Run ``count_up`` to ``steps`` on the activity task queue."""

    @workflow.run
    async def run(self, job: Job) -> Counted:
        result = await fnact.workflow.execute_activity(
            count_up, job.steps, task_queue=job.queue or None
        )
        return result.unwrap()


# --- max_concurrent, async and sync.


@fnact.activity(start_to_close_timeout=timedelta(seconds=120), max_concurrent=3)
async def limited_async(
    ctx: fnact.ActivityContext, n: int, probe: Probe = Provide[SyncContainer.probe]
) -> Result[int, fnact.Fault]:
    """At most three at once per process: an async body."""
    with probe.running_one("limited_async"):
        await asyncio.sleep(0.05)
    return Success(n)


@fnact.activity(start_to_close_timeout=timedelta(seconds=120), max_concurrent=3)
def limited_sync(
    ctx: fnact.ActivityContext, n: int, probe: Probe = Provide[SyncContainer.probe]
) -> Result[int, fnact.Fault]:
    """At most three at once per process: a sync body, in the executor's threads."""
    with probe.running_one("limited_sync"):
        time.sleep(0.05)
    return Success(n)


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=120),
    heartbeat_timeout=timedelta(seconds=2),
    retry_policy=ONCE,
    max_concurrent=1,
)
async def one_at_a_time(ctx: fnact.ActivityContext, seconds: float) -> Result[float, fnact.Fault]:
    """One at a time, each longer than the heartbeat timeout: the next one waits, beating."""
    await asyncio.sleep(seconds)
    return Success(seconds)


class Crowd(msgspec.Struct, frozen=True):
    """Workflow input: which limited activity, how many at once, and for how long each."""

    activity: str
    count: int
    seconds: float = 0.0


@workflow.defn
class StartCrowd:
    """Start ``count`` executions of one limited activity at once; return their results."""

    @workflow.run
    async def run(self, crowd: Crowd) -> list[float]:
        if crowd.activity == "one_at_a_time":
            waited = await asyncio.gather(
                *(
                    fnact.workflow.execute_activity(one_at_a_time, crowd.seconds)
                    for _ in range(crowd.count)
                )
            )
            return [r.unwrap() for r in waited]
        chosen = limited_sync if crowd.activity == "limited_sync" else limited_async
        results = await asyncio.gather(
            *(fnact.workflow.execute_activity(chosen, n) for n in range(crowd.count))
        )
        return [float(r.unwrap()) for r in results]


ACTIVITIES = [block, sleep_through, sleep_unbeaten, count_up, limited_async, limited_sync,
              one_at_a_time]  # fmt: skip
WORKFLOWS = [BlockUntilCancelled, SleepThrough, CountUp, StartCrowd]
