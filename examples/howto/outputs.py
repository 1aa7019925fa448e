"""Outputs written safely: a day's orders exported as a file under the run's output path.

`export_orders` writes the file atomically, skips the work when an earlier attempt
already committed it, and returns the file's path rather than the rows.
`fetch_orders` returns the rows themselves, which fails once they pass the payload
limit. `Checksums.write_checksums` is a plain Temporal activity that finds the same
folder with `fnact.build_output_path`. The how-to guide "Write outputs safely" shows
these pieces.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Result, Success
from temporalio import activity

import fnact

# --8<-- [end:imports]

# --8<-- [start:definitions]
_encoder = msgspec.json.Encoder()


class Order(msgspec.Struct, frozen=True):
    """One order of the shop."""

    id: int
    day: str
    cents: int


class Shop:
    """A stand-in for the shop's order database; the real one would query it."""

    async def orders(self, day: str) -> list[Order]:
        """Return the orders placed on ``day`` (``YYYY-MM-DD``)."""
        return [Order(id=n, day=day, cents=n * 1250) for n in range(1, 4)]


class ExportOrders(msgspec.Struct, frozen=True):
    """Input of `export_orders` and `fetch_orders`: the day to export."""

    day: str


class ExportedFile(msgspec.Struct, frozen=True):
    """Where an activity put its output: small enough for any payload."""

    path: str
    name: str
    size: int


class Container(fnact.Container):
    """The outputs example's container: fnact's providers plus the shop."""

    shop = providers.Singleton(Shop)


# --8<-- [end:definitions]


# --8<-- [start:container]
def build_container(output_root: Path) -> Container:
    """Build the container with every run's outputs under ``output_root``."""
    container = Container()
    container.settings.override(providers.Object(fnact.Settings(output_root=output_root)))  # pyright: ignore[reportUnknownMemberType]
    return container


# --8<-- [end:container]


# --8<-- [start:export]
@fnact.activity(start_to_close_timeout=timedelta(minutes=10))
async def export_orders(
    ctx: fnact.ActivityContext, args: ExportOrders, shop: Shop = Provide[Container.shop]
) -> Result[ExportedFile, fnact.Fault]:
    """Write the day's orders as JSON lines under the run's output path; return where."""
    name = f"orders-{args.day}.jsonl"
    if ctx.has_output(name):  # an earlier attempt committed it: skip the work
        ctx.logger.info("already exported", file=name)
    else:
        orders = await shop.orders(args.day)
        ctx.write_output(name, b"".join(_encoder.encode(order) + b"\n" for order in orders))
        ctx.logger.info("exported orders", file=name, orders=len(orders))
    path = ctx.output_path / name
    return Success(ExportedFile(path=str(path), name=name, size=path.stat().st_size))


# --8<-- [end:export]


# --8<-- [start:too_large]
@fnact.activity(start_to_close_timeout=timedelta(minutes=10))
async def fetch_orders(
    ctx: fnact.ActivityContext, args: ExportOrders, shop: Shop = Provide[Container.shop]
) -> Result[list[Order], fnact.Fault]:
    """Return the day's orders themselves: fine for a few, a failure past 2 MB."""
    return Success(await shop.orders(args.day))


# --8<-- [end:too_large]


# --8<-- [start:plain]
class Checksums:
    """Plain Temporal activities; their output root comes in through ``__init__``."""

    def __init__(self, output_root: Path) -> None:
        self.output_root = output_root

    @activity.defn
    async def write_checksums(self, names: list[str]) -> str:
        """Write ``SHA256SUMS`` of the run's files ``names`` beside them; return its path."""
        folder = self.output_root / fnact.build_output_path()  # the same folder as ctx.output_path
        sums = await asyncio.to_thread(_sha256sums, folder, names)
        # A plain activity can build an ActivityContext for its atomic write_output.
        ctx = fnact.ActivityContext(output_root=self.output_root)
        return str(ctx.write_output("SHA256SUMS", sums))


def _sha256sums(folder: Path, names: list[str]) -> str:
    return "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names)


# --8<-- [end:plain]
