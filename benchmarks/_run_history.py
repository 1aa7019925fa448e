"""The history measurements of ``run-context``: ``history-per-activity`` and ``history-read``.

`bench_run_context` starts the dev server and the workers, then calls these:
`bench_history_per_activity` compares the history of an fnact fan-out with the same
fan-out of plain activities; `bench_history_read` prints what reading a run's input from
its history costs the first activity of a run (context only, no goal).
"""

import asyncio
import dataclasses
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import temporalio.client
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History

import fnact.state
from benchmarks._models import (
    KIB,
    MSGSPEC,
    FnactFanOut,
    FnactSteps,
    Job,
    PlainFanOut,
    new_job,
    run_id,
)
from benchmarks._private import read_run
from benchmarks._timing import Target, percentile

RUN_QUEUES = {"fnact": "fnact-bench-run-fnact", "plain": "fnact-bench-run-plain"}
"""The task queue of each side's worker; the names are as long, so histories compare."""
IDLE_QUEUE = "fnact-bench-run-idle"
"""A task queue no worker polls: runs started on it only exist, for the history reads."""
FAN_OUT = 20
"""Activities each run of the history-per-activity measurement starts at once."""
HISTORY_PADS = (10 * KIB, 100 * KIB)
"""Padding of the workflow input in the history-per-activity measurement, in characters."""
HISTORY_REPEATS = 5
"""Runs per side and input size in the history-per-activity measurement; medians are used."""
HISTORY_READS = 50
"""Runs whose first history event is read in the history-read measurement."""
FIRST_ACTIVITY_RUNS = 20
"""One-activity runs per variant (input inline, input read) in the first-activity comparison."""

HISTORY_PER_ACTIVITY_GOAL_B = 1024.0


@dataclasses.dataclass(frozen=True, slots=True)
class HistorySize:
    """The encoded size of a run's history, whole and in parts."""

    total: int
    """The whole history, in bytes."""
    activity_events: int
    """The activities' scheduled, started and completed events, in bytes."""
    headers: int
    """The headers of the activities' scheduled events, in bytes."""
    workflow_tasks: int
    """How many workflow tasks the run completed."""


ACTIVITY_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    }
)
"""The event types an activity that succeeds first time adds to its run's history."""


async def run_history(
    client: temporalio.client.Client, workflow: Any, queue: str, job: Job
) -> HistorySize:
    """Run ``workflow`` with ``job`` to completion and measure its history.

    Args:
        client: the client to start the run with.
        workflow: the workflow's run method.
        queue: the task queue of the worker that runs it.
        job: the run's input.

    Returns:
        The size of the run's history.
    """
    handle = await client.start_workflow(workflow, job, id=run_id("history"), task_queue=queue)
    if await handle.result() != list(range(job.activities)):
        raise AssertionError("the fan-out workflow returned the wrong results")
    events = (await handle.fetch_history()).events
    return HistorySize(
        total=History(events=events).ByteSize(),
        activity_events=sum(e.ByteSize() for e in events if e.event_type in ACTIVITY_EVENTS),
        headers=sum(e.activity_task_scheduled_event_attributes.header.ByteSize() for e in events),
        workflow_tasks=sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events
        ),
    )


def added_per_activity(
    sizes: dict[str, list[HistorySize]], part: Callable[[HistorySize], int]
) -> float:
    """Return the bytes of ``part`` of a history that fnact adds per activity.

    Args:
        sizes: the histories of each side's runs, under ``fnact`` and ``plain``.
        part: which part of a history to compare.

    Returns:
        The difference of the two sides' medians, per activity.
    """
    fnact_, plain = (statistics.median(map(part, sizes[label])) for label in ("fnact", "plain"))
    return (fnact_ - plain) / FAN_OUT


async def bench_history_per_activity(client: temporalio.client.Client) -> Target:
    """Compare the history of an fnact fan-out with the same fan-out of plain activities.

    Each run starts `FAN_OUT` activities at once, each with a tiny input and result;
    the fnact activities read the run's input from their run state. Both sides run
    on the same client, on task queues and with type names as long. Per input size
    the figure is the difference of the median history sizes, per activity. How
    many workflow tasks a run takes depends on when its activities finish, so the
    figure varies by some tens of bytes; the activities' own events, also printed,
    do not.

    Args:
        client: a client of the dev server the workers poll.

    Returns:
        The ``history-per-activity`` target, in bytes per activity: the larger of the two
        input sizes' figures.
    """
    workflows = {"fnact": FnactFanOut.run, "plain": PlainFanOut.run}
    per_activity: list[float] = []
    for pad in HISTORY_PADS:
        job = new_job(pad, FAN_OUT)
        sizes: dict[str, list[HistorySize]] = {label: [] for label in workflows}
        for repeat in range(HISTORY_REPEATS):
            # Alternate the order so neither side always runs first.
            for label in list(workflows)[:: 1 if repeat % 2 == 0 else -1]:
                sizes[label].append(
                    await run_history(client, workflows[label], RUN_QUEUES[label], job)
                )

        whole = added_per_activity(sizes, lambda size: size.total)
        events = added_per_activity(sizes, lambda size: size.activity_events)
        headers = added_per_activity(sizes, lambda size: size.headers)
        per_activity.append(whole)
        totals = {label: statistics.median(s.total for s in sizes[label]) for label in workflows}
        tasks = {label: [s.workflow_tasks for s in sizes[label]] for label in workflows}
        print(
            f"history-per-activity: {MSGSPEC.to_payload(job).ByteSize() / KIB:,.1f} KiB input, "
            f"{FAN_OUT} activities at once: median history over {HISTORY_REPEATS} runs "
            f"fnact {totals['fnact']:,.0f} B, plain {totals['plain']:,.0f} B "
            f"(workflow tasks fnact {tasks['fnact']}, plain {tasks['plain']}): "
            f"fnact adds {whole:,.0f} B/activity; activity events alone {events:+,.0f} B/activity, "
            f"of which headers {headers:+,.0f} B"
        )
    return Target(
        "history-per-activity",
        max(per_activity),
        HISTORY_PER_ACTIVITY_GOAL_B,
        "B",
        higher_is_better=False,
        digits=0,
    )


