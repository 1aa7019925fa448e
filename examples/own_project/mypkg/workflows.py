"""mypkg's workflow: price every line of an order, listing the products not on sale."""

# --8<-- [start:workflows]
from returns.result import Failure, Success
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import fnact.workflow
    from mypkg.activities import price_line
    from mypkg.models import Order, Quote, UnknownSku


@workflow.defn
class QuoteOrder:
    """Add up an order's lines; products the price list lacks go in `unknown_skus`."""

    @workflow.run
    async def run(self, order: Order) -> Quote:
        """Price each line with the `price_line` activity."""
        total = 0
        unknown: list[str] = []
        for line in order.lines:
            match await fnact.workflow.execute_activity(price_line, line):
                case Success(int() as cents):
                    total += cents
                case Failure(UnknownSku(sku=sku)):
                    unknown.append(sku)
                case other:  # to a type checker, Result is not closed to these two classes
                    raise AssertionError(f"not an outcome of price_line: {other!r}")
        return Quote(total_cents=total, unknown_skus=unknown)


# --8<-- [end:workflows]
