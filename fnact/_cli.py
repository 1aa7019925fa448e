"""The ``fnact`` command: a dev server, a worker of your code, and live progress of a run.

    fnact dev                      the embedded Temporal dev server, until Ctrl+C
    fnact worker package.mod:spec  a worker of a `WorkerSpec` in your code
    fnact watch WORKFLOW_ID        progress bars of a run's activities, until it closes
    fnact check module:attr ...    recorded runs against today's activity types

Exit status: 0 on success (for ``watch``: the run completed; for ``check``: every
recorded value decodes), 1 on an error, a run that did not complete or an
incompatible value, 2 on a usage error, 130 when interrupted. Errors are
one line on stderr, ``fnact: error: ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import importlib
import inspect
import io
import logging
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import temporalio.client
import temporalio.converter
import temporalio.envconfig
import temporalio.runtime
import temporalio.service
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import WorkflowExecutionStatus

from fnact._activity import Activity
from fnact._history_check import RecordedRun, check_runs, runs_from_client, runs_from_files
from fnact._logging import JSONFormatter, TextFormatter
from fnact._version import __version__
from fnact._watch import BarsView, PlainView, watch_run
from fnact._worker._build import configured_address, connect, run_worker
from fnact._worker._devserver import DevServer
from fnact._worker._options import ConnectOptions
from fnact._worker._plugin import check_workflows
from fnact._worker._spec import WorkerSpec
from fnact.exceptions import FnactError

__all__ = ["main", "run"]

_PROG = "fnact"
_CONNECT_TIMEOUT = timedelta(seconds=5)


class CommandError(Exception):
    """A failure the command reports as one line, with its exit code."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fnact`` command on ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    command: Callable[[argparse.Namespace], int] = options.command
    try:
        return command(options)
    except CommandError as exc:
        _error(str(exc))
        return exc.code
    except FnactError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except _Terminated:
        return 143
    except BrokenPipeError:  # the reader went away, as in `fnact watch ID | head -3`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run() -> NoReturn:
    """Run `main` and exit with its code: the console script and ``python -m fnact``.

    The exit skips the interpreter's teardown (after running ``atexit`` functions
    and flushing output): temporalio's Rust threads can abort a teardown that
    races with them (temporalio/sdk-python#300), turning any exit code into 134.
    """
    try:
        code = main()
    except Exception:  # a bug, here or in the user's code: its traceback is what helps
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream
            stream.flush()
    os._exit(code)


def _error(message: str) -> None:
    print(f"{_PROG}: error: {' '.join(message.split())}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Run a Temporal dev server, a worker of your fnact code, or watch a run.",
        epilog="Exit status: 0 ok, 1 error (or a watched run that did not complete), "
        "2 usage error, 130 interrupted.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"fnact {__version__} (temporalio {temporalio.service.__version__}, Python "
        f"{sys.version.split()[0]})",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="start the embedded Temporal dev server until Ctrl+C",
        description="Start the embedded Temporal dev server (in memory) and print its "
        "address and Web UI address; stop it on Ctrl+C or SIGTERM.",
    )
    dev.add_argument("--port", type=_port, default=7233, help="gRPC port (0: any free port)")
    dev.add_argument("--ui-port", type=_port, default=8233, help="Web UI port (0: any free port)")
    dev.add_argument("--headless", action="store_true", help="do not serve the Web UI")
    dev.add_argument("--namespace", default="default", help="the namespace to create")
    dev.set_defaults(command=_dev)

    worker = commands.add_parser(
        "worker",
        help="run a worker defined in your code",
        description="Run the worker MODULE:ATTR names: a fnact.worker.WorkerSpec, or a function "
        "returning one. It connects to --address, else TEMPORAL_ADDRESS, else starts the "
        "embedded dev server. It stops gracefully on Ctrl+C or SIGTERM.",
    )
    worker.add_argument("target", metavar="MODULE:ATTR", help="e.g. myapp.worker:spec")
    _add_connection(worker)
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
        type=_port,
        metavar="PORT",
        help="serve /healthz (the event loop runs) and /readyz (polling, not draining) on "
        "this port (default: the spec's health_port, else none)",
    )
    worker.set_defaults(command=_worker)

    watch = commands.add_parser(
        "watch",
        help="show live progress of a run's activities until it closes",
        description="Show each pending activity of a run with its state, attempt, progress "
        "and last message, read from its heartbeats (fnact progress counts as percent). "
        "Prints plain lines when stdout is not a terminal. Exits 0 when the run completes, "
        "1 when it fails, is cancelled, terminated or times out.",
    )
    watch.add_argument("workflow_id", metavar="WORKFLOW_ID")
    watch.add_argument("--run-id", help="watch this run (default: the latest run)")
    _add_connection(watch)
    watch.add_argument(
        "--interval", type=_positive, default=0.5, help="seconds between looks (default: 0.5)"
    )
    watch.add_argument("--record", type=Path, metavar="FILE.svg", help="save the output as SVG")
    watch.add_argument(
        "--converter",
        metavar="MODULE:ATTR",
        help="a DataConverter (or a function returning one) whose payload codec decrypts "
        "heartbeat details, as your workers use",
    )
    watch.set_defaults(command=_watch)

    check = commands.add_parser(
        "check",
        help="check recorded runs against today's activity types before a deploy",
        description="Decode every recorded activity input, result, Failure detail and pending "
        "checkpoint (and the workflow input run states are built from) of the given runs with "
        "the types of the activities MODULE:ATTR names (a fnact.worker.WorkerSpec, a list of "
        "activities, or a function returning either). Prints each value that no longer "
        "decodes; exits 1 if there is one.",
    )
    check.add_argument("target", metavar="MODULE:ATTR", help="e.g. myapp.worker:spec")
    check.add_argument(
        "--history", action="append", default=[], type=Path, metavar="FILE.json",
        help="a history exported with `temporal workflow show --output json` (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "--workflow-id", action="append", default=[], metavar="ID",
        help="the latest run of this workflow, read from the server (repeatable)",
    )  # fmt: skip
    check.add_argument(
        "--query", help="the runs this list filter finds, e.g. 'ExecutionStatus=\"Running\"'"
    )
    _add_connection(check)
    check.set_defaults(command=_check)
    return parser


