"""An activity recorded with v1 types, and the ways a team might change them.

The workflow sandbox re-imports this module, so it holds no test code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from dependency_injector import providers
from returns.result import Failure, Result, Success
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    import fnact
    import fnact.workflow


class RunInput(msgspec.Struct, frozen=True):
    """The workflow's input; the activity's run state is built from it."""

    source: str
    table: str


class LoadArgs(msgspec.Struct, frozen=True):
    """v1 input of `load`."""

    table: str
    limit: int


class Loaded(msgspec.Struct, frozen=True):
    """v1 result of `load`."""

    rows: int


class TableMissing(fnact.Fault):
    """v1 error: the table does not exist."""

    table: str


class Locked(fnact.Fault):
    """v1 error: someone holds the table."""

    holder: str


class Cursor(msgspec.Struct, frozen=True):
    """v1 checkpoint of `load`."""

    row: int


class Container(fnact.Container):
    """The run state's handler is the run's source."""

    handler = providers.Callable(lambda workflow_args: workflow_args.source)


def load_with(
    args: Any = LoadArgs,
    result: Any = Loaded,
    errors: Any = TableMissing | Locked,
    checkpoint: Any = Cursor,
    run_input: Any = RunInput,
) -> fnact.Activity[Any, Any, Any]:
    """Return the `load` activity declared with these types (v1's by default)."""

    async def load(ctx: Any, request: Any) -> Any:
        if request.table == "missing":
            return Failure(TableMissing(table=request.table))
        if request.table == "flaky":
            ctx.checkpoint(Cursor(row=7))
            raise ConnectionError("lost the connection")  # retried in a minute: still pending
        return Success(Loaded(rows=request.limit))

    load.__annotations__ = {
        "ctx": fnact.ActivityContext[str, run_input],
        "request": args,
        "return": Result[result, errors],
    }
    activity: fnact.Activity[Any, Any, Any] = fnact.activity(
        name="load",
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=RetryPolicy(initial_interval=timedelta(minutes=1), maximum_attempts=3),
        checkpoint=checkpoint,
    )(load)
    return activity


load = load_with()


@workflow.defn
class Loads:
    """Load the run's table once."""

    @workflow.run
    async def run(self, run: RunInput) -> str:
        """Run `load` on the run's table and say what came back."""
        result = await fnact.workflow.execute_activity(load, LoadArgs(table=run.table, limit=5))
        return repr(result)


# Today's code, changed in each way the tests try.
class LoadArgsOptional(msgspec.Struct, frozen=True):
    table: str
    limit: int
    schema: str = "public"


class LoadArgsRequired(msgspec.Struct, frozen=True):
    table: str
    limit: int
    schema: str


class LoadArgsRenamed(msgspec.Struct, frozen=True):
    table_name: str
    limit: int


class LoadArgsRenamedWithDefault(msgspec.Struct, frozen=True):
    limit: int
    table_name: str = ""


class LoadArgsRetyped(msgspec.Struct, frozen=True):
    table: str
    limit: str


class LoadedRetyped(msgspec.Struct, frozen=True):
    rows: str


class CursorRenamed(msgspec.Struct, frozen=True):
    position: int


class RunInputRenamed(msgspec.Struct, frozen=True):
    origin: str
    table: str


CHANGES: dict[str, fnact.Activity[Any, Any, Any]] = {
    "unchanged": load,
    "optional field added": load_with(args=LoadArgsOptional),
    "required field added": load_with(args=LoadArgsRequired),
    "field renamed": load_with(args=LoadArgsRenamed),
    "field renamed, with a default": load_with(args=LoadArgsRenamedWithDefault),
    "field retyped": load_with(args=LoadArgsRetyped),
    "result retyped": load_with(result=LoadedRetyped),
    "error class removed": load_with(errors=Locked),
    "checkpoint renamed": load_with(checkpoint=CursorRenamed),
    "workflow input renamed": load_with(run_input=RunInputRenamed),
}
"""Today's `load`, by the change made to it since the runs were recorded."""


def changed(change: str) -> list[fnact.Activity[Any, Any, Any]]:
    """Today's activities after ``change``: what ``fnact check`` is given."""
    return [CHANGES[change]]


def required_field_added() -> list[fnact.Activity[Any, Any, Any]]:
    """Today's activities after adding a required field to the input."""
    return changed("required field added")


def changed_errors() -> list[fnact.Activity[Any, Any, Any]]:
    """Today's activities after removing TableMissing from the declared errors."""
    return changed("error class removed")
