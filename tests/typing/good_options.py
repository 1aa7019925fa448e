"""Correct uses of fnact's typed options and activities; mypy must report nothing here.

The counterpart of ``bad_options.py``, checked by ``tests/typing/test_typed_options.py``.
Nothing here runs: pytest only imports the module (for doctests). The guide "Use the
fnact command" shows `spec`. The end of the file checks what `fnact.activity` returns for
a sync function, and what a workflow gets back from one.
"""

# --8<-- [start:imports]
from __future__ import annotations

import concurrent.futures
from datetime import timedelta
from typing import Any, assert_type

import msgspec
import temporalio.client
import temporalio.worker
from returns.result import Result, Success
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

import fnact
import fnact.worker
import fnact.workflow
from examples.progress import CopyTables, copy_table
from fnact._worker._options import ConnectOptions, WorkerOptions

# --8<-- [end:imports]


def metrics_runtime() -> Runtime:
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address="0.0.0.0:9464")))


async def connect_to_cloud(api_key: str) -> temporalio.client.Client:
    return await fnact.worker.connect(
        "my-ns.a1b2c.tmprl.cloud:7233",
        namespace="my-ns.a1b2c",
        api_key=api_key,
        tls=True,
        runtime=metrics_runtime(),
        connect_timeout=timedelta(seconds=5),
        rpc_metadata={"x-team": "reports"},
        identity="reports-worker-1",
    )


async def connect_with_mtls(cert: bytes, key: bytes) -> temporalio.client.Client:
    tls = TLSConfig(client_cert=cert, client_private_key=key, domain="temporal.internal")
    options: ConnectOptions = {"tls": tls, "lazy": False}
    return await fnact.worker.connect("temporal.internal:7233", **options)


def build_worker(
    client: temporalio.client.Client,
    container: Any,
    interceptor: temporalio.worker.Interceptor,
) -> fnact.worker.Worker:
    return fnact.worker.create_worker(
        client,
        task_queue="reports",
        container=container,
        workflows=[],
        max_concurrent_activities=5,
        max_cached_workflows=100,
        graceful_shutdown_timeout=timedelta(minutes=1),
        max_heartbeat_throttle_interval=timedelta(seconds=5),
        workflow_failure_exception_types=[ValueError],
        interceptors=[interceptor],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=5),
        workflow_task_poller_behavior=temporalio.worker.PollerBehaviorAutoscaling(),
    )


async def run_until_stopped(container: Any) -> None:
    limits: WorkerOptions = {"max_concurrent_activities": 5, "max_activities_per_second": 2.5}
    limits["graceful_shutdown_timeout"] = timedelta(minutes=1)
    await fnact.worker.run_worker(task_queue="reports", container=container, **limits)


def cloud_spec(container: Any, api_key: str) -> fnact.worker.WorkerSpec:
    return fnact.worker.WorkerSpec(
        task_queue="reports",
        container=container,
        runtime=metrics_runtime(),
        tls=True,
        api_key=api_key,
        worker_options={
            "max_concurrent_activities": 5,
            "graceful_shutdown_timeout": timedelta(minutes=1),
        },
    )


# --8<-- [start:spec]
def spec() -> fnact.worker.WorkerSpec:
    """A worker that serves Prometheus metrics and runs at most five activities at once."""
    metrics = PrometheusConfig(bind_address="0.0.0.0:9464")  # http://HOST:9464/metrics
    return fnact.worker.WorkerSpec(
        task_queue="fnact-example-progress",
        container=fnact.Container(),
        activities=[copy_table],
        workflows=[CopyTables],
        runtime=Runtime(telemetry=TelemetryConfig(metrics=metrics)),
        worker_options={
            "max_concurrent_activities": 5,
            "graceful_shutdown_timeout": timedelta(minutes=1),
        },
    )


# --8<-- [end:spec]


class OrderMissing(fnact.Fault, frozen=True):
    """A frozen Fault, as natural next to frozen Structs: no type error in mypy or pyright."""

    order_id: int


class StillFrozen(OrderMissing, frozen=True):
    """A subclass of a frozen Fault states frozen=True again (type checkers do not inherit it)."""

    reason: str


# Sync activities and max_concurrent: what fnact.activity returns for a plain def.


class Rows(msgspec.Struct, frozen=True):
    """The input of the sync activities below."""

    path: str


@fnact.activity(start_to_close_timeout=timedelta(minutes=1), max_concurrent=2)
def count_rows(ctx: fnact.ActivityContext, args: Rows) -> Result[int, fnact.Fault]:
    """A sync activity with options is a SyncActivity."""
    return Success(len(args.path))


@fnact.activity
def bare_count(ctx: fnact.ActivityContext, args: Rows) -> Result[int, fnact.Fault]:
    """A sync activity decorated bare is a SyncActivity too."""
    return Success(0)


@fnact.activity(max_concurrent=3)
async def limited(ctx: fnact.ActivityContext, n: int) -> Result[int, fnact.Fault]:
    """An async activity with max_concurrent stays an Activity."""
    return Success(n)


async def call_activities_directly(ctx: fnact.ActivityContext) -> None:
    """A sync activity's direct call returns the Result; an async one's is awaited."""
    sync_activity: fnact.SyncActivity[..., int, fnact.Fault] = count_rows
    as_activity: fnact.Activity[..., int, fnact.Fault] = bare_count
    assert_type(count_rows(ctx, Rows("a.csv")), Result[int, fnact.Fault])
    assert_type(bare_count(ctx, Rows("a.csv")), Result[int, fnact.Fault])
    assert_type(await limited(ctx, 1), Result[int, fnact.Fault])
    assert sync_activity is not as_activity


async def call_from_a_workflow() -> None:
    """fnact.workflow infers Result[R, E] from a sync activity as from an async one."""
    result = await fnact.workflow.execute_activity(count_rows, Rows("a.csv"))
    assert_type(result, Result[int, fnact.Fault])
    local = await fnact.workflow.execute_local_activity(bare_count, Rows("b.csv"))
    assert_type(local, Result[int, fnact.Fault])
    assert_type(await fnact.workflow.execute_activity(limited, 2), Result[int, fnact.Fault])
