"""mypkg's workflow test: a real Temporal dev server, a real worker."""

# --8<-- [start:test_workflows]
import uuid

import pytest
from fnact.testing import StartWorker
from temporalio.client import Client

from mypkg.activities import price_line
from mypkg.models import Order, PriceLine, Quote
from mypkg.workflows import QuoteOrder

pytestmark = pytest.mark.integration


async def test_quotes_an_order(fnact_worker: StartWorker, temporal_client: Client) -> None:
    """QuoteOrder adds up the lines it can price and lists the products it cannot."""
    queue = await fnact_worker(activities=[price_line], workflows=[QuoteOrder])
    quote = await temporal_client.execute_workflow(
        QuoteOrder.run,
        Order(lines=[PriceLine("apple", 3), PriceLine("kiwi", 1), PriceLine("pear", 2)]),
        id=f"quote-{uuid.uuid4()}",
        task_queue=queue,
    )
    assert quote == Quote(total_cents=300, unknown_skus=["kiwi"])


# --8<-- [end:test_workflows]
