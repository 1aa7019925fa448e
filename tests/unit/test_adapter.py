"""Activities run through the worker's adapter: DI, state, outcomes, the watchdog's contract."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import msgspec
import pytest
from dependency_injector import providers
from dependency_injector.wiring import Provide, Provider
from returns.result import Failure, Result, Success
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

import fnact
import fnact.worker
from fnact._adapter import BODY_STEP_CODE, _Steps, attempt_in_body_step
from fnact.exceptions import DependencyError
from fnact.testing import run_activity


class Query(msgspec.Struct):
    table: str


class WorkflowArgs(msgspec.Struct):
    tenant: str


class Missing(fnact.Fault):
    table: str


@dataclass
class Database:
    name: str
    tables: dict[str, int] = field(default_factory=lambda: {"users": 3})


@dataclass
class Session:
    tenant: str
    closed: bool = False

    def close(self) -> None:
        self.closed = True


class AppContainer(fnact.Container):
    db = providers.Singleton(Database, name="real")
    handler = providers.Factory(lambda workflow_args: Session(workflow_args.tenant))


@fnact.activity
async def count_rows(
    ctx: fnact.ActivityContext[Session, WorkflowArgs],
    query: Query,
    db: Database = Provide[AppContainer.db],
) -> Result[str, Missing]:
    if query.table not in db.tables:
        return Failure(Missing(table=query.table))
    return Success(f"{ctx.state.handler.tenant}:{db.name}:{db.tables[query.table]}")


@fnact.activity
async def crash(
    ctx: fnact.ActivityContext[Session, WorkflowArgs], query: Query
) -> Result[str, Missing]:
    raise RuntimeError(f"bug while reading {query.table}")


@fnact.activity
async def lazy_provider(
    ctx: fnact.ActivityContext,
    query: Query,
    make_db: providers.Provider[Database] = Provider[AppContainer.db],
) -> Result[str, Missing]:
    return Success(make_db().name)


@fnact.activity
async def not_a_result(ctx: fnact.ActivityContext, query: Query) -> Result[str, Missing]:
    return "oops"  # type: ignore[return-value]


@fnact.activity
async def where(ctx: fnact.ActivityContext, query: Query) -> Result[str, Missing]:
    ctx.logger.info("writing", table=query.table)
    return Success(str(ctx.write_output(f"{query.table}.txt", "hi")))


ARGS = WorkflowArgs(tenant="acme")


@pytest.fixture
def container() -> AppContainer:
    return AppContainer()


async def test_success_value_and_state(container: AppContainer) -> None:
    """Dependencies and the run's state reach the function; Success returns its value."""
    result = await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    assert result == Success("acme:real:3")


async def test_override_takes_effect_between_calls_and_is_undone(container: AppContainer) -> None:
    """container.db.override(fake) changes the next call's dependency; reset restores it."""
    fake = Database(name="fake", tables={"users": 99})
    assert await run_activity(
        count_rows, Query("users"), container=container, workflow_args=ARGS
    ) == Success("acme:real:3")
    with container.db.override(providers.Object(fake)):
        assert await run_activity(
            count_rows, Query("users"), container=container, workflow_args=ARGS
        ) == Success("acme:fake:99")
    assert await run_activity(
        count_rows, Query("users"), container=container, workflow_args=ARGS
    ) == Success("acme:real:3")


async def test_async_provider_override_is_awaited(container: AppContainer) -> None:
    """An async provider (a coroutine factory) is awaited before the call."""

    async def make() -> Database:
        return Database(name="async")

    container.db.override(providers.Factory(make))
    try:
        result = await run_activity(
            count_rows, Query("users"), container=container, workflow_args=ARGS
        )
    finally:
        container.db.reset_override()
    assert result == Success("acme:async:3")


async def test_provider_marker_injects_the_provider(container: AppContainer) -> None:
    """A Provider[...] marker injects the provider itself, called by the activity."""
    assert await run_activity(lazy_provider, Query("x"), container=container) == Success("real")


