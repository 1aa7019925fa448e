"""Temporal's external storage with fnact activities: large inputs and results offloaded."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
import temporalio.api.common.v1
import temporalio.client
from returns.result import Result, Success
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.converter import (
    ExternalStorage,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.worker
    import fnact.workflow

pytestmark = pytest.mark.integration

Payload = temporalio.api.common.v1.Payload
MB = 1024 * 1024


class MemoryDriver(StorageDriver):
    """An in-memory claim check, as the measurement used: counts what it stores."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def name(self) -> str:
        return "memory"

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        claims = []
        for payload in payloads:
            data = payload.SerializeToString()
            key = hashlib.sha256(data).hexdigest()
            self.objects[key] = data
            claims.append(StorageDriverClaim(claim_data={"key": key}))
        return claims

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        result = []
        for claim in claims:
            payload = Payload()
            payload.ParseFromString(self.objects[claim.claim_data["key"]])
            result.append(payload)
        return result


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def echo_fn(ctx: fnact.ActivityContext, data: str) -> Result[str, fnact.Fault]:
    return Success(data.upper())


@activity.defn
async def echo_plain(data: str) -> str:
    return data.upper()


@workflow.defn(sandboxed=False)
class EchoBig:
    @workflow.run
    async def run(self, size: int, plain: bool) -> int:
        data = "x" * size
        if plain:
            out = await workflow.execute_activity(
                echo_plain, data, start_to_close_timeout=timedelta(seconds=30)
            )
        else:
            out = (await fnact.workflow.execute_activity(echo_fn, data)).unwrap()
        return len(out)


async def _run(client: temporalio.client.Client, task_queue: str, *, size: int, plain: bool) -> int:
    async with fnact.worker.create_worker(
        client,
        task_queue=task_queue,
        container=fnact.Container(),
        activities=[echo_fn, echo_plain],
        workflows=[EchoBig],
    ):
        result: int = await client.execute_workflow(
            EchoBig.run,
            args=[size, plain],
            id=f"big-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=60),
        )
        return result


@pytest.fixture
async def offloading_client(
    temporal_client: temporalio.client.Client,
) -> tuple[temporalio.client.Client, MemoryDriver]:
    """A client whose converter offloads payloads over 256 KiB to an in-memory driver."""
    driver = MemoryDriver()
    options = temporal_client.config()
    options["data_converter"] = dataclasses.replace(
        temporal_client.data_converter, external_storage=ExternalStorage(drivers=[driver])
    )
    return temporalio.client.Client(**options), driver


@pytest.mark.parametrize("plain", [True, False], ids=["plain-activity", "fnact-activity"])
async def test_a_3_mb_input_and_result_are_offloaded(
    offloading_client: tuple[temporalio.client.Client, MemoryDriver],
    fnact_task_queue: str,
    plain: bool,
) -> None:
    """A 3 MB input and result pass through an fnact activity as through a plain one."""
    client, driver = offloading_client
    assert await _run(client, fnact_task_queue, size=3 * MB, plain=plain) == 3 * MB
    sizes = sorted(len(data) for data in driver.objects.values())
    # The input and the result went to the driver, each over 3 MB.
    assert len([size for size in sizes if size > 3 * MB]) >= 2


async def test_a_3_mb_input_without_external_storage_is_refused(
    temporal_client: temporalio.client.Client, fnact_task_queue: str
) -> None:
    """Without external storage the workflow still refuses the input at once, naming its size."""
    with pytest.raises(WorkflowFailureError) as caught:
        await _run(temporal_client, fnact_task_queue, size=3 * MB, plain=False)
    cause = caught.value.cause
    assert "PayloadTooLarge" in repr(cause) or "payload limit" in str(cause)
    assert "echo_fn" in str(cause)
