"""A small paged export for the testing how-to guides.

`export_pages` writes one file per page and checkpoints a `Cursor` after each, so a
retry resumes where the failed attempt stopped. `sample_rows` collects rows until it
has enough or is asked to stop, and returns what it has: a partial sample is still a
sample, but not when the worker is shutting down.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success

import fnact

# --8<-- [end:imports]


# --8<-- [start:definitions]
class PageSource:
    """Where the rows come from, a page at a time (an HTTP API in a real application)."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages

    async def fetch(self, page: int) -> list[str] | None:
        """Return the rows of ``page`` (empty past the last page); ``None`` while busy."""
        await asyncio.sleep(0)  # a real source awaits the network here
        return self.pages[page] if page < len(self.pages) else []


class ExportContainer(fnact.Container):
    """The export's composition root."""

    source = providers.Singleton(
        PageSource, pages=[["alice", "bob"], ["carol"], ["dave", "erin"], ["frank"]]
    )


class Cursor(msgspec.Struct, frozen=True):
    """Where the next attempt resumes: the first page not yet written."""

    page: int


class ExportPages(msgspec.Struct, frozen=True):
    """Input of `export_pages`: how many pages to export."""

    pages: int


class SampleRows(msgspec.Struct, frozen=True):
    """Input of `sample_rows`: how many rows to collect."""

    limit: int


class SourceBusy(fnact.Fault):
    """The source asked us to come back later; Temporal retries the activity."""

    non_retryable = False
    page: int


# --8<-- [end:definitions]


# --8<-- [start:export_pages]
@fnact.activity(checkpoint=Cursor)
async def export_pages(
    ctx: fnact.ActivityContext,
    args: ExportPages,
    source: PageSource = Provide[ExportContainer.source],
) -> Result[int, SourceBusy]:
    """Write pages ``0..args.pages-1`` as files, resuming after the last checkpoint.

    Returns how many pages this attempt wrote.
    """
    start = ctx.last_checkpoint(Cursor) or Cursor(page=0)
    ctx.logger.info("export started", first_page=start.page)
    for page in range(start.page, args.pages):
        rows = await source.fetch(page)
        if rows is None:
            return Failure(SourceBusy(page=page))
        ctx.write_output(f"pages/{page:04}.txt", "\n".join(rows))
        progress = 100 * (page + 1) / args.pages
        ctx.checkpoint(Cursor(page=page + 1), progress=progress, message=f"page {page}")
    return Success(args.pages - start.page)


# --8<-- [end:export_pages]


# --8<-- [start:sample_rows]
@fnact.activity
async def sample_rows(
    ctx: fnact.ActivityContext,
    args: SampleRows,
    source: PageSource = Provide[ExportContainer.source],
) -> Result[list[str], SourceBusy]:
    """Collect up to ``args.limit`` rows; when asked to stop early, return those collected."""
    rows: list[str] = []
    page = 0
    try:
        while len(rows) < args.limit:
            found = await source.fetch(page)
            if found is None:
                return Failure(SourceBusy(page=page))
            if not found:
                break
            rows.extend(found)
            page += 1
            ctx.heartbeat(progress=len(rows))
    except asyncio.CancelledError:
        ctx.logger.info("sampling stopped early", rows=len(rows))
    return Success(rows[: args.limit])


# --8<-- [end:sample_rows]
