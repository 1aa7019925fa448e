"""A pydantic app on the dev server: fnact activities take, return and build state from models."""

# --8<-- [start:imports]
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import temporalio.client
import temporalio.worker
from returns.result import Success
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter

import fnact.worker
from fnact.testing import ActivityHarness
from fnact.worker import DevServer
from tests.apps.pydantic_app import (
    Line,
    Order,
    SendRaw,
    SyncContainer,
    Synced,
    SyncOrders,
    SyncOrdersInput,
    count_orders,
    sync_order,
)

# --8<-- [end:imports]

pytestmark = pytest.mark.integration

SINCE = datetime(2026, 3, 1, tzinfo=UTC)


# --8<-- [start:run]
async def test_a_pydantic_workflow_runs_fnact_activities_on_its_models(
    temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """The app's pydantic input reaches fnact activities as models and as their run state."""
    container = SyncContainer()
    client = await temporalio.client.Client.connect(
        temporal_server.address,
        data_converter=pydantic_data_converter,
        plugins=[fnact.worker.Plugin(container)],
    )
    worker = temporalio.worker.Worker(
        client,
        task_queue=fnact_task_queue,
        workflows=[SyncOrders],
        activities=[sync_order, count_orders],
    )
    args = SyncOrdersInput(
        tenant="acme",
        since=datetime(2026, 3, 1, tzinfo=UTC),
        orders=[
            Order(orderId="o-1", lines=[Line(sku="a", qty=2), Line(sku="b", qty=3)]),
            Order(orderId="o-2", lines=[Line(sku="c", qty=0)]),
        ],
    )
    async with worker:
        lines = await client.execute_workflow(
            SyncOrders.run, args, id=f"sync-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
    # --8<-- [end:run]
    assert lines == ["o-1: 5 units for acme", "o-2: rejected c", "2 orders known"]
    assert container.ledger().builds == {"acme": 1}  # one run state for three activities


async def test_fnact_s_own_converter_carries_the_models_without_pydantic_s(
    temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """With only fnact's converter, the workflow's model input and its activities' models work."""
    container = SyncContainer()
    client = await fnact.worker.connect(temporal_server.address, use_environment=False)
    worker = fnact.worker.create_worker(
        client,
        task_queue=fnact_task_queue,
        container=container,
        activities=[sync_order, count_orders],
        workflows=[SyncOrders],
    )
    args = SyncOrdersInput(
        tenant="globex",
        since=SINCE,
        orders=[Order(orderId="o-3", lines=[Line(sku="d", qty=4)])],
    )
    async with worker:
        lines = await client.execute_workflow(
            SyncOrders.run, args, id=f"sync-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
    assert lines == ["o-3: 4 units for globex", "1 orders known"]
    assert container.ledger().builds == {"globex": 1}


async def test_a_bad_input_fails_once_naming_the_field(
    temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """An input that does not validate fails the activity once, non-retryable, naming its path."""
    client = await temporalio.client.Client.connect(
        temporal_server.address,
        data_converter=pydantic_data_converter,
        plugins=[fnact.worker.Plugin(SyncContainer())],
    )
    worker = temporalio.worker.Worker(
        client, task_queue=fnact_task_queue, workflows=[SendRaw], activities=[sync_order]
    )
    args = SyncOrdersInput(tenant="acme", since=SINCE, orders=[])
    raw = {"orderId": "o-9", "lines": [{"sku": "a", "qty": "2"}]}
    async with worker:
        handle = await client.start_workflow(
            SendRaw.run,
            args=[args, raw],
            id=f"raw-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
        refusal = await handle.result()
    assert refusal.type == "InvalidActivityInput"
    assert refusal.non_retryable
    assert refusal.message == (
        "activity 'sync_order': invalid input: "
        "Input should be a valid integer - at `$.lines[0].qty`"
    )
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert attempts == [1]


# --8<-- [start:harness]
async def test_the_harness_runs_the_app_s_activity_with_its_converter(tmp_path: Path) -> None:
    """ActivityHarness takes the app's converter and its pydantic workflow input as they are."""
    args = SyncOrdersInput(tenant="acme", since=datetime(2026, 3, 1, tzinfo=UTC), orders=[])
    async with ActivityHarness(
        SyncContainer(),
        output_root=tmp_path,
        workflow_args=args,
        data_converter=pydantic_data_converter,
    ) as harness:
        run = await harness.run(sync_order, Order(orderId="o-1", lines=[Line(sku="a", qty=2)]))
    assert run.unwrap() == Success(Synced(order_id="o-1", tenant="acme", units=2))


# --8<-- [end:harness]
