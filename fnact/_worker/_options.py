"""Typed keyword options for Temporal's client and worker, as fnact passes them on.

`ConnectOptions` mirrors the keyword parameters of `temporalio.client.Client.connect`
and `WorkerOptions` those of `temporalio.worker.Worker`, with the SDK's own types, so
that ``**options: Unpack[...]`` makes a misspelled or wrongly typed option a type
error (mypy, pyright) instead of a ``TypeError`` when the worker starts. The
parameters fnact's functions take explicitly are left out. A test compares both with
the SDK's signatures, so an SDK upgrade that adds or changes one shows up.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import temporalio.client
import temporalio.common
import temporalio.converter
import temporalio.runtime
import temporalio.service
import temporalio.worker
from typing_extensions import TypedDict

__all__ = ["ConnectOptions", "WorkerOptions"]


class ConnectOptions(TypedDict, total=False):
    """Keyword arguments of `temporalio.client.Client.connect`, for `fnact.worker.connect`.

    Every keyword except ``target_host`` and ``namespace``, which `fnact.worker.connect`
    takes as ``address`` and ``namespace``; each has the SDK's type and default.
    """

    api_key: str | None
    data_converter: temporalio.converter.DataConverter
    plugins: Sequence[temporalio.client.Plugin]
    interceptors: Sequence[temporalio.client.Interceptor]
    default_workflow_query_reject_condition: temporalio.common.QueryRejectCondition | None
    tls: bool | temporalio.service.TLSConfig | None
    retry_config: temporalio.service.RetryConfig | None
    keep_alive_config: temporalio.service.KeepAliveConfig | None
    connect_timeout: timedelta | None
    rpc_metadata: Mapping[str, str | bytes]
    identity: str | None
    lazy: bool
    runtime: temporalio.runtime.Runtime | None
    http_connect_proxy_config: temporalio.service.HttpConnectProxyConfig | None
    dns_load_balancing_config: temporalio.service.DnsLoadBalancingConfig | None
    grpc_compression: temporalio.service.GrpcCompression
    payload_limits: temporalio.service.PayloadLimitsConfig
    header_codec_behavior: temporalio.common.HeaderCodecBehavior


class WorkerOptions(TypedDict, total=False):
    """Keyword arguments of `temporalio.worker.Worker`, for `fnact.worker.create_worker`.

    Every keyword except ``client``, ``task_queue``, ``activities`` and
    ``workflows``, which `fnact.worker.create_worker` takes itself; each has the SDK's type.
    fnact adds its own ``interceptors`` and ``workflow_failure_exception_types`` to
    yours, and changes the defaults of the heartbeat throttle intervals (1 s) and of
    ``workflow_runner`` (a sandbox that passes fnact's modules through).
    """

    nexus_service_handlers: Sequence[Any]
    activity_executor: concurrent.futures.Executor | None
    workflow_task_executor: concurrent.futures.ThreadPoolExecutor | None
    nexus_task_executor: concurrent.futures.ThreadPoolExecutor | None
    workflow_runner: temporalio.worker.WorkflowRunner
    unsandboxed_workflow_runner: temporalio.worker.WorkflowRunner
    plugins: Sequence[temporalio.worker.Plugin]
    interceptors: Sequence[temporalio.worker.Interceptor]
    build_id: str | None
    identity: str | None
    max_cached_workflows: int
    max_concurrent_workflow_tasks: int | None
    max_concurrent_activities: int | None
    max_concurrent_local_activities: int | None
    max_concurrent_nexus_tasks: int | None
    tuner: temporalio.worker.WorkerTuner | None
    max_concurrent_workflow_task_polls: int | None
    nonsticky_to_sticky_poll_ratio: float
    max_concurrent_activity_task_polls: int | None
    no_remote_activities: bool
    sticky_queue_schedule_to_start_timeout: timedelta
    max_heartbeat_throttle_interval: timedelta
    default_heartbeat_throttle_interval: timedelta
    max_activities_per_second: float | None
    max_task_queue_activities_per_second: float | None
    max_eager_activity_reservations_per_workflow_task: int
    graceful_shutdown_timeout: timedelta
    plugin_shutdown_timeout: timedelta | None
    workflow_failure_exception_types: Sequence[type[BaseException]]
    shared_state_manager: temporalio.worker.SharedStateManager | None
    debug_mode: bool
    disable_eager_activity_execution: bool
    on_fatal_error: Callable[[BaseException], Awaitable[None]] | None
    use_worker_versioning: bool
    disable_safe_workflow_eviction: bool
    deployment_config: temporalio.worker.WorkerDeploymentConfig | None
    patch_activation_callback: Callable[[temporalio.worker.PatchActivationInput], bool] | None
    workflow_task_poller_behavior: temporalio.worker.PollerBehavior
    activity_task_poller_behavior: temporalio.worker.PollerBehavior
    nexus_task_poller_behavior: temporalio.worker.PollerBehavior
    disable_payload_error_limit: bool
    max_workflow_task_external_storage_concurrency: int
