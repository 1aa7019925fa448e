"""The app's activities: its own plain Temporal activity, and the fnact activity it adds."""

# --8<-- [start:imports]
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio import activity

import fnact
from examples.existing_app.models import Line, Order, Quote, Reservation

# --8<-- [end:imports]


# --8<-- [start:plain]
PRICES = {"mug": 1200, "tee": 2500, "poster": 800}


@activity.defn
async def quote_order(order: Order) -> Quote:
    """The app's own activity, as it was before fnact: price the order's lines."""
    total = sum(PRICES[line.sku] * line.qty for line in order.lines)
    return Quote(order_id=order.order_id, total_cents=total)


# --8<-- [end:plain]


# --8<-- [start:container]
@dataclass
class Inventory:
    """The stock of every warehouse, and the warehouses connected to, in order."""

    stock: dict[str, int] = field(default_factory=lambda: {"mug": 10, "tee": 3, "poster": 5})
    connections: list[str] = field(default_factory=list)


@dataclass
class Warehouse:
    """The run's handler: a client of the warehouse the order ships from."""

    name: str
    inventory: Inventory

    @classmethod
    def connect(cls, workflow_args: Order, inventory: Inventory) -> Warehouse:
        """Build the run's handler from the workflow's pydantic input."""
        inventory.connections.append(workflow_args.warehouse)
        return cls(workflow_args.warehouse, inventory)

    def take(self, sku: str, qty: int) -> int | None:
        """Take ``qty`` of ``sku`` from the stock; return what is left, or None if short."""
        left = self.inventory.stock.get(sku, 0) - qty
        if left < 0:
            return None
        self.inventory.stock[sku] = left
        return left


class ShopContainer(fnact.Container):
    """The app's container: fnact's providers, the inventory and the run's handler."""

    inventory = providers.Singleton(Inventory)
    handler = providers.Factory(Warehouse.connect, inventory=inventory)


# --8<-- [end:container]


# --8<-- [start:fnact]
class OutOfStock(fnact.Fault):
    """An expected outcome: the workflow gets it back typed, as a `Failure`."""

    sku: str
    available: int


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def reserve_line(
    ctx: fnact.ActivityContext[Warehouse, Order], line: Line
) -> Result[Reservation, OutOfStock]:
    """Reserve one line of the order in the run's warehouse."""
    warehouse = ctx.state.handler
    if warehouse.take(line.sku, line.qty) is None:
        available = warehouse.inventory.stock.get(line.sku, 0)
        return Failure(OutOfStock(sku=line.sku, available=available))
    return Success(Reservation(sku=line.sku, qty=line.qty, warehouse=warehouse.name))


# --8<-- [end:fnact]
