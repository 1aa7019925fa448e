"""A fan-out where some activities return expected Failures, with and without state.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow


class Order(msgspec.Struct, frozen=True):
    """The run's input: padded past the inline limit, so activity workers read history."""

    customer: str
    pad: str = "x" * 2048


class Rejected(fnact.Fault):
    """An expected business outcome: this item is not for sale."""

    item: int


class SessionExpired(fnact.Fault):
    """The run's session expired: the state is suspect and must be built anew."""

    releases_state = True


class Session:
    """The run's handler; counts how many were built."""

    built = itertools.count(1)

    def __init__(self, workflow_args: Order) -> None:
        self.number = next(Session.built)
        self.customer = workflow_args.customer

    def close(self) -> None:
        """Nothing to close."""


class Container(fnact.Container):
    handler = providers.Factory(Session)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def price(ctx: fnact.ActivityContext[Session, Order], item: int) -> Result[int, Rejected]:
    """A stateful activity: it prices an item for the run's customer."""
    discount = 1 if ctx.state.handler.customer == "ada" else 0
    return Success(item * 10 - discount)


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def check_stock(ctx: fnact.ActivityContext, item: int) -> Result[int, Rejected]:
    """An activity without state: every call returns the expected Failure."""
    return Failure(Rejected(item=item))


@fnact.activity(start_to_close_timeout=timedelta(seconds=30))
async def renew(
    ctx: fnact.ActivityContext[Session, Order], item: int
) -> Result[int, SessionExpired]:
    """A stateful activity whose failure declares the state suspect."""
    return Failure(SessionExpired())


@workflow.defn(sandboxed=False)
class FanOut:
    @workflow.run
    async def run(self, order: Order, queue: str) -> list[str]:
        async def one(item: int) -> str:
            activity = check_stock if item % 10 == 0 else price
            result = await fnact.workflow.execute_activity(activity, item, task_queue=queue)
            return "failure" if isinstance(result, Failure) else "success"

        return list(await asyncio.gather(*(one(item) for item in range(200))))


@workflow.defn(sandboxed=False)
class Renewals:
    @workflow.run
    async def run(self, order: Order, queue: str) -> list[str]:
        outcomes: list[str] = []
        for activity in (price, renew, price, renew, price):
            result = await fnact.workflow.execute_activity(activity, 1, task_queue=queue)
            outcomes.append("failure" if isinstance(result, Failure) else "success")
        return outcomes
