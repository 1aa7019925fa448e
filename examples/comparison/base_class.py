"""The activity in the base-class style of the original design.

`ActivitiesBase` keeps the original's state handling, reduced to its core: a dict of
run states keyed by workflow id, built from the arguments of the first activity that
asks, rebuilt after a hard-coded 15 minutes, and never released. `OrdersActivities`
subclasses it; the worker registers the instance's bound methods.
"""

# --8<-- [start:imports]
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from examples.comparison.shop import Order, OrdersDB, Vault

# --8<-- [end:imports]

# --8<-- [start:base]
H = TypeVar("H")


@dataclass
class RunState(Generic[H]):
    """What one workflow shares between its activities."""

    handler: H
    workflow_args: dict[str, Any]
    built_at: datetime


class ActivitiesBase(Generic[H]):
    """The base class every activities class of the original design extends."""

    def __init__(self) -> None:
        self.state: dict[str, RunState[H]] = {}  # keyed by workflow id

    async def build_handler(self, workflow_args: dict[str, Any]) -> H:
        """Build the run's handler; subclasses implement it."""
        raise NotImplementedError

    async def get_state(self, workflow_args: dict[str, Any]) -> RunState[H]:
        """Return this workflow's state, building it from ``workflow_args`` when missing."""
        workflow_id = activity.info().workflow_id or ""
        state = self.state.get(workflow_id)
        if state is None or datetime.now() - state.built_at > timedelta(minutes=15):
            handler = await self.build_handler(workflow_args)
            state = RunState(handler, workflow_args, datetime.now())
            self.state[workflow_id] = state
        return state


# --8<-- [end:base]


# --8<-- [start:activities]
class OrdersActivities(ActivitiesBase[OrdersDB]):
    """The orders activities; the worker registers ``instance.fetch_orders``."""

    def __init__(self) -> None:
        super().__init__()
        self.vault = Vault.from_env()  # built with the instance, once per worker

    async def build_handler(self, workflow_args: dict[str, Any]) -> OrdersDB:
        """Connect to the run's database with the vault's current credentials."""
        database = workflow_args["database"]
        return OrdersDB(database, self.vault.fetch(database))

    @activity.defn
    async def fetch_orders(self, workflow_args: dict[str, Any]) -> list[Order]:
        """Return the customer's orders; fail without retry when there is no such customer."""
        state = await self.get_state(workflow_args)
        customer_id = workflow_args["customer_id"]
        orders = state.handler.orders_of(customer_id)  # LoginRejectedError: retried
        if orders is None:
            raise ApplicationError(
                f"customer {customer_id} not found", type="CustomerNotFound", non_retryable=True
            )
        return orders


# --8<-- [end:activities]
