"""``fnact worker``: its arguments, and running the worker of a `WorkerSpec` in the user's code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import signal
from typing import Any, NoReturn

import temporalio.client

from fnact._cli.argument_types import port
from fnact._cli.connection import add_connection_arguments, connect_client, target_address
from fnact._cli.errors import CommandError, Terminated
from fnact._cli.loading import load_target
from fnact._logging import JSONFormatter, TextFormatter
from fnact._worker._build import configured_address, run_worker
from fnact._worker._devserver import DevServer
from fnact._worker._options import ConnectOptions
from fnact._worker._plugin import check_workflows
from fnact._worker._spec import WorkerSpec

__all__ = ["add_parser", "configure_logging", "handle"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``worker`` command and its arguments to the root parser's ``commands``."""
    worker = commands.add_parser(
        "worker",
        help="run a worker defined in your code",
        description="Run the worker MODULE:ATTR names: a fnact.worker.WorkerSpec, or a function "
        "returning one. It connects to --address, else TEMPORAL_ADDRESS, else starts the "
        "embedded dev server. It stops gracefully on Ctrl+C or SIGTERM.",
    )
    worker.add_argument("target", metavar="MODULE:ATTR", help="e.g. myapp.worker:spec")
    add_connection_arguments(worker)
    worker.add_argument("--task-queue", help="poll this task queue instead of the spec's")
    worker.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="level of the log lines printed to stderr (default: INFO)",
    )
    worker.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="text lines with each record's fields as key=value, or one JSON object per "
        "line (default: text)",
    )
    worker.add_argument(
        "--health-port",
        type=port,
        metavar="PORT",
        help="serve /healthz (the event loop runs) and /readyz (polling, not draining) on "
        "this port (default: the spec's health_port, else none)",
    )
    worker.set_defaults(command=handle)


def configure_logging(level: str, log_format: str) -> None:
    """Print log records to stderr at ``level``, as ``text`` or ``json`` lines with fields."""
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler])


def handle(options: argparse.Namespace) -> int:
    """Run the worker ``options.target`` names until it stops; return 0.

    Raises:
        CommandError: a usage error, or the server or spec cannot be used.
    """
    address = options.address or configured_address()
    if address:
        # A malformed address is a usage error, before anything runs.
        target_address(options.address)
    if options.namespace and not address:
        raise CommandError(
            "--namespace needs --address or TEMPORAL_ADDRESS: the embedded dev server "
            "serves the 'default' namespace",
            code=2,
        )
    # Until the worker handles SIGTERM itself, it stops the process: as PID 1 (in a
    # container) the signal would otherwise be ignored, and the pod killed after its grace.
    signal.signal(signal.SIGTERM, _terminate)
    spec = load_target(options.target)
    configure_logging(options.log_level, options.log_format)
    asyncio.run(_serve_worker(spec, options.target, address, options))
    return 0


def _terminate(signum: int, frame: object) -> NoReturn:
    raise Terminated


async def _serve_worker(
    found: object, target: str, address: str | None, options: argparse.Namespace
) -> None:
    spec = await _build_spec(found, target)
    check_workflows(spec.workflows)  # before connecting: the spec's mistake, not the server's
    task_queue: str = options.task_queue or spec.task_queue
    worker_options: dict[str, Any] = {**spec.options, **spec.worker_options}
    with contextlib.ExitStack() as stack:
        server: DevServer | None = None
        if address:
            client = await connect_client(
                address, options.namespace, client_options=_client_options(spec, cluster=True)
            )
        else:  # the embedded dev server, which gets no TLS or API key (as in run_worker)
            server = stack.enter_context(DevServer())
            client = await connect_client(
                server.address, server.namespace, use_environment=False,
                client_options=_client_options(spec, cluster=False),
            )  # fmt: skip

        def announce(client: temporalio.client.Client, _: DevServer | None) -> None:
            if server is None:
                where = f"{target_address(address)} (namespace {client.namespace})"
            else:
                where = f"the embedded dev server {server.address} (Web UI {server.ui_url})"
            print(f"worker polling task queue {task_queue!r} on {where}", flush=True)

        try:
            health_port = options.health_port
            await run_worker(
                task_queue=task_queue,
                container=spec.container,
                activities=spec.activities,
                workflows=spec.workflows,
                client=client,
                on_ready=announce,
                health_port=spec.health_port if health_port is None else health_port,
                **worker_options,
            )
        except RuntimeError as exc:
            message = str(exc)
            if not message.startswith("Worker validation failed"):
                raise
            raise CommandError(message.split(": Status {", 1)[0]) from None


def _client_options(spec: WorkerSpec, *, cluster: bool) -> ConnectOptions:
    """Return the options of `connect` that ``spec`` sets; TLS and API key only for a cluster."""
    found: ConnectOptions = {}
    if spec.data_converter is not None:
        found["data_converter"] = spec.data_converter
    if spec.runtime is not None:
        found["runtime"] = spec.runtime
    if spec.plugins:
        found["plugins"] = spec.plugins
    if spec.client_interceptors:
        found["interceptors"] = spec.client_interceptors
    if cluster and spec.tls is not None:
        found["tls"] = spec.tls
    if cluster and spec.api_key is not None:
        found["api_key"] = spec.api_key
    return found


async def _build_spec(found: object, target: str) -> WorkerSpec:
    """Return the spec ``found`` is, or the one it returns when called with no arguments."""
    if isinstance(found, WorkerSpec):
        return found
    if not callable(found):
        raise CommandError(
            f"{target} must be a fnact.worker.WorkerSpec or a function returning one, "
            f"not {type(found).__qualname__}",
            code=2,
        )
    try:
        inspect.signature(found).bind()
    except TypeError:
        raise CommandError(f"{target} must be callable with no arguments", code=2) from None
    except ValueError:  # no signature (some builtins): just call it
        pass
    built: Any = found()
    if inspect.isawaitable(built):
        built = await built
    if not isinstance(built, WorkerSpec):
        raise CommandError(
            f"{target}() returned {type(built).__qualname__}, not a fnact.worker.WorkerSpec", code=2
        )
    return built
