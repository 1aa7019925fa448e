"""Outputs on object storage: a day's sales exported, totalled and listed with ``ctx.outputs``.

`export_sales` streams the day's sales into one output and returns its `fnact.OutputRef`;
`total_by_region` reads that reference (on any worker with the same output root), checks
it and writes the totals; `write_manifest` lists the run's outputs and writes their
checksums. The same activities run on a local folder, on S3, GCS or Azure Blob, and on a
``memory://`` root. The how-to guides "Store outputs in object storage" and "Pass large
data between activities" show these pieces.
"""

# --8<-- [start:imports]
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from obstore.store import S3Store
from returns.result import Failure, Result, Success

import fnact
from fnact.exceptions import OutputIntegrityError, OutputNotFoundError

if TYPE_CHECKING:
    from obstore.store import S3Config  # a TypedDict, for type checkers only

# --8<-- [end:imports]

# --8<-- [start:definitions]
_encoder = msgspec.json.Encoder()
REGIONS: tuple[str, ...] = ("north", "east", "south", "west")


class Sale(msgspec.Struct, frozen=True):
    """One sale of the shop."""

    id: int
    region: str
    cents: int


class SalesDb:
    """A stand-in for the sales database: ``sales`` sales a day, in pages of ``page_size``."""

    def __init__(self, sales: int = 2_500, page_size: int = 1_000) -> None:
        self.sales = sales
        self.page_size = page_size
        self.queries = 0

    async def pages(self, day: str) -> AsyncIterator[list[Sale]]:
        """Yield the day's sales page by page, as a cursor over a large table would."""
        self.queries += 1
        for start in range(0, self.sales, self.page_size):
            ids = range(start, min(start + self.page_size, self.sales))
            yield [Sale(id=n, region=REGIONS[n % 4], cents=100 + n % 100) for n in ids]


class ExportDay(msgspec.Struct, frozen=True):
    """Input of `export_sales` and `fetch_sales`: the day to export (``YYYY-MM-DD``)."""

    day: str


class RegionTotals(msgspec.Struct, frozen=True):
    """What `total_by_region` returns: cents by region, and how many sales it read."""

    totals: dict[str, int]
    sales: int


class Manifest(msgspec.Struct, frozen=True):
    """Input of `write_manifest`: the name of the checksums file to write."""

    name: str = "SHA256SUMS"


class UnreadableSales(fnact.Fault):
    """The exported sales are gone or corrupt: a retry would read the same bytes."""

    url: str
    reason: str


class Container(fnact.Container):
    """The object storage example's container: fnact's providers plus the sales database."""

    sales = providers.Singleton(SalesDb)


# --8<-- [end:definitions]


# --8<-- [start:container]
def build_container(output_root: Path | str, store: Any = None) -> Container:
    """Build the container with every run's outputs under ``output_root``.

    ``output_root`` is a folder or a URL (``s3://bucket/prefix``, ``gs://...``,
    ``az://...``, ``memory://name``); ``store``, an obstore store configured in code,
    serves it instead of one built from the URL and the environment.
    """
    container = Container()
    settings = fnact.Settings(output_root=output_root)
    container.settings.override(providers.Object(settings))  # pyright: ignore[reportUnknownMemberType]
    if store is not None:
        container.output_store.override(providers.Object(store))  # pyright: ignore[reportUnknownMemberType]
    return container


# --8<-- [end:container]


# --8<-- [start:s3_store]
def s3_store(
    bucket: str,
    prefix: str,
    *,
    region: str,
    access_key_id: str,
    secret_access_key: fnact.Secret,
    endpoint: str | None = None,
) -> S3Store:
    """Return an S3 store configured in code, for keys that do not come from the environment.

    ``endpoint`` points at an S3-compatible server (MinIO, Ceph, ...); one on plain
    ``http://`` is allowed, as on a private network or in tests.
    """
    config: S3Config = {
        "region": region,
        "access_key_id": access_key_id,
        "secret_access_key": secret_access_key.reveal(),
    }
    if endpoint is not None:
        config["endpoint"] = endpoint
    allow_http = endpoint is not None and endpoint.startswith("http://")
    return S3Store(bucket, prefix=prefix, config=config, client_options={"allow_http": allow_http})