async def test_failure_comes_back_typed(container: AppContainer) -> None:
    """Failure(e) comes back as Failure of e's own type, through the converter."""
    result = await run_activity(count_rows, Query("nope"), container=container, workflow_args=ARGS)
    assert result == Failure(Missing(table="nope"))


class SessionExpired(fnact.Fault):
    """The run's session is no longer valid: its state is suspect."""

    releases_state = True


@fnact.activity
async def expire_session(
    ctx: fnact.ActivityContext[Session, WorkflowArgs], query: Query
) -> Result[str, SessionExpired]:
    return Failure(SessionExpired())


class ConnectionLost(Exception):
    """A raised error that asks for a fresh state on the retry."""

    releases_state = True


@fnact.activity
async def lose_connection(
    ctx: fnact.ActivityContext[Session, WorkflowArgs], query: Query
) -> Result[str, Missing]:
    raise ConnectionLost("the database went away")


@fnact.activity
async def reject(ctx: fnact.ActivityContext, query: Query) -> Result[str, SessionExpired]:
    return Failure(SessionExpired())


async def test_an_expected_failure_keeps_the_run_state(container: AppContainer) -> None:
    """A Failure of an undeclared fault keeps the run's state: the next activity reuses it."""
    store = container.state_store()
    await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    await run_activity(count_rows, Query("nope"), container=container, workflow_args=ARGS)
    await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    assert len(store) == 1
    assert (store.stats.builds, store.stats.releases, store.stats.closes) == (1, 0, 0)


async def test_a_fault_declaring_releases_state_releases_it_once(container: AppContainer) -> None:
    """A Failure whose fault declares releases_state releases the state and closes it once."""
    store = container.state_store()
    await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    await run_activity(expire_session, Query("x"), container=container, workflow_args=ARGS)
    assert len(store) == 0
    await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    assert (store.stats.builds, store.stats.releases, store.stats.closes) == (2, 1, 1)


async def test_a_raised_error_declaring_releases_state_gets_a_fresh_state(
    container: AppContainer,
) -> None:
    """An exception with releases_state = True is retried with the state built anew."""
    store = container.state_store()
    await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    with pytest.raises(ConnectionLost):
        await run_activity(lose_connection, Query("x"), container=container, workflow_args=ARGS)
    assert (store.stats.builds, store.stats.releases) == (1, 1)


async def test_an_activity_without_state_never_releases_it(container: AppContainer) -> None:
    """A declared fault from an activity that does not use run state leaves the state alone."""
    store = container.state_store()
    await run_activity(count_rows, Query("users"), container=container, workflow_args=ARGS)
    await run_activity(reject, Query("x"), container=container, workflow_args=ARGS)
    assert len(store) == 1
    assert store.stats.releases == 0


async def test_exception_keeps_state_while_attempts_remain(container: AppContainer) -> None:
    """An exception with attempts left propagates and keeps the run's state for the retry."""
    store = container.state_store()
    with pytest.raises(RuntimeError, match="bug while reading users"):
        await run_activity(crash, Query("users"), container=container, workflow_args=ARGS,
                           attempt=1, retry_policy=RetryPolicy(maximum_attempts=3))  # fmt: skip
    assert len(store) == 1


async def test_exception_on_last_attempt_releases_state(container: AppContainer) -> None:
    """An exception on the final attempt propagates and releases the run's state."""
    store = container.state_store()
    with pytest.raises(RuntimeError):
        await run_activity(crash, Query("users"), container=container, workflow_args=ARGS,
                           attempt=3, retry_policy=RetryPolicy(maximum_attempts=3))  # fmt: skip
    assert len(store) == 0
    assert store.stats.closes == 1


async def test_bad_input_is_non_retryable_and_names_the_field(container: AppContainer) -> None:
    """Input that does not decode raises a non-retryable error with msgspec's path."""
    with pytest.raises(ApplicationError) as caught:
        await run_activity(count_rows, {"table": 5}, container=container, workflow_args=ARGS)  # type: ignore[arg-type]
    assert caught.value.non_retryable
    assert caught.value.type == "InvalidActivityInput"
    assert "$.table" in caught.value.message


