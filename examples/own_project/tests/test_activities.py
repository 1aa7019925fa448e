"""mypkg's activity tests: in-process, no Temporal server."""

# --8<-- [start:test_activities]
from fnact.testing import ActivityHarness, assert_failure, assert_success

from mypkg.activities import price_line
from mypkg.models import PriceLine, UnknownSku


async def test_prices_a_line(activity_harness: ActivityHarness) -> None:
    """Two pears at 75 cents are 150 cents."""
    run = await activity_harness.run(price_line, PriceLine(sku="pear", quantity=2))
    assert_success(run.unwrap(), 150)


async def test_a_product_not_on_sale_is_a_failure(activity_harness: ActivityHarness) -> None:
    """A product missing from the price list comes back as Failure(UnknownSku)."""
    run = await activity_harness.run(price_line, PriceLine(sku="kiwi", quantity=1))
    assert_failure(run.unwrap(), UnknownSku, UnknownSku(sku="kiwi"))


async def test_a_test_can_replace_the_price_list(activity_harness: ActivityHarness) -> None:
    """override() swaps the container's `prices` for this test only."""
    activity_harness.override(prices={"kiwi": 30})
    run = await activity_harness.run(price_line, PriceLine(sku="kiwi", quantity=3))
    assert_success(run.unwrap(), 90)


# --8<-- [end:test_activities]
