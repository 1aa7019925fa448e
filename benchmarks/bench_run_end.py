"""``run-end``: how soon activity-only workers release an ended run's state, and at what cost.

2,000 runs each run one stateful fnact activity on each of two activity-only worker
processes (their workflows run in this process), then wait for a signal:

- *before*: the run-end check as it was, one ``DescribeWorkflowExecution`` per held
  run every 60 s. That is fnact's fallback when the visibility query is refused; the
  process refuses it in its own client, without a server call;
- *after*: fnact's defaults, one ``ListWorkflowExecutions`` query per 100 held runs
  every `fnact.Settings.run_end_check_interval` (5 s).

Once both processes hold the 2,000 states and have checked them all (the *before*
process once, the *after* one twice), the runs are ended one after another, evenly over
one *before* interval (60 s), so their ends fall at every point of both sides' check
cycles. Each process records when it closed each run's handler; each run's close time
is the server's. Each process counts the server calls its run-end checks make by
wrapping its client's two calls. It takes about two minutes: the *before* side first
checks 60 s after it starts, and the ends take another 60 s.

Run it alone with ``python -m benchmarks.bench_run_end`` (or ``benchmarks/run.py --only
run-end``). The worker processes are this module, run as ``python -m
benchmarks.bench_run_end worker SIDE ADDRESS QUEUE STATUS_FILE``.
"""

import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import temporalio.activity
import temporalio.client
import temporalio.workflow
from dependency_injector import providers
from returns.result import Result, Success
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner

import fnact
import fnact.worker
import fnact.workflow
from benchmarks._timing import TIMES, Target, percentile

RUNS = 2_000
"""Runs whose state both worker processes hold."""
BEFORE_INTERVAL = timedelta(seconds=60)
"""The run-end check interval of the *before* side: the old default."""
ENDS_OVER = BEFORE_INTERVAL.total_seconds()
"""Seconds over which the runs are ended, evenly: one *before* interval."""
SIDES = ("before", "after")
"""The worker processes, in report order."""
QUEUE = "fnact-bench-run-end"
"""The workflows' task queue; each side's activities poll ``QUEUE-SIDE``."""
DEADLINE = 240.0
"""Seconds any wait of this benchmark may take before it gives up."""
ROOT = Path(__file__).resolve().parent.parent


class Ticket(msgspec.Struct, frozen=True):
    """A run's input: its number."""

    n: int


@dataclass
class Ledger:
    """When each run's handler was closed in this process (wall clock)."""

    closes: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Held:
    """A run's handler: it records when it is closed."""

    ledger: Ledger
    key: str

    def close(self) -> None:
        """Record the close."""
        with self.ledger.lock:
            self.ledger.closes[self.key] = time.time()


def open_held(ledger: Ledger, workflow_args: Ticket) -> Held:
    """Build a run's handler, as the container's ``handler`` provider.

    Args:
        ledger: where closes are recorded.
        workflow_args: the run's input, which fnact passes.

    Returns:
        The run's handler.
    """
    info = temporalio.activity.info()
    return Held(ledger, f"{info.workflow_id}/{info.workflow_run_id}")


class RunEndContainer(fnact.Container):
    """The worker processes' container: each run's handler is a `Held`."""

    ledger = providers.Singleton(Ledger)
    handler = providers.Callable(open_held, ledger=ledger)


@fnact.activity(start_to_close_timeout=timedelta(seconds=60))
async def hold_state(ctx: fnact.ActivityContext[Held, Ticket], n: int) -> Result[int, fnact.Fault]:
    """Use the run's state, so the worker process holds it until the run ends."""
    return Success(ctx.state.workflow_args.n + n)


@temporalio.workflow.defn
class HoldOnBoth:
    """Run `hold_state` on both sides' queues, then wait for `finish`."""

    def __init__(self) -> None:
        """Start unfinished."""
        self.finished = False

    @temporalio.workflow.signal
    def finish(self) -> None:
        """End the run."""
        self.finished = True

    @temporalio.workflow.run
    async def run(self, ticket: Ticket) -> int:
        """Return the sum of the activities' results once told to finish."""
        results = await asyncio.gather(
            *(
                fnact.workflow.execute_activity(hold_state, 0, task_queue=f"{QUEUE}-{side}")
                for side in SIDES
            )
        )
        await temporalio.workflow.wait_condition(lambda: self.finished)
        return sum(result.unwrap() for result in results)


# --- the worker processes -------------------------------------------------------------------------


def count_calls(client: temporalio.client.Client, refuse_list: bool) -> dict[str, list[float]]:
    """Wrap the client's list and describe calls to record when each reached the server.

    Args:
        client: the worker's client.
        refuse_list: refuse every list call with ``PERMISSION_DENIED``, without calling
            the server, as a role without visibility permission would be.

    Returns:
        The wall times of the calls made, by kind (``list``, ``describe``); filled as they go.
    """
    calls: dict[str, list[float]] = {"list": [], "describe": []}
    service = client.workflow_service
    list_call, describe_call = service.list_workflow_executions, service.describe_workflow_execution

    async def list_executions(request: Any, **kwargs: Any) -> Any:
        if refuse_list:
            raise RPCError("listing workflows is not allowed", RPCStatusCode.PERMISSION_DENIED, b"")
        calls["list"].append(time.time())
        return await list_call(request, **kwargs)

    async def describe(request: Any, **kwargs: Any) -> Any:
        calls["describe"].append(time.time())
        return await describe_call(request, **kwargs)

    setattr(service, "list_workflow_executions", list_executions)  # noqa: B010
    setattr(service, "describe_workflow_execution", describe)  # noqa: B010
    return calls


