"""Structured logging: an activity that logs with fields, and a worker's JSON log setup.

The how-to guide "Log with context" shows these pieces.
"""

# --8<-- [start:imports]
from __future__ import annotations

import logging
from datetime import timedelta

import msgspec
from returns.result import Result, Success

import fnact
import fnact.worker

# --8<-- [end:imports]


# --8<-- [start:activity]
class Signup(msgspec.Struct, frozen=True):
    """One row of a signup batch."""

    email: str
    name: str


class ImportSignups(msgspec.Struct, frozen=True):
    """Input of `import_signups`: a named batch of rows."""

    batch: str
    rows: list[Signup]


@fnact.activity(start_to_close_timeout=timedelta(minutes=5))
async def import_signups(
    ctx: fnact.ActivityContext, args: ImportSignups
) -> Result[int, fnact.Fault]:
    """Import a batch of signups, logging each skipped row and a summary."""
    log = ctx.logger.bind(batch=args.batch)  # every record below carries batch=...
    log.info("importing signups", rows=len(args.rows))
    imported = 0
    for number, row in enumerate(args.rows, start=1):
        if "@" not in row.email:
            log.warning("skipped row %d", number, reason="invalid email")
            continue
        imported += 1
    log.info("imported signups", imported=imported, skipped=len(args.rows) - imported)
    return Success(imported)


# --8<-- [end:activity]


# --8<-- [start:configure]
def configure_logging(level: int | str | None = None) -> None:
    """Write every log record to stderr as one line of JSON.

    ``force=True`` replaces the handlers the root logger has (such as the plain-text
    one ``fnact worker`` installs); ``level=None`` keeps the root logger's level.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(fnact.worker.JSONFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


# --8<-- [end:configure]