def _add_connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", help="host:port of Temporal (default: TEMPORAL_ADDRESS)")
    parser.add_argument("--namespace", help="the namespace (default: TEMPORAL_NAMESPACE)")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return port


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


# -- connecting -----------------------------------------------------------------------------


_ADDRESS = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d+)")


def _target(address: str | None) -> str:
    """Return the address `connect` uses: ``address``, else Temporal's environment config.

    Raises:
        CommandError: the address is not ``HOST:PORT``, naming where it came from.
    """
    where = "--address"
    if not address:
        config = temporalio.envconfig.ClientConfig.load_client_connect_config()
        address = config.get("target_host")
        where = "Temporal's environment configuration (TEMPORAL_ADDRESS or a profile)"
        if not address:
            return "localhost:7233"
    return check_address(str(address), where)


def check_address(address: str, where: str) -> str:
    """Return ``address`` if it is ``HOST:PORT`` with a port from 1 to 65535.

    Raises:
        CommandError: it is not, naming ``where`` it came from.
    """
    found = _ADDRESS.fullmatch(address)
    if found is None:
        missing = ":" not in address and _ADDRESS.fullmatch(f"{address}:1") is not None
        problem = "no port" if missing else "not HOST:PORT"
        raise CommandError(
            f"{where} {address!r}: {problem}; expected HOST:PORT, like localhost:7233", code=2
        )
    if not 0 < int(found.group(1)) <= 65535:
        raise CommandError(f"{where} {address!r}: port {found.group(1)} is out of range", code=2)
    return address


async def _connect(
    address: str | None,
    namespace: str | None,
    data_converter: temporalio.converter.DataConverter | None = None,
    *,
    use_environment: bool = True,
    client_options: ConnectOptions | None = None,
) -> temporalio.client.Client:
    """Connect, and check the namespace exists (a worker would otherwise fail later)."""
    target = _target(address)
    extra: ConnectOptions = {"connect_timeout": _CONNECT_TIMEOUT, **(client_options or {})}
    if data_converter:
        extra["data_converter"] = data_converter
    try:
        client = await connect(
            target, namespace=namespace, use_environment=use_environment, **extra
        )
    except RuntimeError as exc:
        raise CommandError(f"cannot connect to Temporal at {target}: {_reason(exc)}") from None
    request = DescribeNamespaceRequest(namespace=client.namespace)
    try:
        await client.workflow_service.describe_namespace(request)
    except temporalio.service.RPCError as exc:
        if exc.status is temporalio.service.RPCStatusCode.NOT_FOUND:
            raise CommandError(f"no namespace {client.namespace!r} at {target}") from None
        raise CommandError(f"cannot use Temporal at {target}: {exc.message}") from None
    return client


