"""Temporal's external storage on object storage, and the sales report's worker.

`offloading_converter` gives fnact's data converter an `fnact.worker.ObjectStoreDriver`:
Temporal then keeps every payload of 256 KiB or more (an activity's input or result, a
workflow's input) in the bucket and records only a small claim in the history. `spec`
describes the worker for ``fnact worker``, with its outputs and payloads where the
environment says. The how-to guide "Pass large data between activities" shows them.
"""

# --8<-- [start:imports]
from __future__ import annotations

import dataclasses
import os

import temporalio.client
import temporalio.converter
from temporalio.converter import ExternalStorage

import fnact.worker
from examples.howto.large_data_workflows import SalesReport, SalesReportInline
from examples.howto.object_storage import (
    build_container,
    export_sales,
    fetch_sales,
    total_by_region,
    total_sales,
    write_manifest,
)

# --8<-- [end:imports]


# --8<-- [start:converter]
def offloading_converter(payloads_root: str) -> temporalio.converter.DataConverter:
    """Return fnact's converter, keeping payloads of 256 KiB and more under ``payloads_root``."""
    storage = ExternalStorage(
        drivers=[fnact.worker.ObjectStoreDriver(payloads_root)],  # e.g. s3://reports/payloads
        payload_size_threshold=256 * 1024,
    )
    return dataclasses.replace(fnact.worker.data_converter, external_storage=storage)


async def connect_offloading(
    payloads_root: str, address: str | None = None
) -> temporalio.client.Client:
    """Connect a client (to start workflows, or for a worker) whose converter offloads."""
    return await fnact.worker.connect(address, data_converter=offloading_converter(payloads_root))


# --8<-- [end:converter]


# --8<-- [start:spec]
def spec() -> fnact.worker.WorkerSpec:
    """The sales report's worker; the same on every machine that runs one.

    ``SALES_OUTPUT_ROOT`` is the output root (``s3://reports/outputs``; a local
    ``fnact-output`` folder when unset), ``SALES_PAYLOADS_ROOT`` where Temporal's
    external storage keeps large payloads (``s3://reports/payloads``; none when unset).
    """
    payloads = os.environ.get("SALES_PAYLOADS_ROOT")
    return fnact.worker.WorkerSpec(
        task_queue="sales",
        container=build_container(os.environ.get("SALES_OUTPUT_ROOT", "fnact-output")),
        activities=[export_sales, total_by_region, write_manifest, fetch_sales, total_sales],
        workflows=[SalesReport, SalesReportInline],
        data_converter=None if payloads is None else offloading_converter(payloads),
    )


# --8<-- [end:spec]
