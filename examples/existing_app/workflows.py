"""The app's pydantic workflow, calling its own activity and the fnact one.

The workflow sandbox re-imports this module: it holds no script code.
"""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import timedelta

from returns.result import Failure
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact.workflow
    from examples.existing_app.activities import OutOfStock, quote_order, reserve_line
    from examples.existing_app.models import Order, Reservation, Shipment

# --8<-- [end:imports]


# --8<-- [start:workflow]
@workflow.defn
class ShipOrder:
    """Quote an order, then reserve each of its lines."""

    @workflow.run
    async def run(self, order: Order) -> Shipment:
        # The app's own activity, called as before.
        quote = await workflow.execute_activity(
            quote_order, order, start_to_close_timeout=timedelta(seconds=10)
        )
        reserved: list[Reservation] = []
        short: list[str] = []
        for line in order.lines:
            # The fnact activity: its Result comes back typed.
            result = await fnact.workflow.execute_activity(reserve_line, line)
            match result:
                case Failure(OutOfStock(sku=sku, available=available)):
                    short.append(f"{sku}: {available} left")
                case _:  # a Success
                    reserved.append(result.unwrap())
        return Shipment(
            order_id=order.order_id, total_cents=quote.total_cents, reserved=reserved, short=short
        )


# --8<-- [end:workflow]