def _reason(exc: BaseException) -> str:
    """Return the gist of a Rust core connection error (``Connection refused``)."""
    text = str(exc)
    found = re.search(r'(?:message|error): "([^"]+)"', text)
    return found.group(1) if found else text


# -- fnact dev ------------------------------------------------------------------------------


def _dev(options: argparse.Namespace) -> int:
    server = DevServer(
        port=options.port or None,
        ui=not options.headless,
        ui_port=options.ui_port or None,
        namespace=options.namespace,
    )
    return asyncio.run(_serve_dev(server))


async def _serve_dev(server: DevServer) -> int:
    stop = _stop_on_signals()
    # Start in a thread and always wait for it: a signal during startup then still
    # stops the server process instead of leaving it behind.
    try:
        await asyncio.to_thread(server.start)
        if not stop.is_set():
            print(f"Temporal dev server: {server.address} (namespace {server.namespace})")
            if server.ui_url:
                print(f"Web UI: {server.ui_url}")
            print(f"Workers and clients: TEMPORAL_ADDRESS={server.address}")
            print("Press Ctrl+C to stop.", flush=True)
            await stop.wait()
    finally:
        await asyncio.to_thread(server.stop)
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


# -- fnact worker ---------------------------------------------------------------------------


def configure_logging(level: str, log_format: str) -> None:
    """Print log records to stderr at ``level``, as ``text`` or ``json`` lines with fields."""
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler])


def _worker(options: argparse.Namespace) -> int:
    address = options.address or configured_address()
    if address:
        _target(options.address)  # a malformed address is a usage error, before anything runs
    if options.namespace and not address:
        raise CommandError(
            "--namespace needs --address or TEMPORAL_ADDRESS: the embedded dev server "
            "serves the 'default' namespace",
            code=2,
        )
    # Until the worker handles SIGTERM itself, it stops the process: as PID 1 (in a
    # container) the signal would otherwise be ignored, and the pod killed after its grace.
    signal.signal(signal.SIGTERM, _terminate)
    spec = _load(options.target)
    configure_logging(options.log_level, options.log_format)
    asyncio.run(_serve_worker(spec, options.target, address, options))
    return 0


class _Terminated(BaseException):
    """SIGTERM arrived before the worker handled it: stop at once."""


def _terminate(signum: int, frame: object) -> NoReturn:
    raise _Terminated


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
            client = await _connect(
                address, options.namespace, client_options=_client_options(spec, cluster=True)
            )
        else:  # the embedded dev server, which gets no TLS or API key (as in run_worker)
            server = stack.enter_context(DevServer())
            client = await _connect(
                server.address, server.namespace, use_environment=False,
                client_options=_client_options(spec, cluster=False),
            )  # fmt: skip

        def announce(client: temporalio.client.Client, _: DevServer | None) -> None:
            if server is None:
                where = f"{_target(address)} (namespace {client.namespace})"
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