async def bench_history_read(
    client: temporalio.client.Client, inline_queue: str, read_queue: str
) -> None:
    """Print what reading a run's input from its history costs an activity.

    First the read itself: fnact's `read_run` (see `_private`), the call a worker makes, over
    runs with a 10 KiB input that no worker runs. Then one-activity runs, one at a
    time, on a worker whose input limit puts the input in the headers and on one that
    reads it: the difference of the median time from the activity's started to its
    completed event (server times) is what the read adds to the first activity of a
    run. The runs' whole latencies are printed too; they vary more.

    Args:
        client: a client of the dev server the workers poll.
        inline_queue: the queue of a worker that copies the input into the headers.
        read_queue: the queue of a worker that reads the input from the history.
    """
    job = new_job(HISTORY_PADS[0], 1)
    handles = await asyncio.gather(
        *(
            client.start_workflow(FnactSteps.run, job, id=run_id("read"), task_queue=IDLE_QUEUE)
            for _ in range(HISTORY_READS)
        )
    )
    keys = [fnact.state.RunKey(handle.id, str(handle.result_run_id)) for handle in handles]
    await read_run(client, client.namespace, keys[0])  # warm-up
    latencies: list[float] = []
    for key in keys:
        start = time.perf_counter()
        facts = await read_run(client, client.namespace, key)
        latencies.append((time.perf_counter() - start) * 1000)
        if facts.input is None or MSGSPEC.from_payload(facts.input, Job) != job:
            raise AssertionError(f"run {key}: the history read did not return the run's input")
    print(
        f"history-read: read_run of a {MSGSPEC.to_payload(job).ByteSize() / KIB:.1f} KiB input "
        f"over {HISTORY_READS} runs: median {statistics.median(latencies):.2f} ms, "
        f"p90 {percentile(latencies, 0.9):.2f} ms"
    )
    await asyncio.gather(*(handle.terminate() for handle in handles))

    queues = {"inline": inline_queue, "read": read_queue}
    runs: dict[str, list[float]] = {label: [] for label in queues}
    activities: dict[str, list[float]] = {label: [] for label in queues}
    for repeat in range(-1, FIRST_ACTIVITY_RUNS):  # repeat -1 warms the workers up
        for label in list(queues)[:: 1 if repeat % 2 == 0 else -1]:
            start = time.perf_counter()
            handle = await client.start_workflow(
                FnactSteps.run, job, id=run_id("first"), task_queue=queues[label]
            )
            await handle.result()
            elapsed = (time.perf_counter() - start) * 1000
            if repeat >= 0:
                runs[label].append(elapsed)
                activities[label].append(await activity_ms(handle))
    run_ms = {label: statistics.median(values) for label, values in runs.items()}
    activity = {label: statistics.median(values) for label, values in activities.items()}
    print(
        f"history-read: one-activity runs, one at a time, median ms over {FIRST_ACTIVITY_RUNS}: "
        f"activity started to completed (server times) input inline {activity['inline']:.2f}, "
        f"read from history {activity['read']:.2f} (the read adds "
        f"{activity['read'] - activity['inline']:.2f} ms to a run's first activity); "
        f"whole run inline {run_ms['inline']:.1f}, read {run_ms['read']:.1f}"
    )


async def activity_ms(handle: temporalio.client.WorkflowHandle[Any, Any]) -> float:
    """Return how long the run's first activity ran, by its history's event times.

    Args:
        handle: the finished run.

    Returns:
        The time from its ``ActivityTaskStarted`` to its ``ActivityTaskCompleted`` event, in ms.
    """
    times: dict[int, datetime] = {}
    async for event in handle.fetch_history_events():
        if event.event_type in ACTIVITY_EVENTS and event.event_type not in times:
            times[event.event_type] = event.event_time.ToDatetime(tzinfo=UTC)
    started = times[EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    completed = times[EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    return (completed - started).total_seconds() * 1000
