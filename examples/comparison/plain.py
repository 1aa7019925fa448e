"""The activity as a plain ``@temporalio.activity.defn`` function.

A module-level vault client, a connection per call, and "customer not found" raised by
hand as a non-retryable `ApplicationError`.
"""

# --8<-- [start:imports]
from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from examples.comparison.shop import Order, OrdersDB, SummaryArgs, Vault

# --8<-- [end:imports]

# --8<-- [start:activity]
vault = Vault.from_env()  # built when the module is imported; tests patch it


@activity.defn
async def fetch_orders(args: SummaryArgs) -> list[Order]:
    """Return the customer's orders; fail without retry when there is no such customer."""
    db = OrdersDB(args.database, vault.fetch(args.database))
    try:
        orders = db.orders_of(args.customer_id)  # LoginRejectedError: retried by Temporal
    finally:
        db.close()
    if orders is None:
        raise ApplicationError(
            f"customer {args.customer_id} not found", type="CustomerNotFound", non_retryable=True
        )
    return orders


# --8<-- [end:activity]