async def serve(side: str, address: str, queue: str, status_file: str) -> None:
    """Run one side's activity-only worker until SIGTERM, reporting to ``status_file``.

    Args:
        side: ``before`` or ``after``.
        address: the dev server's address.
        queue: the task queue to poll.
        status_file: rewritten with the held count every 100 ms, and with the handler
            closes and call times at the end.
    """
    client = await fnact.worker.connect(address, use_environment=False)
    calls = count_calls(client, refuse_list=side == "before")
    container = RunEndContainer()
    if side == "before":
        settings = fnact.Settings(run_end_check_interval=BEFORE_INTERVAL)
        container.settings.override(providers.Object(settings))
    path, partial = Path(status_file), Path(status_file).with_suffix(".part")

    def write(**extra: Any) -> None:
        status = {
            "live": len(container.state_store()),
            "lists": len(calls["list"]),
            "describes": len(calls["describe"]),
        }
        partial.write_text(json.dumps({**status, **extra}))
        partial.replace(path)

    async def report_forever() -> None:
        while True:
            write()
            await asyncio.sleep(0.1)

    tasks: list[asyncio.Task[None]] = []

    def ready(*_: object) -> None:
        tasks.append(asyncio.create_task(report_forever()))
        print("ready", flush=True)

    await fnact.worker.run_worker(
        task_queue=queue,
        container=container,
        client=client,
        on_ready=ready,
        activities=[hold_state],
        max_concurrent_activities=500,
    )
    for task in tasks:
        task.cancel()
    ledger = container.ledger()
    with ledger.lock:
        write(closes=dict(ledger.closes), calls=calls)


class SideProcess:
    """One side's worker process and its status file.

    Args:
        side: ``before`` or ``after``.
        address: the dev server's address.
        folder: where the status file and the process's log go.
    """

    def __init__(self, side: str, address: str, folder: Path) -> None:
        self.side = side
        self.status_file = folder / f"{side}.json"
        self.log = (folder / f"{side}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_run_end", "worker", side, address,
             f"{QUEUE}-{side}", str(self.status_file)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {side} worker did not start; see {self.log.name}")

    def status(self) -> dict[str, Any]:
        """Return the process's latest status.

        Returns:
            The status file's content.
        """
        result: dict[str, Any] = json.loads(self.status_file.read_text())
        return result

    def stop(self) -> dict[str, Any]:
        """Send SIGTERM, wait for the exit and return the final status.

        Returns:
            The final status, with the handler closes and call times.
        """
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()
        return self.status()


# --- the measurement ------------------------------------------------------------------------------


async def until(check: Any, what: str) -> None:
    """Wait until ``check()`` is true.

    Args:
        check: returns whether the wait is over.
        what: what is waited for, for the error.

    Raises:
        TimeoutError: not within `DEADLINE`.
    """
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"run-end: not within {DEADLINE:.0f} s: {what}")
        await asyncio.sleep(0.1)


def check_rounds(times: list[float]) -> list[list[float]]:
    """Group call times into the checks that made them (a check's calls are < 1 s apart).

    Args:
        times: the call times.

    Returns:
        The checks' call times, in order.
    """
    rounds: list[list[float]] = []
    for at in sorted(times):
        if rounds and at - rounds[-1][-1] < 1.0:
            rounds[-1].append(at)
        else:
            rounds.append([at])
    return rounds


def calls_per_minute(times: list[float], start: float, end: float) -> tuple[float, int, float]:
    """Return the calls per minute of the checks that started in ``[start, end]``.

    The span runs from the first of those checks to the first check after them, so
    every check counted had a whole interval.

    Args:
        times: the side's call times.
        start: when the side held every run.
        end: when the first run ended.

    Returns:
        Calls per minute, calls per check and the seconds between checks.
    """
    rounds = check_rounds(times)
    inside = [i for i, r in enumerate(rounds) if start <= r[0] <= end and i + 1 < len(rounds)]
    if not inside:
        raise RuntimeError("run-end: no whole check while every run was held")
    counted = sum(len(rounds[i]) for i in inside)
    span = rounds[inside[-1] + 1][0] - rounds[inside[0]][0]
    return counted / span * 60, round(counted / len(inside)), span / len(inside)