async def test_non_result_return_is_a_non_retryable_error(container: AppContainer) -> None:
    """Returning something other than a Result fails without retry, naming the activity."""
    with pytest.raises(ApplicationError, match="'not_a_result' returned str") as caught:
        await run_activity(not_a_result, Query("x"), container=container)
    assert caught.value.non_retryable


async def test_missing_workflow_args_is_a_clear_state_error(container: AppContainer) -> None:
    """In a test, missing workflow arguments fail for good, saying to pass workflow_args=."""
    with pytest.raises(ApplicationError) as caught:
        await run_activity(count_rows, Query("users"), container=container)
    assert caught.value.non_retryable
    assert caught.value.type == "StateError"
    message = caught.value.message
    assert "declares workflow arguments of WorkflowArgs and none were given" in message
    assert "pass workflow_args= to ActivityHarness(...), to its run(...)" in message
    assert "create_worker" not in message


async def test_missing_workflow_args_on_a_worker_without_fnact_names_create_worker(
    container: AppContainer,
) -> None:
    """On a worker without fnact's interceptor, the advice is to build it with create_worker."""
    import temporalio.testing
    from temporalio.common import RawValue

    from fnact._adapter import build_adapter
    from fnact._converter import to_payload

    adapter = build_adapter(count_rows.definition, container)
    env = temporalio.testing.ActivityEnvironment()
    env.info = fnact.testing.activity_info()
    with pytest.raises(ApplicationError) as caught:
        await env.run(adapter, RawValue(to_payload(Query("users"))))
    assert caught.value.type == "StateError"
    assert "build the worker with fnact.worker.create_worker" in caught.value.message


async def test_undeclared_dependency_fails_when_the_worker_is_built() -> None:
    """An activity asking for a provider the container lacks fails at build time, by name."""

    class Other(fnact.Container):
        pass

    with pytest.raises(DependencyError) as caught:
        await run_activity(count_rows, Query("users"), container=Other(), workflow_args=ARGS)
    message = str(caught.value)
    assert "parameter 'db' asks for AppContainer.db, which Other does not provide" in message
    assert " at 0x" not in message


class Storage(fnact.Container):
    bucket = providers.Object("exports")


class NestedApp(fnact.Container):
    storage = providers.Container(Storage)


@fnact.activity
async def upload(
    ctx: fnact.ActivityContext, query: Query, bucket: str = Provide[NestedApp.storage.bucket]
) -> Result[str, Missing]:
    return Success(bucket)


async def test_dependency_error_names_nested_and_unnamed_providers() -> None:
    """A nested container's provider gets a dotted name; one no container holds, its repr."""
    with pytest.raises(DependencyError, match=r"asks for NestedApp\.storage\.bucket, which "):
        await run_activity(upload, Query("x"), container=AppContainer())
    assert await run_activity(upload, Query("x"), container=NestedApp()) == Success("exports")

    loose = providers.Object(7)

    @fnact.activity
    async def stray(
        ctx: fnact.ActivityContext, query: Query, n: int = Provide[loose]
    ) -> Result[str, Missing]:
        return Success(str(n))

    with pytest.raises(DependencyError, match=r"asks for <dependency_injector\.providers\.Object"):
        await run_activity(stray, Query("x"), container=AppContainer())


