"""A run's context reaches its activities by reference, from any workflow, on any worker."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client
import temporalio.converter
import temporalio.worker
from dependency_injector import providers
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowUpdateStage
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

import fnact
import fnact.state
import fnact.worker
from examples.howto.secrets_codec import FernetCodec
from fnact._worker._devserver import DevServer
from tests.integration.conftest import eventually
from tests.apps.run_context_app import (
    ACTIVITIES,
    WORKFLOWS,
    ByName,
    Deploy,
    FanOut,
    Load,
    Parent,
    PlainPath,
    Relay,
    RunCtxContainer,
    Seen,
    SignalFirst,
    UpdateFirst,
    Waiter,
)

pytestmark = pytest.mark.integration

RETRY_TWICE = RetryPolicy(initial_interval=timedelta(milliseconds=1), maximum_attempts=2)
KIB = 1024
HEADER_BUDGET = 1 * KIB


def new_container(**settings: Any) -> RunCtxContainer:
    """Return a container whose settings are fnact's defaults changed by ``settings``."""
    container = RunCtxContainer()
    container.settings.override(providers.Object(fnact.Settings(**settings)))
    return container


@pytest.fixture
async def both(
    client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[tuple[str, RunCtxContainer]]:
    """Run a worker of workflows and activities on one queue; yield the queue and container."""
    container = new_container()
    worker = fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=ACTIVITIES,
        workflows=WORKFLOWS,
        max_concurrent_activities=500,
    )
    async with worker:
        yield fnact_task_queue, container