# --8<-- [end:s3_store]


# --8<-- [start:export]
@fnact.activity(start_to_close_timeout=timedelta(minutes=30))
async def export_sales(
    ctx: fnact.ActivityContext, args: ExportDay, db: SalesDb = Provide[Container.sales]
) -> Result[fnact.OutputRef, fnact.Fault]:
    """Stream the day's sales into one JSON-lines output; return its reference."""
    name = f"sales-{args.day}.jsonl"
    if await ctx.outputs.exists(name):  # an earlier attempt committed it: skip the work
        ctx.logger.info("already exported", output=name)
        return Success(await ctx.outputs.ref(name))
    async with ctx.outputs.open_writer(name) as out:  # published whole when the block ends
        async for page in db.pages(args.day):
            await out.write(b"".join(_encoder.encode(sale) + b"\n" for sale in page))
            ctx.heartbeat(message=f"exported up to sale {page[-1].id}")
    ref = await ctx.outputs.ref(name)
    ctx.logger.info("exported sales", output=ref.url, size=ref.size)
    return Success(ref)


# --8<-- [end:export]


# --8<-- [start:total]
@fnact.activity(start_to_close_timeout=timedelta(minutes=30))
async def total_by_region(
    ctx: fnact.ActivityContext, sales: fnact.OutputRef
) -> Result[RegionTotals, UnreadableSales]:
    """Read the exported sales by reference; write and return the cents of each region."""
    totals = dict.fromkeys(REGIONS, 0)
    count = 0
    try:
        async for line in _lines(ctx.outputs.stream(sales)):  # checked against its SHA-256
            sale = msgspec.json.decode(line, type=Sale)
            totals[sale.region] += sale.cents
            count += 1
    except (OutputNotFoundError, OutputIntegrityError, msgspec.DecodeError) as exc:
        return Failure(UnreadableSales(url=sales.url, reason=str(exc)))
    result = RegionTotals(totals=totals, sales=count)
    await ctx.outputs.write("totals.json", _encoder.encode(result))
    return Success(result)


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Split a stream of chunks into lines, holding one line at a time."""
    rest = b""
    async for chunk in chunks:
        *complete, rest = (rest + chunk).split(b"\n")
        for line in complete:
            yield line
    if rest:
        yield rest


# --8<-- [end:total]


# --8<-- [start:manifest]
@fnact.activity(start_to_close_timeout=timedelta(minutes=5))
async def write_manifest(
    ctx: fnact.ActivityContext, args: Manifest
) -> Result[list[str], fnact.Fault]:
    """Write the SHA-256 of each of the run's outputs, as ``sha256sum`` prints them."""
    names = [name for name in await ctx.outputs.list() if name != args.name]
    async with ctx.outputs.open_writer(args.name) as out:
        for name in names:
            ref = await ctx.outputs.ref(name)  # the digest was stored with the output
            await out.write(f"{ref.sha256}  {name}\n")
    return Success(names)


# --8<-- [end:manifest]


# --8<-- [start:fetch]
@fnact.activity(start_to_close_timeout=timedelta(minutes=30))
async def fetch_sales(
    ctx: fnact.ActivityContext, args: ExportDay, db: SalesDb = Provide[Container.sales]
) -> Result[list[Sale], fnact.Fault]:
    """Return the day's sales themselves: over 2 MiB, only with external storage."""
    return Success([sale async for page in db.pages(args.day) for sale in page])


@fnact.activity(start_to_close_timeout=timedelta(minutes=30))
async def total_sales(
    ctx: fnact.ActivityContext, sales: list[Sale]
) -> Result[RegionTotals, fnact.Fault]:
    """Return the cents of each region of ``sales``, given as a value."""
    totals = dict.fromkeys(REGIONS, 0)
    for sale in sales:
        totals[sale.region] += sale.cents
    return Success(RegionTotals(totals=totals, sales=len(sales)))


# --8<-- [end:fetch]
