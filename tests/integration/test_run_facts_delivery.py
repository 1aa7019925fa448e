"""A run's input and start time reach its activities, from any workflow, on any worker."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
import temporalio.client
import temporalio.worker
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

import fnact
import fnact.state
import fnact.worker
from examples.howto.secrets_codec import FernetCodec
from fnact._worker._devserver import DevServer
from tests.apps.run_context_app import (
    ByName,
    Deploy,
    Load,
    Parent,
    PlainPath,
    Relay,
    RunContextContainer,
)
from tests.integration.conftest import (
    HEADER_BUDGET,
    eventually,
    header_bytes,
    one_build_per_run,
    reads_or_handoffs,
    run_context_container,
    run_fan_out,
    scheduled_events,
    workflow_and_activity_workers,
)

pytestmark = pytest.mark.integration

RETRY_TWICE = RetryPolicy(initial_interval=timedelta(milliseconds=1), maximum_attempts=2)
KIB = 1024


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
    split_workers: tuple[str, str, RunContextContainer],
    input_bytes: int,
    fan_out: int,
    sequential: bool,
) -> None:
    """Fan-outs that a header copy of the input killed complete, each header under 1 KiB."""
    queue, activity_queue, container = split_workers
    load = Load(
        name="big", pad="x" * input_bytes, fan_out=fan_out, sequential=sequential,
        queue=activity_queue,
    )  # fmt: skip
    handle = await run_fan_out(client, queue, load)
    events = await scheduled_events(handle)
    assert len(events) == fan_out
    assert max(header_bytes(e) for e in events) <= HEADER_BUDGET
    one_build_per_run(container)
    assert container.run_context().stats.reads == 1  # one history read served them all


async def test_child_workflow_activities_see_the_child_input(
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """A child run's activities get the child's input and output path, not the parent's."""
    queue, container = single_worker
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
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """Each run of a continue-as-new chain reads its own input from its own history."""
    queue, container = single_worker
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
    container = run_context_container()
    plain_client = await temporalio.client.Client.connect(temporal_server.address)
    plain = temporalio.worker.Worker(plain_client, task_queue=fnact_task_queue, workflows=[ByName])
    async with workflow_and_activity_workers(
        client, fnact_task_queue, container, workflow_worker=plain
    ) as activity_queue:
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
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """fnact.build_output_path() in a plain activity uses the run's recorded start time."""
    queue, _ = single_worker
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
    container = run_context_container()
    async with workflow_and_activity_workers(client, fnact_task_queue, container) as activity_queue:
        load = Load(name="secret-name", pad="z" * 3000, fan_out=2, queue=activity_queue)
        handle = await run_fan_out(client, fnact_task_queue, load)
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


async def test_standalone_activities_are_runs_of_their_own(
    client: temporalio.client.Client, single_worker: tuple[str, RunContextContainer]
) -> None:
    """A standalone activity has an output path of its own; its input must fit the state's W."""
    queue, container = single_worker
    assert await client.execute_activity(
        "double", 21, id=f"solo-{uuid.uuid4().hex[:8]}", task_queue=queue,
        start_to_close_timeout=timedelta(seconds=10), result_type=int,
    ) == 42  # fmt: skip
    solo = f"solo-{uuid.uuid4().hex[:8]}"
    handle = await client.start_activity(
        "plain_path", 1, id=solo, task_queue=queue,
        start_to_close_timeout=timedelta(seconds=10), result_type=str,
    )  # fmt: skip
    path = await handle.result()
    assert path.split("/")[5:] == [solo, handle.run_id]
    # read_load's state is built from its own input, and an int is not a Load.
    with pytest.raises(temporalio.client.ActivityFailureError) as caught:
        await client.execute_activity(
            "read_load", 1, id=f"solo-{uuid.uuid4().hex[:8]}", task_queue=queue,
            start_to_close_timeout=timedelta(seconds=10), retry_policy=RETRY_TWICE,
        )  # fmt: skip
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.non_retryable
    assert "workflow arguments do not match" in cause.message
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
    container = run_context_container(run_end_check_interval=timedelta(hours=1))
    async with workflow_and_activity_workers(client, fnact_task_queue, container) as activity_queue:
        load = Load(name=name, pad="x" * 3000, queue=activity_queue)
        handle = await client.start_workflow(
            Deploy.run, load, id=f"deploy-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
        assert await handle.result() == error_type
        # The end watcher runs hourly here: the release came from the failing attempt.
        assert len(container.state_store()) == 0
        ledger = container.ledger()
        assert ledger.closes == ledger.builds == {f"{handle.id}/{handle.result_run_id}": 1}
