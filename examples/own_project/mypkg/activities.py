"""mypkg's activity: it prices one line of an order."""

# --8<-- [start:activities]
from collections.abc import Mapping
from datetime import timedelta

import fnact
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success

from mypkg.container import Container
from mypkg.models import PriceLine, UnknownSku


@fnact.activity(start_to_close_timeout=timedelta(seconds=10))
async def price_line(
    ctx: fnact.ActivityContext,
    args: PriceLine,
    prices: Mapping[str, int] = Provide[Container.prices],
) -> Result[int, UnknownSku]:
    """Return the line's price in cents, or Failure(UnknownSku) for a product not on sale."""
    unit = prices.get(args.sku)
    if unit is None:
        return Failure(UnknownSku(sku=args.sku))
    ctx.logger.info("priced line", sku=args.sku, quantity=args.quantity)
    return Success(unit * args.quantity)


# --8<-- [end:activities]
