"""The "Add fnact to an existing Temporal app" how-to's example, on a dev server and in-process.

The app keeps its pydantic converter and its plain worker; fnact's plugin runs its fnact
activity beside its own; a Replayer with the plugin replays its recorded histories; and its
tests build their client, worker and harness with the app's own converter.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
import temporalio.client
import temporalio.worker
from cryptography.fernet import Fernet
from returns.result import Failure, Success
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.common import HeaderCodecBehavior
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import fnact.worker
import fnact.workflow
from examples.existing_app.activities import OutOfStock, ShopContainer, quote_order, reserve_line
from examples.existing_app.models import Line, Order, Reservation, Shipment
from examples.existing_app.replay import build_replayer, replay_files
from examples.existing_app.worker import build_worker, connect, main
from examples.existing_app.workflows import ShipOrder
from examples.howto.secrets_codec import FernetCodec
from fnact.testing import ActivityHarness
from fnact.worker import DevServer

# --8<-- [end:imports]

pytestmark = pytest.mark.integration

# --8<-- [start:order]
ORDER = Order(
    order_id="o-1",
    warehouse="berlin",
    lines=[Line(sku="mug", qty=2), Line(sku="tee", qty=5), Line(sku="poster", qty=1)],
)


def workflow_id() -> str:
    """Return a new workflow id."""
    return f"ship-{uuid.uuid4().hex[:8]}"


# --8<-- [end:order]


# --8<-- [start:fixtures]
@pytest.fixture
def shop_container() -> ShopContainer:
    """Return the app's container, fresh for each test."""
    return ShopContainer()


@pytest.fixture
async def app_client(
    temporal_server: DevServer, shop_container: ShopContainer
) -> temporalio.client.Client:
    """Return a client of the dev server built as the app builds its own."""
    return await connect(temporal_server.address, shop_container)


@pytest.fixture
async def app_worker(
    app_client: temporalio.client.Client, fnact_task_queue: str
) -> AsyncIterator[temporalio.worker.Worker]:
    """Run the app's own worker on the test's task queue for the test."""
    async with build_worker(app_client, fnact_task_queue) as worker:
        yield worker


# --8<-- [end:fixtures]