@pytest.fixture
async def split(
    client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[tuple[str, str, RunCtxContainer]]:
    """Run workflows and activities on two workers with their own containers, as a fleet does.

    Yield the workflow queue, the activity queue and the activity worker's container:
    its activities never see the run start, so they read what they need from history.
    """
    container = new_container()
    activity_queue = f"{fnact_task_queue}-act"
    async with (
        fnact.worker.create_worker(
            client, task_queue=fnact_task_queue, container=new_container(), workflows=WORKFLOWS
        ),
        fnact.worker.create_worker(
            client,
            task_queue=activity_queue,
            container=container,
            activities=ACTIVITIES,
            max_concurrent_activities=500,
        ),
    ):
        yield fnact_task_queue, activity_queue, container


def reads_or_handoffs(container: RunCtxContainer) -> int:
    """Return how many times this process learned a run's input (from history or hand-off)."""
    stats = container.run_context().stats
    return stats.reads + stats.handoffs


async def scheduled_events(
    handle: temporalio.client.WorkflowHandle[Any, Any],
) -> list[HistoryEvent]:
    """Return the run's ActivityTaskScheduled events, read from its history."""
    return [
        event
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def header_bytes(event: HistoryEvent) -> int:
    """Return the encoded size of an ActivityTaskScheduled event's header."""
    return event.activity_task_scheduled_event_attributes.header.ByteSize()


def assert_seen(seen: list[Seen], load: Load, count: int) -> None:
    """Every activity saw the run's own input, once per index."""
    assert sorted(s.n for s in seen) == list(range(count))
    assert {(s.name, s.pad) for s in seen} == {(load.name, len(load.pad))}


def one_build_per_run(container: RunCtxContainer) -> None:
    """Each run's handler was built once in this process."""
    ledger = container.ledger()
    assert ledger.builds
    assert set(ledger.builds.values()) == {1}, ledger.builds


@pytest.mark.parametrize(
    ("input_bytes", "fan_out", "sequential"),
    [
        pytest.param(10 * KIB, 500, False, id="10KB-x500-concurrent"),
        pytest.param(200 * KIB, 25, False, id="200KB-x25-concurrent"),
        pytest.param(1024 * KIB, 6, False, id="1MB-x6-concurrent"),
        pytest.param(600 * KIB, 100, True, id="600KB-x100-sequential"),
    ],
)
async def test_fan_out_of_a_big_input_completes_with_small_headers(
    client: temporalio.client.Client,
    split: tuple[str, str, RunCtxContainer],
    input_bytes: int,
    fan_out: int,
    sequential: bool,
) -> None:
    """Fan-outs that a header copy of the input killed complete, each header under 1 KiB."""
    queue, activity_queue, container = split
    load = Load(
        name="big", pad="x" * input_bytes, fan_out=fan_out, sequential=sequential,
        queue=activity_queue,
    )  # fmt: skip
    handle = await client.start_workflow(
        FanOut.run, load, id=f"fan-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    seen = await handle.result()
    assert_seen(seen, load, fan_out)
    events = await scheduled_events(handle)
    assert len(events) == fan_out
    assert max(header_bytes(e) for e in events) <= HEADER_BUDGET
    one_build_per_run(container)
    assert container.run_context().stats.reads == 1  # one history read served them all


async def test_workflow_worker_hands_the_input_to_its_own_activities(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """Activities in the process that started the run get its input without a history read."""
    queue, container = both
    load = Load(name="local", pad="l" * 10_000, fan_out=20)
    handle = await client.start_workflow(
        FanOut.run, load, id=f"local-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    assert_seen(await handle.result(), load, 20)
    stats = container.run_context().stats
    assert (stats.reads, stats.handoffs) == (0, 1)
    one_build_per_run(container)
    events = await scheduled_events(handle)
    assert max(header_bytes(e) for e in events) <= HEADER_BUDGET


async def test_small_input_travels_inline_and_needs_no_read(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """An input under Settings.inline_args_limit rides in the headers: no history read."""
    queue, container = both
    load = Load(name="small", fan_out=3)
    handle = await client.start_workflow(
        FanOut.run, load, id=f"small-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    assert_seen(await handle.result(), load, 3)
    events = await scheduled_events(handle)
    fields = events[0].activity_task_scheduled_event_attributes.header.fields
    assert set(fields) == {"fnact-run-start", "fnact-workflow-args"}
    assert reads_or_handoffs(container) == 0


async def test_inline_limit_zero_always_reads_the_history(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """With inline_args_limit=0 headers never carry the input; one read serves the run."""
    container = new_container(inline_args_limit=0)
    async with fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=ACTIVITIES,
        workflows=WORKFLOWS,
    ):
        load = Load(name="tiny", fan_out=4)
        handle = await client.start_workflow(
            FanOut.run, load, id=f"zero-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        assert_seen(await handle.result(), load, 4)
        events = await scheduled_events(handle)
        assert {
            frozenset(e.activity_task_scheduled_event_attributes.header.fields) for e in events
        } == {frozenset({"fnact-run-start"})}
        assert reads_or_handoffs(container) == 1


async def test_signal_with_start_handler_gets_the_run_state(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """An activity started by a signal handler of the first workflow task sees the run's input."""
    queue, container = both
    load = Load(name="signalled", pad="s" * 5000)
    handle = await client.start_workflow(
        SignalFirst.run,
        load,
        id=f"sig-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        start_signal="go",
        start_signal_args=[0],
    )
    assert_seen(await handle.result(), load, 1)
    one_build_per_run(container)
    (event,) = await scheduled_events(handle)
    assert set(event.activity_task_scheduled_event_attributes.header.fields) == {"fnact-run-start"}
    completed = [
        e
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    ]
    assert len(completed) == 1
    assert reads_or_handoffs(container) == 1


async def test_update_with_start_and_early_update_get_the_run_state(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """Update-with-start and an update sent right after the start both see the run's input."""
    queue, _ = both
    load = Load(name="updated", pad="u" * 5000)
    workflow_id = f"upd-{uuid.uuid4().hex[:8]}"
    start = temporalio.client.WithStartWorkflowOperation(
        UpdateFirst.run,
        load,
        id=workflow_id,
        task_queue=queue,
        id_conflict_policy=temporalio.common.WorkflowIDConflictPolicy.FAIL,
    )
    first = await client.execute_update_with_start_workflow(
        UpdateFirst.fetch, 0, start_workflow_operation=start
    )
    assert (first.name, first.pad) == ("updated", 5000)
    await (await start.workflow_handle()).signal(UpdateFirst.finish)

    other = Load(name="early", pad="e" * 5000)
    handle = await client.start_workflow(
        UpdateFirst.run, other, id=f"{workflow_id}-2", task_queue=queue
    )
    update = await handle.start_update(
        UpdateFirst.fetch, 1, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    early = await update.result()
    assert (early.name, early.pad) == ("early", 5000)
    await handle.signal(UpdateFirst.finish)
    assert await handle.result() == "early"


async def test_child_workflow_activities_see_the_child_input(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """A child run's activities get the child's input and output path, not the parent's."""
    queue, container = both
    load = Load(name="parent", pad="p" * 3000, fan_out=2)
    handle = await client.start_workflow(
        Parent.run, load, id=f"parent-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    seen = await handle.result()
    assert [(s.name, s.pad) for s in seen] == [
        ("parent", 3000),
        ("parent", 3000),
        ("child-of-parent", 3001),
    ]
    assert seen[0].path == seen[1].path != seen[2].path
    assert f"{handle.id}-child" in seen[2].path
    assert len(container.ledger().builds) == 2


async def test_continue_as_new_gives_each_run_its_own_input(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """Each run of a continue-as-new chain reads its own input from its own history."""
    queue, container = both
    load = Load(name="relay", pad="r" * 4000, fan_out=2, continue_times=2)
    handle = await client.start_workflow(
        Relay.run, load, id=f"relay-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    seen = await handle.result()
    assert {s.name for s in seen} == {"relay++"}
    ledger = container.ledger()
    assert len(ledger.builds) == 3
    assert set(ledger.builds.values()) == {1}
    assert reads_or_handoffs(container) == 3
    await eventually(lambda: ledger.closes == ledger.builds)


async def test_workflow_on_a_plain_worker_calls_activities_by_name(
    temporal_server: DevServer, client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """A workflow on a plain Temporal worker, default converter, no fnact, gets run state."""
    container = new_container()
    plain_client = await temporalio.client.Client.connect(temporal_server.address)
    activity_queue = f"{fnact_task_queue}-act"
    plain = temporalio.worker.Worker(plain_client, task_queue=fnact_task_queue, workflows=[ByName])
    fnact_worker = fnact.worker.create_worker(
        client, task_queue=activity_queue, container=container, activities=ACTIVITIES
    )
    async with plain, fnact_worker:
        handle = await plain_client.start_workflow(
            ByName.run,
            {"name": "foreign", "pad": "f" * 2000, "queue": activity_queue},
            id=f"byname-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        seen, path = await handle.result()
    description = await handle.describe()
    started = description.start_time
    assert (seen["name"], seen["pad"]) == ("foreign", 2000)
    assert path == f"{started:%Y/%m/%d/%H/%M}/{handle.id}/{description.run_id}"
    assert seen["path"].endswith(path)
    one_build_per_run(container)


async def test_plain_activity_output_path_matches_the_run_start(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """fnact.build_output_path() in a plain activity uses the run's recorded start time."""
    queue, _ = both
    handle = await client.start_workflow(
        PlainPath.run, Load(name="p"), id=f"pp-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    path = await handle.result()
    description = await handle.describe()
    assert path == f"{description.start_time:%Y/%m/%d/%H/%M}/{handle.id}/{description.run_id}"


async def test_payload_codec_still_encrypts_and_state_still_builds(
    temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """With an encrypting codec the history holds ciphertext and activities still read the input."""
    from cryptography.fernet import Fernet

    converter = dataclasses.replace(
        fnact.worker.data_converter, payload_codec=FernetCodec([Fernet.generate_key()])
    )
    client = await fnact.worker.connect(temporal_server.address, data_converter=converter)
    container = new_container()
    activity_queue = f"{fnact_task_queue}-act"
    async with (
        fnact.worker.create_worker(
            client, task_queue=fnact_task_queue, container=new_container(), workflows=WORKFLOWS
        ),
        fnact.worker.create_worker(
            client, task_queue=activity_queue, container=container, activities=ACTIVITIES
        ),
    ):
        load = Load(name="secret-name", pad="z" * 3000, fan_out=2, queue=activity_queue)
        handle = await client.start_workflow(
            FanOut.run, load, id=f"codec-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        assert_seen(await handle.result(), load, 2)
    history = await handle.fetch_history()
    assert b"secret-name" not in history.to_json().encode()
    assert container.run_context().stats.reads == 1


async def test_unreadable_run_gives_a_non_retryable_error_naming_it(
    client: temporalio.client.Client,
) -> None:
    """Reading a run that does not exist fails for good, naming the run."""
    from fnact._run_facts import read_run

    key = fnact.state.RunKey("no-such-workflow", str(uuid.uuid4()))
    with pytest.raises(fnact.exceptions.StateError) as caught:
        await read_run(client, client.namespace, key)
    assert caught.value.non_retryable
    assert "no-such-workflow" in str(caught.value)


async def test_activity_only_worker_releases_when_the_run_ends(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """A worker that never runs the workflow releases the run's state soon after it ends."""
    workflow_container = new_container()
    activity_container = new_container(run_end_check_interval=timedelta(seconds=1))
    activity_queue = f"{fnact_task_queue}-act"
    async with (
        fnact.worker.create_worker(
            client, task_queue=fnact_task_queue, container=workflow_container, workflows=WORKFLOWS
        ),
        fnact.worker.create_worker(
            client,
            task_queue=activity_queue,
            container=activity_container,
            activities=ACTIVITIES,
        ),
    ):
        load = Load(name="remote", pad="x" * 3000, fan_out=3, queue=activity_queue)
        handle = await client.start_workflow(
            FanOut.run, load, id=f"remote-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        assert_seen(await handle.result(), load, 3)
        store = activity_container.state_store()
        ledger = activity_container.ledger()
        await eventually(lambda: len(store) == 0, within=5)
        assert ledger.closes == ledger.builds == {f"{handle.id}/{handle.result_run_id}": 1}
        assert len(activity_container.run_context()) == 0


async def test_terminated_run_is_released_on_the_activity_worker(
    client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """A run terminated while an activity-only worker holds its state is released there."""
    container = new_container(run_end_check_interval=timedelta(seconds=1))
    activity_queue = f"{fnact_task_queue}-act"
    async with (
        fnact.worker.create_worker(
            client, task_queue=fnact_task_queue, container=new_container(), workflows=WORKFLOWS
        ),
        fnact.worker.create_worker(
            client, task_queue=activity_queue, container=container, activities=ACTIVITIES
        ),
    ):
        load = Load(name="ended", pad="x" * 3000, fan_out=2, queue=activity_queue)
        handle = await client.start_workflow(
            Waiter.run, load, id=f"term-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        ledger = container.ledger()
        await eventually(lambda: len(ledger.builds) == 1)
        store = container.state_store()
        stats = container.run_context().stats
        checks_before = stats.end_checks
        await asyncio.sleep(3)
        assert len(store) == 1  # still running: kept
        # The cost of holding a run: one server call per check interval (1 s here).
        assert 2 <= stats.end_checks - checks_before <= 4
        await handle.terminate()
        await eventually(lambda: len(store) == 0, within=5)
        assert ledger.closes == ledger.builds


async def test_standalone_activities_run_without_state_and_refuse_it_clearly(
    client: temporalio.client.Client, both: tuple[str, RunCtxContainer]
) -> None:
    """A standalone activity runs when stateless; asking for run state or a path fails once."""
    queue, container = both
    assert await client.execute_activity(
        "double", 21, id=f"solo-{uuid.uuid4().hex[:8]}", task_queue=queue,
        start_to_close_timeout=timedelta(seconds=10), result_type=int,
    ) == 42  # fmt: skip
    for name, what in (("read_load", "its run state"), ("plain_path", "its output path")):
        with pytest.raises(temporalio.client.ActivityFailureError) as caught:
            await client.execute_activity(
                name, 1, id=f"solo-{uuid.uuid4().hex[:8]}", task_queue=queue,
                start_to_close_timeout=timedelta(seconds=10), retry_policy=RETRY_TWICE,
            )  # fmt: skip
        cause = caught.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.non_retryable
        assert f"standalone activity: {what} needs a workflow run" in cause.message
    assert container.ledger().builds == {}
    assert len(container.state_store()) == 0


@pytest.mark.parametrize(
    ("name", "error_type"),
    [("bad-input", "InvalidActivityInput"), ("bad-checkpoint", "CheckpointDecodeError")],
)
async def test_error_before_the_body_releases_the_state_on_an_activity_worker(
    client: temporalio.client.Client, fnact_task_queue: str, name: str, error_type: str
) -> None:
    """A bad input or undecodable checkpoint ends the activity for good and releases the state."""
    container = new_container(run_end_check_interval=timedelta(hours=1))
    activity_queue = f"{fnact_task_queue}-act"
    async with (
        fnact.worker.create_worker(
            client, task_queue=fnact_task_queue, container=new_container(), workflows=WORKFLOWS
        ),
        fnact.worker.create_worker(
            client, task_queue=activity_queue, container=container, activities=ACTIVITIES
        ),
    ):
        load = Load(name=name, pad="x" * 3000, queue=activity_queue)
        handle = await client.start_workflow(
            Deploy.run, load, id=f"deploy-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        assert await handle.result() == error_type
        # The end watcher runs hourly here: the release came from the failing attempt.
        assert len(container.state_store()) == 0
        ledger = container.ledger()
        assert ledger.closes == ledger.builds == {f"{handle.id}/{handle.result_run_id}": 1}
