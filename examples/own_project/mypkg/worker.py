"""mypkg's worker, for the ``fnact`` command: ``fnact worker mypkg.worker:spec``."""

# --8<-- [start:spec]
import fnact

import fnact.worker
from mypkg.activities import price_line
from mypkg.container import Container
from mypkg.workflows import QuoteOrder


def spec() -> fnact.worker.WorkerSpec:
    """Build the worker when `fnact worker` starts it: the container is built then."""
    return fnact.worker.WorkerSpec(
        task_queue="quotes",
        container=Container(),
        activities=[price_line],
        workflows=[QuoteOrder],
    )


# --8<-- [end:spec]
