"""Two ways to load pages into a ledger: one survives a crash, one does not.

Both read the pages after their checkpoint, record each in the `Ledger` and write
it as a file, checkpointing after each page. `load_pages` is idempotent: a page's
file is its receipt, so a retry skips pages already done, and the ledger is keyed
by page. `load_pages_naively` appends to the ledger and rewrites every page after
its checkpoint. The how-to guide "Write long-running activities" rehearses a
crash of each.
"""

from __future__ import annotations

# --8<-- [start:imports]
import asyncio
from datetime import timedelta

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Result, Success

import fnact

# --8<-- [end:imports]


# --8<-- [start:types]
class Ledger:
    """Where loaded pages are recorded (a database table in production); it keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        """Every call, in order: ``("append", page)`` or ``("put", page)``."""
        self.rows: dict[int, int] = {}
        """Rows recorded per page, as a keyed table holds them."""

    def append(self, page: int, rows: int) -> None:
        """Add a page's rows: calling it twice for a page counts them twice."""
        self.calls.append(("append", page))
        self.rows[page] = self.rows.get(page, 0) + rows

    def put(self, page: int, rows: int) -> None:
        """Record a page's rows under its number: calling it twice changes nothing."""
        self.calls.append(("put", page))
        self.rows[page] = rows


class Container(fnact.Container):
    """The ledger, one per container."""

    ledger = providers.Singleton(Ledger)


class LoadPages(msgspec.Struct, frozen=True):
    """Input: how many pages of how many rows."""

    pages: int
    rows_per_page: int = 100


class NextPage(msgspec.Struct, frozen=True):
    """The checkpoint: the next page to load."""

    page: int


# --8<-- [end:types]


# --8<-- [start:idempotent]
@fnact.activity(
    start_to_close_timeout=timedelta(hours=1),
    heartbeat_timeout=timedelta(seconds=30),
    checkpoint=NextPage,
)
async def load_pages(
    ctx: fnact.ActivityContext, args: LoadPages, ledger: Ledger = Provide[Container.ledger]
) -> Result[int, fnact.Fault]:
    """Load each page once: its file is its receipt, and the ledger is keyed by page."""
    start = ctx.last_checkpoint(NextPage) or NextPage(0)
    for page in range(start.page, args.pages):
        await asyncio.sleep(0)  # reading the page from its source
        name = f"page-{page:04d}.json"
        if not (ctx.output_path / name).exists():  # done before a crash the checkpoint missed
            ledger.put(page, args.rows_per_page)
            ctx.write_output(name, msgspec.json.encode({"page": page}))
        ctx.checkpoint(NextPage(page + 1), progress=100 * (page + 1) / args.pages)
    return Success(args.pages)


# --8<-- [end:idempotent]


# --8<-- [start:naive]
@fnact.activity(
    start_to_close_timeout=timedelta(hours=1),
    heartbeat_timeout=timedelta(seconds=30),
    checkpoint=NextPage,
)
async def load_pages_naively(
    ctx: fnact.ActivityContext, args: LoadPages, ledger: Ledger = Provide[Container.ledger]
) -> Result[int, fnact.Fault]:
    """Load every page after the checkpoint, trusting the checkpoint to be the last one made."""
    start = ctx.last_checkpoint(NextPage) or NextPage(0)
    for page in range(start.page, args.pages):
        await asyncio.sleep(0)  # reading the page from its source
        ledger.append(page, args.rows_per_page)
        ctx.write_output(f"page-{page:04d}.json", msgspec.json.encode({"page": page}))
        ctx.checkpoint(NextPage(page + 1), progress=100 * (page + 1) / args.pages)
    return Success(args.pages)


# --8<-- [end:naive]
