"""``run-context``: fnact's run context in real workers on one embedded dev server.

It reports ``history-per-activity`` and ``history-read`` (measured in `_run_history`)
and ``stateful-run``: the throughput of runs of stateful fnact activities against raw
ones, whose handler is a SQLite connection.
"""

import asyncio
import contextlib
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import temporalio.client
import temporalio.worker
from temporalio.worker import UnsandboxedWorkflowRunner

import fnact
import fnact.worker
from benchmarks._models import (
    KIB,
    MSGSPEC,
    FnactFanOut,
    FnactSteps,
    PlainFanOut,
    PlainSteps,
    RawSteps,
    SqliteContainer,
    create_db,
    fan_fnact,
    fan_plain,
    new_job,
    run_id,
    sqlite_container,
    step_fnact,
)
from benchmarks._run_history import RUN_QUEUES, bench_history_per_activity, bench_history_read
from benchmarks._timing import TIMES, Target

FLEET_QUEUES = {"fleet": "fnact-bench-run-fleet", "raw-fleet": "fnact-bench-run-rawfl"}
"""Each served by a workflow-only and an activity-only worker (fnact, and raw)."""
STATEFUL_RUNS = 100
"""Runs started at once in each timed round of the stateful-run measurement."""
STATEFUL_STEPS = 5
"""Activities each run of the stateful-run measurement runs, one after another."""
STATEFUL_PAD = 2 * KIB
"""Padding of the workflow input in the stateful-run measurement, in characters."""
STATEFUL_ROUNDS = 5
"""Interleaved timed rounds per side in the stateful-run measurement."""
STATEFUL_WARM_UP = 10
"""Runs each side does before the timed rounds."""
MAX_CONCURRENT_ACTIVITIES = 100
"""The ``max_concurrent_activities`` of both sides' workers."""

STATEFUL_RUN_GOAL = 0.95


@dataclasses.dataclass(frozen=True, slots=True)
class Throughput:
    """How fast a batch of runs went, and what it cost this process."""

    runs_per_s: float
    """Runs per second, from the first start to the last result."""
    cpu_ms_per_run: float
    """CPU time of this process (its workers, the Temporal core's threads, the client), per run."""


async def time_stateful_runs(
    client: temporalio.client.Client, workflow: Any, queue: str, runs: int
) -> Throughput:
    """Start ``runs`` runs of ``workflow`` at once and time them until the last result.

    Args:
        client: the client to start the runs with.
        workflow: the workflow's run method.
        queue: the task queue of the worker that runs it.
        runs: how many runs to start.

    Returns:
        The runs' throughput and this process's CPU time per run.
    """
    job = new_job(STATEFUL_PAD, STATEFUL_STEPS)
    cpu = time.process_time()
    start = time.perf_counter()
    handles = await asyncio.gather(
        *(
            client.start_workflow(workflow, job, id=run_id("stateful"), task_queue=queue)
            for _ in range(runs)
        )
    )
    results = await asyncio.gather(*(handle.result() for handle in handles))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    expected = sum(range(STATEFUL_STEPS)) + STATEFUL_STEPS  # each query adds the one jobs row
    if set(results) != {expected}:
        raise AssertionError(f"the stateful runs returned {set(results)}, not {expected}")
    return Throughput(runs / elapsed, cpu / runs * 1000)


async def bench_stateful_run(
    client: temporalio.client.Client, container: SqliteContainer, fleet: SqliteContainer
) -> Target:
    """Compare the throughput of runs of stateful fnact activities with raw ones.

    A run's handler is a SQLite connection. fnact builds it once per run with the
    container's ``handler`` provider from the run's input (over
    `fnact.Settings.inline_args_limit`, so not in the headers: the workflow worker, in
    this process, hands it over) and closes it when the run ends; a raw activity gets
    the run's input as its argument and opens and
    closes a connection in every call.

    Args:
        client: a client of the dev server the workers poll.
        container: the fnact worker's container.
        fleet: the container of the activity-only fnact worker of the fleet-shaped side,
            whose workflows run in another worker: it reads each run's input from history.

    Returns:
        The ``stateful-run`` target: fnact's runs per second over raw's.
    """
    workflows = {
        "fnact": FnactSteps.run,
        "raw": PlainSteps.run,
        "fleet": FnactSteps.run,
        "raw-fleet": PlainSteps.run,
    }
    queues = {"fnact": RUN_QUEUES["fnact"], "raw": RUN_QUEUES["plain"], **FLEET_QUEUES}
    for label in workflows:
        await time_stateful_runs(client, workflows[label], queues[label], STATEFUL_WARM_UP)
    store, cache = container.state_store(), container.run_context()
    builds, closes, reads = store.stats.builds, store.stats.closes, cache.stats.reads
    samples: dict[str, list[Throughput]] = {label: [] for label in workflows}
    for repeat in range(STATEFUL_ROUNDS):
        # Alternate the order so neither side always runs first in a round.
        for label in list(workflows)[:: 1 if repeat % 2 == 0 else -1]:
            samples[label].append(
                await time_stateful_runs(client, workflows[label], queues[label], STATEFUL_RUNS)
            )
    await asyncio.sleep(0.1)  # the last runs' releases, which their ends set off
    builds, closes = store.stats.builds - builds, store.stats.closes - closes
    reads = cache.stats.reads - reads
    fleet_reads = fleet.run_context().stats.reads
    medians = {
        label: statistics.median(s.runs_per_s for s in values) for label, values in samples.items()
    }
    cpu = {
        label: statistics.median(s.cpu_ms_per_run for s in values)
        for label, values in samples.items()
    }
    rounds = {
        label: ", ".join(f"{s.runs_per_s:.1f}" for s in values) for label, values in samples.items()
    }
    ratio = medians["fnact"] / medians["raw"]
    timed = STATEFUL_ROUNDS * STATEFUL_RUNS
    print(
        f"stateful-run: {STATEFUL_RUNS} runs x {STATEFUL_STEPS} activities at once, "
        f"{MSGSPEC.to_payload(new_job(STATEFUL_PAD, STATEFUL_STEPS)).ByteSize():,} B input: "
        f"median runs/s over {STATEFUL_ROUNDS} rounds: fnact {medians['fnact']:.1f}, "
        f"raw {medians['raw']:.1f} (fnact/raw {ratio:.2f}{TIMES}; rounds fnact {rounds['fnact']}, "
        f"raw {rounds['raw']}); this process's CPU per run: fnact {cpu['fnact']:.1f} ms, "
        f"raw {cpu['raw']:.1f} ms"
    )
    print(
        f"stateful-run: fleet-shaped (workflows and activities in two workers each, so no "
        f"eager activity dispatch; fnact reads each input from history): median runs/s fnact "
        f"{medians['fleet']:.1f}, raw {medians['raw-fleet']:.1f} "
        f"(fnact/raw {medians['fleet'] / medians['raw-fleet']:.2f}{TIMES}; rounds fnact "
        f"{rounds['fleet']}, raw {rounds['raw-fleet']}); CPU per run fnact {cpu['fleet']:.1f} "
        f"ms, raw {cpu['raw-fleet']:.1f} ms; fnact read {fleet_reads} histories"
    )
    print(
        f"stateful-run: in the {timed} timed fnact runs fnact read {reads} histories and built "
        f"{builds} handlers, closed {closes} ({len(store)} still held); the raw runs opened and "
        f"closed {timed * STATEFUL_STEPS} connections"
    )
    return Target("stateful-run", ratio, STATEFUL_RUN_GOAL, TIMES, higher_is_better=True)


