"""An existing pydantic Temporal app that adds fnact activities through fnact.worker.Plugin.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
from returns.result import Result, Success
from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    import fnact
    import fnact.worker
    import fnact.workflow


class Order(BaseModel):
    """The app's own pydantic model."""

    id: int
    total: float


class Tagged(msgspec.Struct, frozen=True):
    """What the fnact activity returns."""

    order_id: int
    tag: str


class Untaggable(fnact.Fault):
    """A typed failure of the fnact activity."""

    order_id: int


@activity.defn
async def price(order: Order) -> Order:
    """The app's pydantic activity: add tax."""
    return Order(id=order.id, total=round(order.total * 1.2, 2))


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def tag(ctx: fnact.ActivityContext, order_id: int) -> Result[Tagged, Untaggable]:
    """The fnact activity added to the app."""
    return Success(Tagged(order_id=order_id, tag=f"order-{order_id}"))


@workflow.defn
class Checkout:
    """The app's pydantic workflow, now also calling an fnact activity."""

    @workflow.run
    async def run(self, order: Order) -> list[str]:
        priced = await workflow.execute_activity(
            price, order, start_to_close_timeout=timedelta(seconds=10)
        )
        tagged = await fnact.workflow.execute_activity(tag, priced.id)
        return [f"{priced.total:.2f}", tagged.unwrap().tag]
