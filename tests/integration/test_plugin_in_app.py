"""fnact.worker.Plugin in an existing app: a client or worker plugin beside the app's converter."""

# --8<-- [start:imports]
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import temporalio.client
import temporalio.worker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import fnact
import fnact.worker
from fnact._worker._interceptor import RunHeadersInterceptor
from fnact.worker import DevServer
from tests.apps.plugin_app import Checkout, Order, price, tag
from tests.apps.run_context_app import ACTIVITIES, WORKFLOWS, FanOut, Load, RunContextContainer

# --8<-- [end:imports]

pytestmark = pytest.mark.integration


# --8<-- [start:plugin]
async def test_client_plugin_runs_a_pydantic_app_with_fnact_activities_beside_it(
    temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """Client.connect(plugins=[fnact.worker.Plugin(c)]) and a plain Worker: pydantic, fnact work."""
    plugin = fnact.worker.Plugin(fnact.Container())
    client = await temporalio.client.Client.connect(
        temporal_server.address, plugins=[plugin], data_converter=pydantic_data_converter
    )
    worker = temporalio.worker.Worker(
        client, task_queue=fnact_task_queue, workflows=[Checkout], activities=[tag, price]
    )
    async with worker:
        result = await client.execute_workflow(
            Checkout.run,
            Order(id=7, total=10.0),
            id=f"checkout-{uuid.uuid4().hex[:8]}",
            task_queue=fnact_task_queue,
        )
    assert result == ["12.00", "order-7"]


# --8<-- [end:plugin]


# --8<-- [start:worker_plugin]
async def test_worker_only_plugin_runs_stateful_fnact_activities(
    temporal_server: DevServer, fnact_task_queue: str
) -> None:
    """A plugin given only to Worker(...) on a plain client runs fnact activities with state."""
    container = RunContextContainer()
    plain = await temporalio.client.Client.connect(temporal_server.address)
    worker = temporalio.worker.Worker(
        plain,
        task_queue=fnact_task_queue,
        workflows=WORKFLOWS,
        activities=ACTIVITIES,
        plugins=[fnact.worker.Plugin(container)],
    )
    # --8<-- [end:worker_plugin]
    load = Load(name="plugged", pad="p" * 3000, fan_out=3)
    async with worker:
        seen = await worker.client.execute_workflow(
            FanOut.run, load, id=f"plug-{uuid.uuid4().hex[:8]}", task_queue=fnact_task_queue
        )
    assert sorted(s.n for s in seen) == [0, 1, 2]
    assert {(s.name, s.pad) for s in seen} == {("plugged", 3000)}
    assert set(container.ledger().builds.values()) == {1}
    assert container.ledger().closes == container.ledger().builds


class Counting(temporalio.worker.Interceptor):
    """An app's own worker interceptor."""


async def test_plugin_keeps_what_the_app_set(temporal_server: DevServer) -> None:
    """The app's interceptors, sandbox pass-throughs, failure types and throttle stay."""
    client = await temporalio.client.Client.connect(temporal_server.address)
    mine = Counting()
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("json")
    )
    worker = temporalio.worker.Worker(
        client,
        task_queue="keep",
        workflows=[Checkout],
        interceptors=[mine],
        workflow_runner=runner,
        workflow_failure_exception_types=[KeyError],
        max_heartbeat_throttle_interval=timedelta(seconds=5),
        plugins=[fnact.worker.Plugin()],
    )
    config: Any = worker.config(active_config=True)
    interceptors = config["interceptors"]
    assert mine in interceptors
    assert any(isinstance(i, RunHeadersInterceptor) for i in interceptors)
    passthrough = config["workflow_runner"].restrictions.passthrough_modules
    assert {"json", "fnact", "returns", "msgspec", "dependency_injector"} <= set(passthrough)
    assert set(config["workflow_failure_exception_types"]) == {KeyError, msgspec.ValidationError}
    assert config["max_heartbeat_throttle_interval"] == timedelta(seconds=5)
    assert config["default_heartbeat_throttle_interval"] == timedelta(seconds=1)


async def test_fnact_activities_without_a_container_fail_when_the_worker_is_built(
    client: temporalio.client.Client,
) -> None:
    """A plugin with no container refuses fnact activities by name; workflows alone are fine."""
    with pytest.raises(fnact.exceptions.WorkerConfigurationError, match=r"tag needs a container"):
        temporalio.worker.Worker(
            client, task_queue="x", activities=[tag], plugins=[fnact.worker.Plugin()]
        )
    assert fnact.worker.create_worker(client, task_queue="x", workflows=[Checkout]) is not None