async def close_times(client: temporalio.client.Client, prefix: str) -> dict[str, float]:
    """Return each completed run's close time from the server, keyed ``workflow_id/run_id``.

    Args:
        client: a client of the dev server.
        prefix: the runs' workflow id prefix.

    Returns:
        The close times, once visibility lists all `RUNS`.
    """
    query = f"WorkflowId STARTS_WITH '{prefix}' AND ExecutionStatus = 'Completed'"
    closed: dict[str, float] = {}
    for _ in range(50):
        closed = {
            f"{run.id}/{run.run_id}": run.close_time.timestamp()
            async for run in client.list_workflows(query, page_size=1000)
            if run.close_time is not None
        }
        if len(closed) == RUNS:
            break
        await asyncio.sleep(0.2)
    return closed


async def measure(client: temporalio.client.Client, address: str, folder: Path) -> None:
    """Hold `RUNS` runs on both sides, end them over `ENDS_OVER` s and print the figures.

    Args:
        client: a client of the dev server.
        address: the dev server's address.
        folder: where the worker processes' files go.
    """
    sides = {side: SideProcess(side, address, folder) for side in SIDES}
    started = time.time()
    try:
        prefix = f"bench-run-end-{uuid.uuid4().hex[:8]}-"
        handles = []
        for first in range(0, RUNS, 200):
            handles += await asyncio.gather(
                *(
                    client.start_workflow(
                        HoldOnBoth.run, Ticket(n), id=f"{prefix}{n}", task_queue=QUEUE
                    )
                    for n in range(first, min(first + 200, RUNS))
                )
            )
        await until(
            lambda: all(p.status()["live"] == RUNS for p in sides.values()), "every state held"
        )
        held = time.time()
        # The before side's first whole check of every run: the ends start right after it,
        # once the after side has checked every run twice too (its calls per minute).
        described = sides["before"].status()["describes"]
        listed = sides["after"].status()["lists"]
        await until(
            lambda: (
                sides["before"].status()["describes"] >= described + RUNS
                and sides["after"].status()["lists"] > listed + 2 * math.ceil(RUNS / 100)
            ),
            "both sides' checks of every held run",
        )
        await asyncio.sleep(1.0)  # the before side's last answers
        ends_from = time.time()
        signals = []
        for i, handle in enumerate(handles):
            await asyncio.sleep(max(0.0, ends_from + i * ENDS_OVER / RUNS - time.time()))
            signals.append(asyncio.ensure_future(handle.signal(HoldOnBoth.finish)))
        await asyncio.gather(*signals)
        await asyncio.gather(*(handle.result() for handle in handles))
        await until(
            lambda: all(p.status()["live"] == 0 for p in sides.values()), "every state released"
        )
        closed = await close_times(client, prefix)
    finally:
        final = {side: process.stop() for side, process in sides.items()}
    print(
        f"run-end: {RUNS:,} runs held by two activity-only worker processes, ended evenly "
        f"over {ENDS_OVER:.0f} s ({time.time() - started:.0f} s in all); release latency is "
        "from the run's close (server time) to its handler's close in the process"
    )
    figures: dict[str, tuple[float, float, float]] = {}
    for side in SIDES:
        closes = final[side]["closes"]
        latencies = [closes[key] - at for key, at in closed.items() if key in closes]
        if len(latencies) != RUNS:
            raise RuntimeError(f"run-end: {side} released {len(latencies)} of {RUNS} runs")
        calls = final[side]["calls"]
        per_minute, per_check, period = calls_per_minute(
            calls["list"] + calls["describe"], held, ends_from
        )
        median, p99 = statistics.median(latencies), percentile(latencies, 0.99)
        figures[side] = (median, p99, per_minute)
        print(
            f"run-end: {side}: release latency median {median:.1f} s, p99 {p99:.1f} s, max "
            f"{max(latencies):.1f} s; holding {RUNS:,} runs: {per_check:,} calls per check "
            f"every {period:.1f} s = {per_minute:,.0f} calls/min ({len(calls['list']):,} list, "
            f"{len(calls['describe']):,} describe calls in all)"
        )
    (b_median, b_p99, b_calls), (a_median, a_p99, a_calls) = figures["before"], figures["after"]
    print(
        f"run-end: after/before: release latency median {a_median / b_median:.2f}{TIMES}, "
        f"p99 {a_p99 / b_p99:.2f}{TIMES}; calls per minute {a_calls / b_calls:.3f}{TIMES} "
        f"(at most {math.ceil(RUNS / 100)} calls per check: one per 100 held runs)"
    )


async def bench_run_end() -> list[Target]:
    """Measure the release latency and run-end calls of both sides on one embedded dev server.

    Returns:
        No target: the figures are reported as context lines.
    """
    with (
        tempfile.TemporaryDirectory(prefix="fnact-bench-run-end-") as folder,
        fnact.worker.DevServer(ui=False) as server,
    ):
        client = await fnact.worker.connect(server.address, use_environment=False)
        async with fnact.worker.create_worker(
            client,
            task_queue=QUEUE,
            workflows=[HoldOnBoth],
            workflow_runner=UnsandboxedWorkflowRunner(),
            max_concurrent_workflow_tasks=200,
        ):
            await measure(client, server.address, Path(folder))
    return []


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        asyncio.run(serve(*sys.argv[2:6]))
        sys.stdout.flush()
        os._exit(0)  # skip a teardown temporalio's threads can crash (sdk-python#300)
    asyncio.run(bench_run_end())