# --8<-- [start:run]
@pytest.mark.usefixtures("app_worker")
async def test_the_workflow_gets_the_quote_the_reservations_and_the_typed_failure(
    app_client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """The result holds the plain activity's quote, fnact's reservations and the OutOfStock."""
    shipment = await app_client.execute_workflow(
        ShipOrder.run, ORDER, id=workflow_id(), task_queue=fnact_task_queue
    )
    assert shipment == Shipment(
        order_id="o-1",
        total_cents=2 * 1200 + 5 * 2500 + 800,
        reserved=[
            Reservation(sku="mug", qty=2, warehouse="berlin"),
            Reservation(sku="poster", qty=1, warehouse="berlin"),
        ],
        short=["tee: 3 left"],
    )


@pytest.mark.usefixtures("app_worker")
async def test_the_run_state_is_built_once_per_run_from_the_pydantic_input(
    app_client: temporalio.client.Client, fnact_task_queue: str, shop_container: ShopContainer
) -> None:
    """Three reserve_line calls of a run share one Warehouse, built from that run's Order."""
    lyon = ORDER.model_copy(update={"order_id": "o-2", "warehouse": "lyon"})
    for order in (ORDER, lyon):
        await app_client.execute_workflow(
            ShipOrder.run, order, id=workflow_id(), task_queue=fnact_task_queue
        )
    inventory = shop_container.inventory()
    assert inventory.connections == ["berlin", "lyon"]
    assert inventory.stock == {"mug": 6, "tee": 3, "poster": 3}  # the tee was never taken


# --8<-- [end:run]


async def test_the_app_s_client_writes_its_models_as_its_own_converter_does(
    app_client: temporalio.client.Client,
) -> None:
    """With fnact's converter in front, a pydantic Order is still written as pydantic writes it."""
    written = app_client.data_converter.payload_converter.to_payloads([ORDER])
    assert written == pydantic_data_converter.payload_converter.to_payloads([ORDER])
    assert app_client.data_converter is not pydantic_data_converter


async def test_the_worker_script_s_main_runs_the_app_s_worker(
    app_client: temporalio.client.Client, temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """main() connects and runs the app's worker until cancelled; a workflow completes on it."""
    task = asyncio.create_task(main(temporal_server.address, fnact_task_queue))
    try:
        shipment = await app_client.execute_workflow(
            ShipOrder.run, ORDER, id=workflow_id(), task_queue=fnact_task_queue
        )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert shipment.short == ["tee: 3 left"]
    assert [r.sku for r in shipment.reserved] == ["mug", "poster"]


@pytest.mark.parametrize(
    ("behavior", "headers", "encodings"),
    [
        (HeaderCodecBehavior.NO_CODEC, ["fnact-run-start"], {b"json/plain"}),
        (
            HeaderCodecBehavior.CODEC,
            ["fnact-run-start", "fnact-workflow-args"],
            {b"binary/encrypted"},
        ),
    ],
)
async def test_with_a_payload_codec_the_input_goes_into_headers_only_if_they_are_encoded(
    temporal_server: DevServer,
    fnact_task_queue: str,
    behavior: HeaderCodecBehavior,
    headers: list[str],
    encodings: set[bytes],
) -> None:
    """With an encrypting codec, activity headers hold the run's input only if encoded too."""
    codec = FernetCodec([Fernet.generate_key()])
    client = await temporalio.client.Client.connect(
        temporal_server.address,
        data_converter=dataclasses.replace(pydantic_data_converter, payload_codec=codec),
        plugins=[fnact.worker.Plugin(ShopContainer())],
        header_codec_behavior=behavior,
    )
    small = Order(order_id="o-3", warehouse="berlin", lines=[Line(sku="mug", qty=1)])
    async with build_worker(client, fnact_task_queue):
        handle = await client.start_workflow(
            ShipOrder.run, small, id=workflow_id(), task_queue=fnact_task_queue
        )
        assert (await handle.result()).reserved[0].warehouse == "berlin"
    scheduled = [
        event.activity_task_scheduled_event_attributes.header.fields
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert len(scheduled) == 2  # quote_order and reserve_line
    assert all(sorted(fields) == headers for fields in scheduled)
    assert {p.metadata["encoding"] for fields in scheduled for p in fields.values()} == encodings


def test_the_plugin_configures_the_replayer_for_fnact() -> None:
    """The replayer gets fnact's converter in front of the app's, its interceptor and sandbox."""
    config = build_replayer().config(active_config=True)
    converter = config["data_converter"]
    assert converter is not pydantic_data_converter
    assert converter.payload_converter.to_payloads([ORDER]) == (
        pydantic_data_converter.payload_converter.to_payloads([ORDER])
    )
    assert [type(i).__module__.split(".")[0] for i in config["interceptors"]] == ["fnact"]
    assert msgspec.ValidationError in config["workflow_failure_exception_types"]
    runner = config["workflow_runner"]
    assert isinstance(runner, SandboxedWorkflowRunner)
    passed = set(runner.restrictions.passthrough_modules)
    assert {"fnact", "returns", "msgspec", "dependency_injector"} <= passed


@pytest.fixture
async def recorded(
    app_client: temporalio.client.Client, app_worker: temporalio.worker.Worker
) -> temporalio.client.WorkflowHistory:
    """Return the history of one completed ShipOrder run, its OutOfStock included."""
    handle = await app_client.start_workflow(
        ShipOrder.run, ORDER, id=workflow_id(), task_queue=app_worker.task_queue
    )
    await handle.result()
    return await handle.fetch_history()


# --8<-- [start:replay]
async def test_the_replayer_replays_a_recorded_history(
    recorded: temporalio.client.WorkflowHistory,
) -> None:
    """The app's recorded run replays without error on the replayer given fnact's plugin."""
    result = await build_replayer().replay_workflow(recorded)
    assert result.replay_failure is None


# --8<-- [end:replay]


async def test_a_history_exported_by_the_temporal_cli_replays(
    recorded: temporalio.client.WorkflowHistory, temporal_server: DevServer, tmp_path: Path
) -> None:
    """``temporal workflow show --output json`` writes a file that replay_files replays."""
    cli = fnact.worker.find_temporal_cli()
    assert cli is not None
    show = await asyncio.create_subprocess_exec(
        str(cli), "workflow", "show", "--workflow-id", recorded.workflow_id,
        "--address", temporal_server.address, "--output", "json",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    exported, _ = await asyncio.wait_for(show.communicate(), timeout=30)
    assert show.returncode == 0
    path = tmp_path / f"{recorded.workflow_id}.json"
    path.write_bytes(exported)
    assert b'"eventType"' in exported
    await replay_files([path])  # raises on a replay failure


async def test_without_the_plugin_the_replayer_cannot_decode_the_fault(
    recorded: temporalio.client.WorkflowHistory,
) -> None:
    """The app's converter alone cannot decode reserve_line's OutOfStock: the replay fails."""
    replayer = temporalio.worker.Replayer(
        workflows=[ShipOrder], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(recorded, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "examples.existing_app.activities.OutOfStock" in str(result.replay_failure)


@workflow.defn(name="ShipOrder", sandboxed=False)
class ShipOrderReservingFirst:
    """ShipOrder changed: it reserves the lines before it quotes the order."""

    @workflow.run
    async def run(self, order: Order) -> Shipment:
        for line in order.lines:
            await fnact.workflow.execute_activity(reserve_line, line)
        quote = await workflow.execute_activity(
            quote_order, order, start_to_close_timeout=timedelta(seconds=10)
        )
        return Shipment(
            order_id=order.order_id, total_cents=quote.total_cents, reserved=[], short=[]
        )


async def test_the_replayer_fails_on_a_changed_workflow(
    recorded: temporalio.client.WorkflowHistory,
) -> None:
    """The history does not replay on a ShipOrder that calls its activities in another order."""
    replayer = temporalio.worker.Replayer(
        workflows=[ShipOrderReservingFirst],
        data_converter=pydantic_data_converter,
        plugins=[fnact.worker.Plugin()],
    )
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(recorded)


# --8<-- [start:harness]
@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[ActivityHarness]:
    """Return a harness on the app's container, with its converter and a pydantic run input."""
    async with ActivityHarness(
        ShopContainer(),
        output_root=tmp_path,
        data_converter=pydantic_data_converter,
        workflow_args=ORDER,
    ) as harness:
        yield harness


async def test_the_harness_reserves_a_line_in_the_run_s_warehouse(
    harness: ActivityHarness,
) -> None:
    """In-process, reserve_line builds its Warehouse from the pydantic Order and reserves."""
    run = await harness.run(reserve_line, Line(sku="mug", qty=2))
    assert run.result == Success(Reservation(sku="mug", qty=2, warehouse="berlin"))
    assert run.state.builds == 1


async def test_the_harness_returns_the_typed_failure(harness: ActivityHarness) -> None:
    """A line the warehouse cannot fill comes back as Failure(OutOfStock), not an exception."""
    run = await harness.run(reserve_line, Line(sku="tee", qty=5))
    assert run.result == Failure(OutOfStock(sku="tee", available=3))
    assert run.exception is None


# --8<-- [end:harness]