def _load(target: str) -> object:
    """Import ``module:attr`` from the project (the current directory) or Python's path."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise CommandError(f"expected MODULE:ATTR (like myapp.worker:spec), got {target!r}", code=2)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` does, so the project's packages import
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise CommandError(
                f"cannot import {module_name!r}: no module named {missing!r} "
                f"(looked in {cwd} and on Python's path)",
                code=2,
            ) from None
        raise  # the module exists but fails to import: its traceback is what helps
    found: object = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise CommandError(
                f"module {module_name!r} has no attribute {attr!r}", code=2
            ) from None
    return found


def _load_converter(target: str) -> temporalio.converter.DataConverter:
    """Import ``module:attr``: a DataConverter, or a no-argument function returning one."""
    found: Any = _load(target)
    if callable(found) and not isinstance(found, temporalio.converter.DataConverter):
        found = found()
    if not isinstance(found, temporalio.converter.DataConverter):
        raise CommandError(
            f"{target} must be a temporalio DataConverter or a function returning one, "
            f"not {type(found).__qualname__}",
            code=2,
        )
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


# -- fnact check ----------------------------------------------------------------------------


def _check(options: argparse.Namespace) -> int:
    if not (options.history or options.workflow_id or options.query):
        raise CommandError("give runs to check: --history, --workflow-id or --query", code=2)
    activities = _activities(_load(options.target), options.target)
    try:
        runs = runs_from_files(options.history)
    except ValueError as exc:
        raise CommandError(str(exc), code=2) from None
    if options.workflow_id or options.query:
        runs += asyncio.run(_server_runs(options))
    report = check_runs(runs, activities)
    print(report, flush=True)
    return 0 if report.ok else 1


async def _server_runs(options: argparse.Namespace) -> list[RecordedRun]:
    client = await _connect(options.address, options.namespace)
    try:
        return await runs_from_client(client, query=options.query, workflow_ids=options.workflow_id)
    except temporalio.service.RPCError as exc:
        raise CommandError(f"cannot read the runs: {exc.message}") from None


def _activities(found: object, target: str) -> list[object]:
    """Return the activities ``found`` names: a spec's, a list's, or a function's result's."""
    if callable(found) and not isinstance(found, Activity | WorkerSpec):
        found = found()
    if isinstance(found, WorkerSpec):
        return list(found.activities)
    if isinstance(found, Activity):
        return [found]
    if isinstance(found, list | tuple) and all(callable(item) for item in found):
        return list(found)
    raise CommandError(
        f"{target} must be a fnact.worker.WorkerSpec, a list of activities, or a function "
        f"returning one, not {type(found).__qualname__}",
        code=2,
    )


# -- fnact watch ----------------------------------------------------------------------------


def _watch(options: argparse.Namespace) -> int:
    status = asyncio.run(_watch_run(options))
    return 0 if status in _SUCCESS else 1


_SUCCESS = (WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.CONTINUED_AS_NEW)


async def _watch_run(options: argparse.Namespace) -> WorkflowExecutionStatus:
    record: Path | None = options.record
    if record is not None and not record.parent.is_dir():
        raise CommandError(f"cannot save {record}: no folder {str(record.parent)!r}", code=2)
    converter = _load_converter(options.converter) if options.converter else None
    client = await _connect(
        options.address, options.namespace, converter, client_options={"runtime": _quiet_runtime()}
    )
    workflow_id: str = options.workflow_id
    view: BarsView | PlainView
    if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        from rich.console import Console

        view = BarsView(Console(), workflow_id)
    else:
        view = PlainView(sys.stdout, workflow_id)
    try:
        status = await watch_run(
            client, workflow_id, run_id=options.run_id, interval=options.interval, view=view
        )
    except temporalio.service.RPCError as exc:
        _describe_failed(exc, workflow_id, options.run_id, client.namespace)
    finally:
        if isinstance(view, BarsView):
            view.stop()
    if isinstance(view, BarsView):
        print(view.closing_line(), flush=True)
    if record is not None:
        _record(record, view, workflow_id)
    return status


def _quiet_runtime() -> temporalio.runtime.Runtime:
    """Return a runtime whose core logs (connection retries) go to a logger that prints nothing.

    Temporal's core otherwise writes its ``WARN temporalio_client::retry`` lines to
    stderr, into the middle of the live view.
    """
    quiet = logging.getLogger("fnact.watch.core")
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    forwarding = temporalio.runtime.LogForwardingConfig(logger=quiet)
    logs = temporalio.runtime.LoggingConfig(
        filter=temporalio.runtime.TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=forwarding,
    )
    return temporalio.runtime.Runtime(telemetry=temporalio.runtime.TelemetryConfig(logging=logs))


def _describe_failed(
    exc: temporalio.service.RPCError, workflow_id: str, run_id: str | None, namespace: str
) -> NoReturn:
    if exc.status is temporalio.service.RPCStatusCode.NOT_FOUND:
        if "namespace" in exc.message.lower():
            raise CommandError(exc.message) from None
        run = f" run {run_id!r}" if run_id else ""
        raise CommandError(f"no workflow {workflow_id!r}{run} in namespace {namespace!r}") from None
    raise CommandError(f"cannot describe workflow {workflow_id!r}: {exc.message}") from None


def _record(path: Path, view: BarsView | PlainView, workflow_id: str) -> None:
    """Save the final frame (bars) or every line printed (plain) as an SVG image."""
    from rich.console import Console

    recorder = Console(record=True, file=io.StringIO(), width=110, force_terminal=True)
    if isinstance(view, BarsView):
        recorder.print(view.frame())
    else:
        for line in view.lines:
            recorder.print(line, markup=False)
    try:
        recorder.save_svg(str(path), title=f"fnact watch {workflow_id}")
    except OSError as exc:
        raise CommandError(f"cannot save {path}: {exc.strerror or exc}") from None