async def test_output_and_logger_carry_the_run(
    container: AppContainer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Files go under root/YYYY/MM/DD/HH/MM/wf/run, and log records carry the run's fields."""
    container.settings.override(providers.Object(fnact.Settings(output_root=tmp_path)))
    caplog.set_level(logging.INFO, logger="fnact.activity")
    result = await run_activity(
        where, Query("t"), container=container, workflow_id="wf/../x", run_id="r1",
        run_started=datetime(2026, 5, 6, 7, 8, tzinfo=UTC),
    )  # fmt: skip
    path = Path(result.unwrap())
    assert path == tmp_path / "2026/05/06/07/08/wf%2F..%2Fx/r1/t.txt"
    assert path.read_text() == "hi"
    record = caplog.records[-1]
    assert record.getMessage() == "writing"
    assert record.__dict__["fields"] == {
        "workflow_id": "wf/../x", "run_id": "r1", "activity_type": "where",
        "activity_id": "test", "attempt": 1, "task_queue": "test", "table": "t",
    }  # fmt: skip
    assert record.__dict__["workflow_id"] == "wf/../x"


class Opaque:
    """Something msgspec cannot encode."""


@dataclass
class CarriesOpaque:
    thing: object


@fnact.activity
async def unencodable(
    ctx: fnact.ActivityContext[Session, WorkflowArgs], query: Query
) -> Result[str, CarriesOpaque]:
    return Failure(CarriesOpaque(Opaque()))


@fnact.activity
async def stateful_not_a_result(
    ctx: fnact.ActivityContext[Session, WorkflowArgs], query: Query
) -> Result[str, Missing]:
    return None  # type: ignore[return-value]


async def test_terminal_errors_release_the_run_state(container: AppContainer) -> None:
    """Non-Result returns and unencodable Failures fail for good, releasing the state."""
    store = container.state_store()
    for activity, kind in (
        (stateful_not_a_result, "InvalidActivityResult"),
        (unencodable, "UnencodableFailure"),
    ):
        with pytest.raises(ApplicationError) as caught:
            await run_activity(activity, Query("x"), container=container, workflow_args=ARGS)
        assert caught.value.type == kind
        assert caught.value.non_retryable
    assert (store.stats.builds, store.stats.releases, store.stats.closes) == (2, 2, 2)


async def test_mismatched_workflow_args_fail_without_retry(container: AppContainer) -> None:
    """Workflow arguments that do not decode as the declared type fail non-retryable."""
    with pytest.raises(ApplicationError) as caught:
        await run_activity(
            count_rows, Query("users"), container=container, workflow_args={"tenant": 5}
        )
    assert caught.value.non_retryable
    assert "workflow arguments do not match" in caught.value.message
    assert "$.tenant" in caught.value.message


async def test_an_input_left_in_external_storage_is_named(container: AppContainer) -> None:
    """An input Temporal could not fetch from external storage fails retryably, saying so."""
    import temporalio.testing
    from temporalio.api.common.v1 import Payload
    from temporalio.common import RawValue

    from fnact._adapter import build_adapter

    adapter = build_adapter(lazy_provider.definition, container)
    reference = Payload(metadata={"encoding": b"json/external-storage-reference"}, data=b"{}")
    with pytest.raises(ApplicationError, match="has no external storage configured") as caught:
        await temporalio.testing.ActivityEnvironment().run(adapter, RawValue(reference))
    assert caught.value.type == "ExternalStorageNotConfigured"
    assert not caught.value.non_retryable


async def test_the_watchdog_s_contract_reads_a_suspended_body_step() -> None:
    """BODY_STEP_CODE is _Steps.run's code; its suspended frame names the activity and its info."""
    assert BODY_STEP_CODE is _Steps.run.__code__
    entered, release = asyncio.Event(), asyncio.Event()

    @fnact.activity
    async def wait_for_release(ctx: fnact.ActivityContext, query: Query) -> Result[str, Missing]:
        entered.set()
        await release.wait()
        return Success(query.table)

    attempt = asyncio.ensure_future(
        run_activity(wait_for_release, Query("users"), container=AppContainer(), workflow_id="wf-9")
    )
    await entered.wait()
    frames: list[FrameType] = []
    for task in asyncio.all_tasks():  # as the watchdog does: down each task's awaits
        coro = task.get_coro()
        while coro is not None:
            if getattr(coro, "cr_code", None) is BODY_STEP_CODE:
                frames.append(coro.cr_frame)
            coro = getattr(coro, "cr_await", None)
    [frame] = frames
    name, info = attempt_in_body_step(frame)
    release.set()
    assert await attempt == Success("users")
    assert name == "wait_for_release"
    assert info is not None
    assert (info.activity_type, info.workflow_id) == ("wait_for_release", "wf-9")
