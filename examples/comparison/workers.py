"""How each version's activity is given to a worker."""

# --8<-- [start:imports]
from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

import fnact
import fnact.worker
from examples.comparison import plain
from examples.comparison.base_class import OrdersActivities
from examples.comparison.with_fnact import Container, fetch_orders
from examples.comparison.workflows import BaseClassOrderSummary, OrderSummary, PlainOrderSummary

# --8<-- [end:imports]


# --8<-- [start:plain]
def plain_worker(client: Client, task_queue: str) -> Worker:
    """Build a worker of the plain activity (its vault was built on import)."""
    return Worker(
        client,
        task_queue=task_queue,
        activities=[plain.fetch_orders],
        workflows=[PlainOrderSummary],
    )


# --8<-- [end:plain]


# --8<-- [start:base_class]
def base_class_worker(client: Client, task_queue: str, activities: OrdersActivities) -> Worker:
    """Build a worker of the base-class activity: it registers the instance's bound method."""
    return Worker(
        client,
        task_queue=task_queue,
        activities=[activities.fetch_orders],
        workflows=[BaseClassOrderSummary],
    )


# --8<-- [end:base_class]


# --8<-- [start:fnact]
def fnact_worker(client: Client, task_queue: str, container: Container) -> fnact.worker.Worker:
    """Build a worker of the fnact activity, resolving its dependencies from ``container``."""
    return fnact.worker.create_worker(
        client,
        task_queue=task_queue,
        container=container,
        activities=[fetch_orders],
        workflows=[OrderSummary],
    )


# --8<-- [end:fnact]