async def bench_run_context() -> list[Target]:
    """Run the run-context measurements on one embedded dev server.

    The fnact worker and the plain worker run in this process side by side, each
    polling its own task queue with its workflows and activities, both with
    ``max_concurrent_activities`` `MAX_CONCURRENT_ACTIVITIES` and the unsandboxed
    workflow runner (as every benchmark worker: the sandbox's re-imports of the
    workflows' module would be timed too). Two more fnact workers serve the
    first-activity comparison.

    Returns:
        The ``history-per-activity`` and ``stateful-run`` targets.
    """
    with tempfile.TemporaryDirectory(prefix="fnact-bench-") as folder:
        path = str(Path(folder) / "bench.sqlite3")
        create_db(path)
        container = sqlite_container(path)
        with fnact.worker.DevServer(ui=False) as server:
            client = await fnact.worker.connect(server.address, use_environment=False)
            fnact_worker = fnact.worker.create_worker(
                client,
                task_queue=RUN_QUEUES["fnact"],
                container=container,
                activities=[fan_fnact, step_fnact],
                workflows=[FnactFanOut, FnactSteps],
                workflow_runner=UnsandboxedWorkflowRunner(),
                max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
            )
            plain_worker = temporalio.worker.Worker(
                client,
                task_queue=RUN_QUEUES["plain"],
                activities=[fan_plain, RawSteps(path).step_raw],
                workflows=[PlainFanOut, PlainSteps],
                workflow_runner=UnsandboxedWorkflowRunner(),
                max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
            )
            first = {
                label: fnact.worker.create_worker(
                    client,
                    task_queue=f"fnact-bench-first-{label}",
                    container=sqlite_container(path, inline_args_limit=limit),
                    activities=[step_fnact],
                    # The "read" side runs the workflow in another worker (and container), as
                    # a fleet does: a workflow worker hands the input to its own activities.
                    workflows=[FnactSteps] if label == "inline" else [],
                    workflow_runner=UnsandboxedWorkflowRunner(),
                )
                for label, limit in (("inline", 1024 * KIB), ("read", 0))
            }
            read_workflows = fnact.worker.create_worker(
                client,
                task_queue="fnact-bench-first-read",
                container=sqlite_container(path, inline_args_limit=0),
                workflows=[FnactSteps],
                workflow_runner=UnsandboxedWorkflowRunner(),
            )
            fleet = sqlite_container(path)
            fleet_workers = [
                fnact.worker.create_worker(
                    client,
                    task_queue=FLEET_QUEUES["fleet"],
                    container=sqlite_container(path),
                    workflows=[FnactSteps],
                    workflow_runner=UnsandboxedWorkflowRunner(),
                ),
                fnact.worker.create_worker(
                    client,
                    task_queue=FLEET_QUEUES["fleet"],
                    container=fleet,
                    activities=[step_fnact],
                    max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
                ),
                temporalio.worker.Worker(
                    client,
                    task_queue=FLEET_QUEUES["raw-fleet"],
                    workflows=[PlainSteps],
                    workflow_runner=UnsandboxedWorkflowRunner(),
                ),
                temporalio.worker.Worker(
                    client,
                    task_queue=FLEET_QUEUES["raw-fleet"],
                    activities=[RawSteps(path).step_raw],
                    max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
                ),
            ]
            async with contextlib.AsyncExitStack() as stack:
                for worker in (fnact_worker, plain_worker, *fleet_workers):
                    await stack.enter_async_context(worker)
                history = await bench_history_per_activity(client)
                stateful = await bench_stateful_run(client, container, fleet)
            async with first["inline"], first["read"], read_workflows:
                await bench_history_read(
                    client, first["inline"].task_queue, first["read"].task_queue
                )
    return [history, stateful]
