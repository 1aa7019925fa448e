"""``fnact check``: its arguments, and checking recorded runs against today's activity types."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import temporalio.service

from fnact._activity import Activity
from fnact._cli.connection import add_connection_arguments, connect_client
from fnact._cli.errors import CommandError
from fnact._cli.loading import load_target
from fnact._history_check import RecordedRun, check_runs, runs_from_client, runs_from_files
from fnact._worker._spec import WorkerSpec

__all__ = ["add_parser", "handle"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` command and its arguments to the root parser's ``commands``."""
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
    add_connection_arguments(check)
    check.set_defaults(command=handle)


def handle(options: argparse.Namespace) -> int:
    """Print the check of the runs ``options`` give; return 0 if every value decodes, else 1.

    Raises:
        CommandError: no runs were given, or they cannot be read.
    """
    if not (options.history or options.workflow_id or options.query):
        raise CommandError("give runs to check: --history, --workflow-id or --query", code=2)
    activities = _activities(load_target(options.target), options.target)
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
    client = await connect_client(options.address, options.namespace)
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
