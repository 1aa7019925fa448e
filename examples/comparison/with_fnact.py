"""The activity with fnact: a function that returns a Result, its handler from a container."""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import timedelta

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio.common import RetryPolicy

import fnact
from examples.comparison.shop import LoginRejectedError, Order, OrdersDB, SummaryArgs, Vault

# --8<-- [end:imports]


# --8<-- [start:faults]
class CustomerNotFound(fnact.Fault):
    """No customer has this id; retrying will not create one."""

    customer_id: int


class LoginRejected(fnact.Fault):
    """The database refused the run's credentials; a rotation may not have reached the vault."""

    non_retryable = False
    releases_state = True  # the run's connection holds the rejected login: build it anew
    user: str

    def retry_delay(self) -> timedelta:
        """Give a password rotation time to reach the vault before the next attempt."""
        return timedelta(seconds=10)


# --8<-- [end:faults]


# --8<-- [start:container]
def open_orders_db(workflow_args: SummaryArgs, vault: Vault) -> OrdersDB:
    """Build the run's handler: a client of the run's database with current credentials."""
    return OrdersDB(workflow_args.database, vault.fetch(workflow_args.database))


class Container(fnact.Container):
    """The composition root: fnact's providers plus the vault and the run's handler."""

    vault = providers.Singleton(Vault.from_env)
    handler = providers.Factory(open_orders_db, vault=vault)


# --8<-- [end:container]


# --8<-- [start:activity]
class FetchOrders(msgspec.Struct, frozen=True):
    """The activity's input."""

    customer_id: int


@fnact.activity(
    start_to_close_timeout=timedelta(seconds=30), retry_policy=RetryPolicy(maximum_attempts=5)
)
async def fetch_orders(
    ctx: fnact.ActivityContext[OrdersDB, SummaryArgs], args: FetchOrders
) -> Result[list[Order], CustomerNotFound | LoginRejected]:
    """Return the customer's orders from the run's database."""
    try:
        orders = ctx.state.handler.orders_of(args.customer_id)
    except LoginRejectedError as rejected:
        return Failure(LoginRejected(user=rejected.user))
    if orders is None:
        return Failure(CustomerNotFound(customer_id=args.customer_id))
    return Success(orders)


# --8<-- [end:activity]
