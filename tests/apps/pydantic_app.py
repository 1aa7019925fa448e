"""A pydantic Temporal app whose workflow calls fnact activities on its own models.

The app keeps ``temporalio.contrib.pydantic``'s converter; its workflow takes a pydantic
`SyncOrdersInput`, and its fnact activities take and return its models, build their run
state from that input (no mirror types) and return a fault holding a model. One activity
takes a msgspec Struct, beside the models. The workflow sandbox re-imports this module,
so it holds no test code.
"""

# --8<-- [start:imports]
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    import fnact
    import fnact.workflow
# --8<-- [end:imports]


# --8<-- [start:models]
class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    order_id: str = Field(alias="orderId")
    lines: list[Line]


class SyncOrdersInput(BaseModel):
    """The workflow's input, and the run state's workflow arguments."""

    tenant: str
    since: datetime
    orders: list[Order]


class Synced(BaseModel):
    order_id: str
    tenant: str
    units: int


class Batch(msgspec.Struct, frozen=True):
    """A msgspec Struct input, beside the models."""

    order_ids: list[str]


class Rejected(fnact.Fault):
    """A fault holding one of the app's models."""

    line: Line


# --8<-- [end:models]


# --8<-- [start:activities]
@dataclass
class Ledger:
    """The tenant clients built in this process, per tenant (thread-safe)."""

    builds: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self, tenant: str) -> None:
        with self.lock:
            self.builds[tenant] = self.builds.get(tenant, 0) + 1


@dataclass
class TenantClient:
    """A run's handler, built from the workflow's pydantic input."""

    tenant: str
    since: datetime

    @classmethod
    def open(cls, workflow_args: SyncOrdersInput, ledger: Ledger) -> TenantClient:
        ledger.opened(workflow_args.tenant)
        return cls(workflow_args.tenant, workflow_args.since)


class SyncContainer(fnact.Container):
    ledger = providers.Singleton(Ledger)
    handler = providers.Factory(TenantClient.open, ledger=ledger)


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def sync_order(
    ctx: fnact.ActivityContext[TenantClient, SyncOrdersInput], order: Order
) -> Result[Synced, Rejected]:
    """Sync one order for the run's tenant; a line without units is rejected."""
    for line in order.lines:
        if line.qty <= 0:
            return Failure(Rejected(line=line))
    units = sum(line.qty for line in order.lines)
    return Success(Synced(order_id=order.order_id, tenant=ctx.state.handler.tenant, units=units))


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def count_orders(
    ctx: fnact.ActivityContext[TenantClient, SyncOrdersInput], batch: Batch
) -> Result[int, Rejected]:
    """Count the batch's orders that are in the run's input."""
    known = {order.order_id for order in ctx.state.workflow_args.orders}
    return Success(len(known & set(batch.order_ids)))


# --8<-- [end:activities]


# --8<-- [start:workflow]
@workflow.defn
class SyncOrders:
    """The app's pydantic workflow, calling fnact activities on its models."""

    @workflow.run
    async def run(self, args: SyncOrdersInput) -> list[str]:
        lines: list[str] = []
        for order in args.orders:
            result = await fnact.workflow.execute_activity(sync_order, order)
            if isinstance(result, Failure):
                lines.append(f"{order.order_id}: rejected {result.failure().line.sku}")
            else:
                synced = result.unwrap()
                lines.append(f"{synced.order_id}: {synced.units} units for {synced.tenant}")
        batch = Batch(order_ids=[order.order_id for order in args.orders])
        counted = await fnact.workflow.execute_activity(count_orders, batch)
        lines.append(f"{counted.unwrap()} orders known")
        return lines


# --8<-- [end:workflow]


class Refusal(BaseModel):
    """How the activity refused a bad input, as the workflow saw it."""

    type: str
    message: str
    non_retryable: bool


@workflow.defn
class SendRaw:
    """Sends a raw JSON object as `sync_order`'s input: an app bug the activity refuses."""

    @workflow.run
    async def run(self, args: SyncOrdersInput, raw: dict[str, Any]) -> Refusal:
        try:
            await fnact.workflow.execute_activity(sync_order, raw)  # type: ignore[arg-type]
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return Refusal(
                type=cause.type or "", message=cause.message, non_retryable=cause.non_retryable
            )
        raise AssertionError("the activity took the bad input")
