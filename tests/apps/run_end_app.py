"""An activity-only worker process that holds run states, and the workflows that feed it.

    python -m tests.apps.run_end_app ADDRESS TASK_QUEUE STATUS_FILE

The process runs `touch` only (the workflows run in the test's own process), with
fnact's default settings unless ``FNACT_TEST_END_CHECK`` gives the run-end check
interval in seconds (and ``FNACT_TEST_FALLBACK_PERIOD`` how often it describes each
held run when it may not list workflows). It records every server call its run-end
checks make (time, kind, runs named) by wrapping its client's
``ListWorkflowExecutions`` and ``DescribeWorkflowExecution``; with
``FNACT_TEST_REFUSE_LIST=1`` the list call is refused with ``PERMISSION_DENIED``,
as for a role that may not list workflows. It prints "ready" once polling, rewrites
STATUS_FILE (JSON) every 50 ms, and runs until sent SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from dependency_injector import providers
from returns.result import Result, Success
from temporalio import activity, workflow
from temporalio.common import RetryPolicy

import fnact
import fnact.worker
import fnact.workflow
from fnact._worker import _run_end

RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3)


class Job(msgspec.Struct, frozen=True):
    """A run's input: its name, the activity worker's queue, and whether to continue as new."""

    name: str
    queue: str
    relay: bool = False


class Unused(fnact.Fault):
    """An error `touch` declares and never returns."""


@dataclass
class Ledger:
    """When each run's handler was built and closed in this process (wall clock, thread-safe)."""

    builds: dict[str, float] = field(default_factory=dict)
    closes: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, book: dict[str, float], key: str) -> None:
        with self.lock:
            if key in book:
                raise AssertionError(f"{key} recorded twice")
            book[key] = time.time()


@dataclass
class Session:
    """A run's handler: it records its own closing."""

    ledger: Ledger
    key: str

    def close(self) -> None:
        self.ledger.record(self.ledger.closes, self.key)


def open_session(ledger: Ledger, workflow_args: Job) -> Session:
    """Build a run's handler and record the build."""
    info = activity.info()
    key = f"{info.workflow_id}/{info.workflow_run_id}"
    ledger.record(ledger.builds, key)
    return Session(ledger, key)


class RunEndContainer(fnact.Container):
    """The activity process's container: each run's handler is a `Session`."""

    ledger = providers.Singleton(Ledger)
    handler = providers.Callable(open_session, ledger=ledger)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
async def touch(ctx: fnact.ActivityContext[Session, Job], n: int) -> Result[int, Unused]:
    """Use the run's state, so this process holds it until the run ends."""
    assert ctx.state.handler.key.endswith(activity.info().workflow_run_id or "?")
    return Success(n)


@workflow.defn(sandboxed=False)
class Hold:
    """Run `touch` on the job's queue, then wait for `finish`; a relay continues as new once."""

    def __init__(self) -> None:
        self.finished = False

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.run
    async def run(self, job: Job) -> str:
        (await fnact.workflow.execute_activity(touch, 1, task_queue=job.queue)).unwrap()
        await workflow.wait_condition(lambda: self.finished)
        if job.relay:
            workflow.continue_as_new(Job(job.name, job.queue))
        return job.name


CALLS: list[tuple[float, str, int]] = []
"""Every run-end server call of this process: wall time, kind, runs it names."""
_NAMED = re.compile(r"RunId IN \(([^)]*)\)")


def record_calls(client: Any, refuse_list: bool) -> None:
    """Wrap the client's list and describe calls to record them (and refuse lists if told)."""
    from temporalio.service import RPCError, RPCStatusCode

    service = client.workflow_service
    list_call, describe_call = service.list_workflow_executions, service.describe_workflow_execution

    async def list_executions(request: Any, **kwargs: Any) -> Any:
        found = _NAMED.search(request.query)
        named = found.group(1).count("'") // 2 if found else 0
        kind = "list" if "ExecutionStatus" in request.query else "audit"
        if refuse_list:
            CALLS.append((time.time(), "refused", named))
            raise RPCError("listing workflows is not allowed", RPCStatusCode.PERMISSION_DENIED, b"")
        CALLS.append((time.time(), kind, named))
        return await list_call(request, **kwargs)

    async def describe(request: Any, **kwargs: Any) -> Any:
        CALLS.append((time.time(), "describe", 1))
        return await describe_call(request, **kwargs)

    service.list_workflow_executions = list_executions
    service.describe_workflow_execution = describe


def status(container: RunEndContainer) -> dict[str, Any]:
    """Return what this process holds and did."""
    ledger = container.ledger()
    with ledger.lock:
        builds, closes = dict(ledger.builds), dict(ledger.closes)
    cache: fnact.worker.RunContextCache = container.run_context()
    return {
        "live": len(container.state_store()),
        "known_runs": len(cache),
        "end_checks": cache.stats.end_checks,
        "end_check_lists": cache.stats.end_check_lists,
        "builds": builds,
        "closes": closes,
        "calls": list(CALLS),
    }


async def report_forever(container: RunEndContainer, path: Path) -> None:
    """Rewrite the status file atomically every 50 ms."""
    partial = path.with_suffix(".part")
    while True:
        partial.write_text(json.dumps(status(container)))
        partial.replace(path)
        await asyncio.sleep(0.05)


async def main(address: str, task_queue: str, status_file: str) -> None:
    """Run the activity-only worker until SIGTERM."""
    client = await fnact.worker.connect(address, use_environment=False)
    record_calls(client, os.environ.get("FNACT_TEST_REFUSE_LIST") == "1")
    container = RunEndContainer()
    if os.environ.get("FNACT_TEST_FALLBACK_PERIOD"):  # shorter than a minute, for the test
        _run_end.FALLBACK_PERIOD = float(os.environ["FNACT_TEST_FALLBACK_PERIOD"])
    interval = os.environ.get("FNACT_TEST_END_CHECK")
    if interval:
        settings = fnact.Settings(run_end_check_interval=timedelta(seconds=float(interval)))
        container.settings.override(providers.Object(settings))
    tasks: list[asyncio.Task[None]] = []

    def ready(*_: object) -> None:
        tasks.append(asyncio.create_task(report_forever(container, Path(status_file))))
        print("ready", flush=True)

    await fnact.worker.run_worker(
        task_queue=task_queue,
        container=container,
        client=client,
        on_ready=ready,
        activities=[touch],
        max_concurrent_activities=300,
    )
    for task in tasks:
        task.cancel()
    Path(status_file).write_text(json.dumps(status(container)))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
    sys.stdout.flush()
    os._exit(0)  # skip a teardown temporalio's threads can crash (sdk-python#300)
