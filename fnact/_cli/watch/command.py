"""``fnact watch``: its arguments, and watching a run in a view until it closes."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import temporalio.converter
import temporalio.runtime
import temporalio.service
from temporalio.client import ActivityExecutionStatus, WorkflowExecutionStatus

from fnact._cli.argument_types import positive_seconds
from fnact._cli.connection import add_connection_arguments, connect_client
from fnact._cli.errors import CommandError
from fnact._cli.loading import load_target
from fnact._cli.watch.poller import watch_run
from fnact._cli.watch.standalone import watch_activity
from fnact._cli.watch.views import BarsView, PlainView

__all__ = ["add_parser", "handle"]

_SUCCESS = (WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.CONTINUED_AS_NEW)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``watch`` command and its arguments to the root parser's ``commands``."""
    watch = commands.add_parser(
        "watch",
        help="show live progress of a run's activities until it closes",
        description="Show each pending activity of a run with its state, attempt, progress "
        "and last message, read from its heartbeats (fnact progress counts as percent). "
        "Prints plain lines when stdout is not a terminal. Exits 0 when the run completes, "
        "1 when it fails, is cancelled, terminated or times out.",
    )
    watch.add_argument("workflow_id", metavar="ID", help="the workflow id (or activity id)")
    watch.add_argument("--run-id", help="watch this run (default: the latest run)")
    watch.add_argument(
        "--activity",
        action="store_true",
        help="ID is a standalone activity's (one a client started, no workflow): print a "
        "line at each change of its state, attempt or progress until it closes",
    )
    add_connection_arguments(watch)
    watch.add_argument(
        "--interval",
        type=positive_seconds,
        default=0.5,
        help="seconds between looks (default: 0.5)",
    )
    watch.add_argument("--record", type=Path, metavar="FILE.svg", help="save the output as SVG")
    watch.add_argument(
        "--converter",
        metavar="MODULE:ATTR",
        help="a DataConverter (or a function returning one) whose payload codec decrypts "
        "heartbeat details, as your workers use",
    )
    watch.set_defaults(command=handle)


def handle(options: argparse.Namespace) -> int:
    """Watch the run ``options`` name until it closes; return 0 if it completed, else 1."""
    if options.activity:
        activity_status = asyncio.run(_watch_activity(options))
        return 0 if activity_status is ActivityExecutionStatus.COMPLETED else 1
    status = asyncio.run(_watch_run(options))
    return 0 if status in _SUCCESS else 1


async def _watch_activity(options: argparse.Namespace) -> ActivityExecutionStatus:
    converter = _load_converter(options.converter) if options.converter else None
    client = await connect_client(
        options.address, options.namespace, converter, client_options={"runtime": _quiet_runtime()}
    )
    activity_id: str = options.workflow_id
    try:
        return await watch_activity(
            client, activity_id, run_id=options.run_id, interval=options.interval, out=sys.stdout
        )
    except temporalio.service.RPCError as exc:
        if exc.status is temporalio.service.RPCStatusCode.NOT_FOUND:
            raise CommandError(
                f"no standalone activity {activity_id!r} in namespace {client.namespace!r}"
            ) from None
        raise CommandError(f"cannot describe activity {activity_id!r}: {exc.message}") from None


async def _watch_run(options: argparse.Namespace) -> WorkflowExecutionStatus:
    record: Path | None = options.record
    if record is not None and not record.parent.is_dir():
        raise CommandError(f"cannot save {record}: no folder {str(record.parent)!r}", code=2)
    converter = _load_converter(options.converter) if options.converter else None
    client = await connect_client(
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


def _load_converter(target: str) -> temporalio.converter.DataConverter:
    """Import ``module:attr``: a DataConverter, or a no-argument function returning one."""
    found: Any = load_target(target)
    if callable(found) and not isinstance(found, temporalio.converter.DataConverter):
        found = found()
    if not isinstance(found, temporalio.converter.DataConverter):
        raise CommandError(
            f"{target} must be a temporalio DataConverter or a function returning one, "
            f"not {type(found).__qualname__}",
            code=2,
        )
    return found


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
