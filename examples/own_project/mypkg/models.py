"""The values that cross the Temporal boundary, and the fault an activity returns."""

# --8<-- [start:models]
import fnact
import msgspec


class PriceLine(msgspec.Struct, frozen=True):
    """Input of `price_line`: one line of an order."""

    sku: str
    quantity: int


class Order(msgspec.Struct, frozen=True):
    """Input of the `QuoteOrder` workflow."""

    lines: list[PriceLine]


class Quote(msgspec.Struct, frozen=True):
    """Result of the `QuoteOrder` workflow."""

    total_cents: int
    unknown_skus: list[str]


class UnknownSku(fnact.Fault):
    """The price list has no such product: asking again will not add it."""

    sku: str


# --8<-- [end:models]
