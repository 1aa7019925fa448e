"""The workflow that calls the activity, once for each of the three versions.

Each returns the customer's `Summary`, or ``None`` when there is no such customer.
Temporal's workflow sandbox re-imports this module for every run, so the activity
modules come in passed through, and the module does no I/O.
"""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import timedelta
from typing import Any, assert_never, assert_type

from returns.pipeline import is_successful
from returns.result import Result
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import fnact.workflow
    from examples.comparison import plain
    from examples.comparison.base_class import OrdersActivities
    from examples.comparison.shop import Order, Summary, SummaryArgs, summarize
    from examples.comparison.with_fnact import (
        CustomerNotFound,
        FetchOrders,
        LoginRejected,
        fetch_orders,
    )

# --8<-- [end:imports]


# --8<-- [start:plain]
@workflow.defn
class PlainOrderSummary:
    """Summarize a customer's orders with the plain activity."""

    @workflow.run
    async def run(self, args: SummaryArgs) -> Summary | None:
        """Return the summary; ``None`` when the customer does not exist."""
        try:
            orders = await workflow.execute_activity(
                plain.fetch_orders,
                args,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == "CustomerNotFound":
                return None
            raise
        return summarize(args.customer_id, orders)


# --8<-- [end:plain]


# --8<-- [start:base_class]
@workflow.defn
class BaseClassOrderSummary:
    """Summarize a customer's orders with the base-class activity."""

    @workflow.run
    async def run(self, workflow_args: dict[str, Any]) -> Summary | None:
        """Return the summary; ``None`` when the customer does not exist."""
        try:
            orders = await workflow.execute_activity_method(
                OrdersActivities.fetch_orders,
                workflow_args,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == "CustomerNotFound":
                return None
            raise
        return summarize(workflow_args["customer_id"], orders)


# --8<-- [end:base_class]


# --8<-- [start:fnact]
@workflow.defn
class OrderSummary:
    """Summarize a customer's orders with the fnact activity."""

    @workflow.run
    async def run(self, args: SummaryArgs) -> Summary | None:
        """Return the summary; ``None`` when the customer does not exist."""
        result = await fnact.workflow.execute_activity(fetch_orders, FetchOrders(args.customer_id))
        assert_type(result, Result[list[Order], CustomerNotFound | LoginRejected])  # for mypy
        if is_successful(result):
            return summarize(args.customer_id, result.unwrap())
        error = result.failure()
        match error:
            case CustomerNotFound():
                return None
            case LoginRejected(user=user):
                raise ApplicationError(f"the database rejects {user!r}", non_retryable=True)
            case _:
                assert_never(error)


# --8<-- [end:fnact]
