"""An fnact activity given to temporalio.workflow's own activity calls, and once to fnact's.

The workflow sandbox re-imports this module, so it holds no test code.
``tests/integration/test_plain_calls.py`` runs it on fnact's worker and on a plain
``temporalio.worker.Worker``.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
from returns.result import Failure, Result, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow

TIMEOUT = timedelta(seconds=10)
FORMS = (
    "execute_activity",
    "execute_activity_args",
    "start_activity",
    "execute_local_activity",
    "start_local_activity",
)
"""The ways the `PlainCall` workflow gives `load_page` to temporalio.workflow."""


class Page(msgspec.Struct, frozen=True):
    """Which page to load."""

    url: str


class NotFound(fnact.Fault):
    """`load_page` has no such page."""

    url: str


@fnact.activity(start_to_close_timeout=TIMEOUT)
async def load_page(ctx: fnact.ActivityContext, args: Page) -> Result[str, NotFound]:
    """Return the page's text, or ``Failure(NotFound)`` for an empty url."""
    if not args.url:
        return Failure(NotFound(url=args.url))
    return Success(f"<html>{args.url}</html>")


@workflow.defn
class PlainCall:
    """Give `load_page` to the temporalio.workflow function its input names."""

    @workflow.run
    async def run(self, form: str) -> object:
        """Call `load_page` the plain way ``form`` names; return what the call returns."""
        page = Page(url="a")
        if form == "execute_activity":
            return await workflow.execute_activity(  # type: ignore[misc]
                load_page, page, start_to_close_timeout=TIMEOUT
            )
        if form == "execute_activity_args":
            return await workflow.execute_activity(
                load_page, args=[page], start_to_close_timeout=TIMEOUT
            )
        if form == "start_activity":
            return await workflow.start_activity(  # type: ignore[misc]
                load_page, page, start_to_close_timeout=TIMEOUT
            )
        if form == "execute_local_activity":
            return await workflow.execute_local_activity(  # type: ignore[misc]
                load_page, page, start_to_close_timeout=TIMEOUT
            )
        if form == "start_local_activity":
            return await workflow.start_local_activity(  # type: ignore[misc]
                load_page, page, start_to_close_timeout=TIMEOUT
            )
        raise ValueError(f"unknown form {form!r}")


@workflow.defn
class FnactCall:
    """Call `load_page` the fnact way, for contrast: the same worker runs it."""

    @workflow.run
    async def run(self, url: str) -> str:
        """Return the page's text, or ``missing`` when the activity returns a Failure."""
        result = await fnact.workflow.execute_activity(load_page, Page(url=url))
        return result.value_or("missing")


ACTIVITIES = [load_page]
WORKFLOWS = [PlainCall, FnactCall]
