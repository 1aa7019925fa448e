"""The three versions of examples/comparison, and every claim docs/explanation/comparison.md makes.

The activities run in-process (plain and base-class through Temporal's
ActivityEnvironment, fnact through its ActivityHarness); the workflows run on the dev server.
"""

# --8<-- [start:imports]
from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import temporalio.client
from returns.result import Failure, Result
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import fnact
from examples.comparison import base_class, plain
from examples.comparison.base_class import OrdersActivities
from examples.comparison.shop import (
    LoginRejectedError,
    Order,
    Summary,
    SummaryArgs,
    Vault,
    change_password,
    create_shop,
)
from examples.comparison.with_fnact import (
    Container,
    CustomerNotFound,
    FetchOrders,
    LoginRejected,
    fetch_orders,
)
from examples.comparison.workers import base_class_worker, fnact_worker, plain_worker
from examples.comparison.workflows import BaseClassOrderSummary, OrderSummary, PlainOrderSummary
from fnact.testing import (
    ActivityHarness,
    StateCounts,
    activity_info,
    assert_failure,
    assert_success,
)
from fnact.worker import DevServer

# --8<-- [end:imports]

ROOT = Path(__file__).resolve().parents[2]
# --8<-- [start:orders_2025]
ORDERS_2025 = [Order(1, 1200), Order(2, 3400)]  # customer 7's orders in the 2025 shop
# --8<-- [end:orders_2025]


@pytest.fixture
def shop_2025(tmp_path: Path) -> str:
    """A shop database where customer 7 has two orders and customer 8 none."""
    return create_shop(tmp_path / "shop-2025.db", orders={7: [1200, 3400], 8: []})


@pytest.fixture
def shop_2026(tmp_path: Path) -> str:
    """A later shop database where customer 7 has a single order."""
    return create_shop(tmp_path / "shop-2026.db", orders={7: [990]})


@pytest.fixture
def vault() -> Vault:
    """A vault holding the shops' current credentials."""
    return Vault("reports", "s3cret")


# --8<-- [start:environment]
def environment(
    workflow_id: str = "summary-7", run_id: str = "run-1", attempt: int = 1
) -> ActivityEnvironment:
    """Return Temporal's in-process activity environment for one attempt of one run."""
    env = ActivityEnvironment()
    env.info = activity_info(workflow_id=workflow_id, workflow_run_id=run_id, attempt=attempt)
    return env


# --8<-- [end:environment]


# --- plain Temporal --------------------------------------------------------------------


# --8<-- [start:test_plain]
async def test_plain_not_found_is_a_non_retryable_application_error(
    monkeypatch: pytest.MonkeyPatch, vault: Vault, shop_2025: str
) -> None:
    """The plain activity raises ApplicationError(type="CustomerNotFound", non_retryable=True)."""
    monkeypatch.setattr(plain, "vault", vault)  # the module-level client, patched
    with pytest.raises(ApplicationError) as raised:
        await environment().run(plain.fetch_orders, SummaryArgs(shop_2025, customer_id=99))
    assert raised.value.type == "CustomerNotFound"
    assert raised.value.non_retryable


# --8<-- [end:test_plain]


async def test_plain_returns_orders_and_connects_on_every_call(
    monkeypatch: pytest.MonkeyPatch, vault: Vault, shop_2025: str
) -> None:
    """Each call of the plain activity fetches credentials and opens a connection of its own."""
    monkeypatch.setattr(plain, "vault", vault)
    env = environment()
    assert await env.run(plain.fetch_orders, SummaryArgs(shop_2025, 7)) == ORDERS_2025
    assert await env.run(plain.fetch_orders, SummaryArgs(shop_2025, 8)) == []
    assert vault.fetches == 2


# --- base class ------------------------------------------------------------------------


@pytest.fixture
def activities(vault: Vault) -> Iterator[OrdersActivities]:
    """The base-class activities with the test's vault; closes the connections it leaks."""
    instance = OrdersActivities()
    instance.vault = vault  # built in __init__: replaced after the fact
    yield instance
    for state in instance.state.values():
        state.handler.close()


async def test_base_class_returns_orders_and_fails_not_found_by_hand(
    activities: OrdersActivities, shop_2025: str
) -> None:
    """The base-class activity returns orders, and raises a non-retryable error by hand."""
    env = environment()
    assert (
        await env.run(activities.fetch_orders, {"database": shop_2025, "customer_id": 7})
        == ORDERS_2025
    )
    with pytest.raises(ApplicationError) as raised:
        await env.run(activities.fetch_orders, {"database": shop_2025, "customer_id": 99})
    assert (raised.value.type, raised.value.non_retryable) == ("CustomerNotFound", True)


# --8<-- [start:test_pitfall_workflow_id]
async def test_base_class_serves_run_1s_database_to_run_2_of_the_same_workflow_id(
    activities: OrdersActivities, shop_2025: str, shop_2026: str
) -> None:
    """Run 2 of workflow "summary-7" asks for the 2026 shop and gets run 1's 2025 data."""
    run_1 = environment("summary-7", run_id="run-1")
    run_2 = environment("summary-7", run_id="run-2")
    await run_1.run(activities.fetch_orders, {"database": shop_2025, "customer_id": 7})
    orders = await run_2.run(activities.fetch_orders, {"database": shop_2026, "customer_id": 7})
    assert orders == ORDERS_2025  # the 2026 shop has one order of 990 cents
    assert activities.state["summary-7"].workflow_args["database"] == shop_2025


# --8<-- [end:test_pitfall_workflow_id]


async def test_base_class_never_releases_a_failed_runs_state(
    activities: OrdersActivities, shop_2025: str
) -> None:
    """After a non-retryable failure the run's state and open connection stay in the dict."""
    with pytest.raises(ApplicationError):
        await environment().run(activities.fetch_orders, {"database": shop_2025, "customer_id": 99})
    assert list(activities.state) == ["summary-7"]
    assert not activities.state["summary-7"].handler.closed


async def test_base_class_retries_a_rejected_login_with_the_same_stale_credentials(
    activities: OrdersActivities, vault: Vault, shop_2025: str
) -> None:
    """The retry after a rotated password reuses the stale handler, though the vault is current."""
    change_password(shop_2025, "reports", "n3w")
    args = {"database": shop_2025, "customer_id": 7}
    with pytest.raises(LoginRejectedError):
        await environment(attempt=1).run(activities.fetch_orders, args)
    vault.rotate("n3w")
    with pytest.raises(LoginRejectedError):
        await environment(attempt=2).run(activities.fetch_orders, args)
    assert vault.fetches == 1


# --8<-- [start:test_base_refresh]
async def test_base_class_refreshes_after_15_minutes_only_under_a_patched_clock(
    activities: OrdersActivities, monkeypatch: pytest.MonkeyPatch, shop_2025: str
) -> None:
    """The hard-coded 15 minutes can only be tested by patching datetime; the old handler leaks."""
    args = {"database": shop_2025, "customer_id": 7}
    await environment().run(activities.fetch_orders, args)
    first = activities.state["summary-7"].handler

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:
            return cast(Later, datetime.now(tz) + timedelta(minutes=16))

    monkeypatch.setattr(base_class, "datetime", Later)
    await environment().run(activities.fetch_orders, args)
    assert activities.state["summary-7"].handler is not first
    assert not first.closed  # replaced, never closed
    first.close()


# --8<-- [end:test_base_refresh]


# --- fnact -----------------------------------------------------------------------------


@pytest.fixture
def harness(tmp_path: Path, vault: Vault, shop_2025: str) -> Iterator[ActivityHarness]:
    """A harness on the fnact version's container, run "summary-7"/"run-1" on the 2025 shop."""
    args = SummaryArgs(shop_2025, customer_id=7)
    with ActivityHarness(
        Container(),
        output_root=tmp_path,
        workflow_args=args,
        workflow_id="summary-7",
        run_id="run-1",
    ) as harness:
        harness.override(vault=vault)
        yield harness


# --8<-- [start:test_fnact]
async def test_fnact_not_found_is_a_typed_failure_and_keeps_the_run_state(
    harness: ActivityHarness,
) -> None:
    """Failure(CustomerNotFound) comes back typed; the run's connection stays open for it."""
    run = await harness.run(fetch_orders, FetchOrders(customer_id=99))
    assert_failure(run.unwrap(), CustomerNotFound, CustomerNotFound(customer_id=99))
    assert run.state == StateCounts(builds=1)


# --8<-- [end:test_fnact]


async def test_fnact_returns_the_orders_of_the_runs_database(harness: ActivityHarness) -> None:
    """The handler is built once from the run's workflow arguments and kept for the run."""
    run = await harness.run(fetch_orders, FetchOrders(customer_id=7))
    assert_success(run.unwrap(), ORDERS_2025)
    assert run.state == StateCounts(builds=1)


async def test_fnact_rejected_login_releases_state_so_the_retry_logs_in_afresh(
    harness: ActivityHarness, vault: Vault, shop_2025: str
) -> None:
    """A retryable Failure drops the stale handler: attempt 2 fetches the rotated password."""
    change_password(shop_2025, "reports", "n3w")
    runs = await harness.run_retries(
        fetch_orders, FetchOrders(7), max_attempts=5, between=lambda run: vault.rotate("n3w")
    )
    assert [run.attempt for run in runs] == [1, 2]
    assert_failure(runs[0].unwrap(), LoginRejected, LoginRejected(user="reports"))
    assert runs[0].state == StateCounts(builds=1, releases=1, closes=1)
    assert_success(runs[1].unwrap(), ORDERS_2025)
    assert vault.fetches == 2


async def test_fnact_gives_each_run_of_a_workflow_id_its_own_state(
    harness: ActivityHarness, shop_2026: str
) -> None:
    """Run 2 of "summary-7" reads the 2026 shop it was started with, not run 1's."""
    await harness.run(fetch_orders, FetchOrders(7))
    harness.run_id, harness.workflow_args = "run-2", SummaryArgs(shop_2026, 7)
    run = await harness.run(fetch_orders, FetchOrders(7))
    assert_success(run.unwrap(), [Order(1, 990)])
    assert run.state == StateCounts(builds=1)


# --8<-- [start:test_fnact_refresh]
async def test_fnact_rebuilds_the_handler_after_the_ttl_and_closes_the_old_one(
    harness: ActivityHarness,
) -> None:
    """With the container's FakeClock, the 15-minute TTL is a clock move, not a patch."""
    await harness.run(fetch_orders, FetchOrders(7))
    harness.clock.advance(timedelta(minutes=15))
    run = await harness.run(fetch_orders, FetchOrders(7))
    assert run.state == StateCounts(builds=1, refreshes=1, closes=1)


# --8<-- [end:test_fnact_refresh]


def test_faults_declare_how_temporal_retries_them() -> None:
    """CustomerNotFound is final; LoginRejected is retried after ten seconds."""
    assert CustomerNotFound.non_retryable
    assert CustomerNotFound(customer_id=1).retry_delay() is None
    assert not LoginRejected.non_retryable
    assert LoginRejected(user="reports").retry_delay() == timedelta(seconds=10)


class Unexpected(fnact.Fault):
    """An error type the activity does not declare."""

    detail: str


@fnact.activity
async def mistyped(ctx: fnact.ActivityContext, args: FetchOrders) -> Result[int, CustomerNotFound]:
    """Return a Failure of a type missing from its declared errors (mypy would refuse it)."""
    return Failure(cast(CustomerNotFound, Unexpected(detail="not in the union")))


@fnact.activity
async def unencodable(
    ctx: fnact.ActivityContext, args: FetchOrders
) -> Result[int, CustomerNotFound]:
    """Return a Failure holding an exception instance, which msgspec cannot encode."""
    return Failure(cast(CustomerNotFound, ValueError("an exception is not a value")))


async def test_an_undeclared_error_type_stays_an_exception(harness: ActivityHarness) -> None:
    """A Failure of an undeclared type is not rebuilt: the caller sees its ApplicationError."""
    run = await harness.run(mistyped, FetchOrders(7))
    assert run.result is None
    assert isinstance(run.exception, ApplicationError)
    assert (run.exception.type, run.exception.non_retryable) == ("Unexpected", True)


async def test_an_unencodable_failure_fails_once_naming_its_type(
    harness: ActivityHarness,
) -> None:
    """A Failure whose value msgspec cannot encode fails non-retryable, naming the type."""
    run = await harness.run(unencodable, FetchOrders(7))
    assert isinstance(run.exception, ApplicationError)
    assert (run.exception.type, run.exception.non_retryable) == ("UnencodableFailure", True)
    assert "ValueError" in str(run.exception)


# --- lines of code ---------------------------------------------------------------------


def code_lines(path: str, section: str) -> int:
    """Count a snippet section's lines of code: no blank lines, comments or docstrings."""
    source = (ROOT / path).read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(value.lineno, (value.end_lineno or value.lineno) + 1))
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if f"[start:{section}]" in line)
    end = next(i for i, line in enumerate(lines) if f"[end:{section}]" in line)
    return sum(
        1
        for number in range(start + 2, end + 1)  # 1-based line numbers inside the markers
        if number not in docstrings
        and lines[number - 1].strip()
        and not lines[number - 1].strip().startswith("#")
    )


def test_lines_of_code_quoted_on_the_comparison_page() -> None:
    """The line counts in the comparison page's table are those of the example files."""
    activity = {
        "plain": code_lines("examples/comparison/plain.py", "activity"),
        "base class": code_lines("examples/comparison/base_class.py", "activities"),
        "fnact": sum(
            code_lines("examples/comparison/with_fnact.py", section)
            for section in ("faults", "container", "activity")
        ),
    }
    workflow = {
        name: code_lines("examples/comparison/workflows.py", section)
        for name, section in (("plain", "plain"), ("base class", "base_class"), ("fnact", "fnact"))
    }
    assert activity == {"plain": 13, "base class": 17, "fnact": 28}
    assert workflow == {"plain": 16, "base class": 16, "fnact": 16}
    assert code_lines("examples/comparison/base_class.py", "base") == 19


# --- the workflows, on the dev server --------------------------------------------------


@pytest.fixture
async def plain_client(temporal_server: DevServer) -> temporalio.client.Client:
    """A client with Temporal's default data converter, as plain Temporal code uses."""
    return await temporalio.client.Client.connect(temporal_server.address)


def workflow_id() -> str:
    """Return a fresh workflow id."""
    return f"summary-{uuid.uuid4().hex[:8]}"


@pytest.mark.integration
async def test_plain_workflow_matches_the_failure_type_by_string(
    plain_client: temporalio.client.Client,
    fnact_task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
    vault: Vault,
    shop_2025: str,
) -> None:
    """The plain workflow summarizes customer 7 and returns None for a missing customer."""
    monkeypatch.setattr(plain, "vault", vault)
    async with plain_worker(plain_client, fnact_task_queue):
        found = await plain_client.execute_workflow(
            PlainOrderSummary.run,
            SummaryArgs(shop_2025, 7),
            id=workflow_id(),
            task_queue=fnact_task_queue,
        )
        missing = await plain_client.execute_workflow(
            PlainOrderSummary.run,
            SummaryArgs(shop_2025, 99),
            id=workflow_id(),
            task_queue=fnact_task_queue,
        )
    assert found == Summary(7, orders=2, total_cents=4600)
    assert missing is None


@pytest.mark.integration
async def test_base_class_workflow_id_reuse_reads_the_first_runs_database(
    plain_client: temporalio.client.Client,
    fnact_task_queue: str,
    activities: OrdersActivities,
    shop_2025: str,
    shop_2026: str,
) -> None:
    """On a real server, a second run under the same workflow id summarizes the first run's shop."""
    same_id = workflow_id()
    async with base_class_worker(plain_client, fnact_task_queue, activities):
        for database in (shop_2025, shop_2026):
            summary = await plain_client.execute_workflow(
                BaseClassOrderSummary.run,
                {"database": database, "customer_id": 7},
                id=same_id,
                task_queue=fnact_task_queue,
            )
            assert summary == Summary(7, orders=2, total_cents=4600)  # 2025's, both times


@pytest.fixture
def container(tmp_path: Path, vault: Vault) -> Iterator[Container]:
    """The fnact version's container, with the test's vault."""
    container = Container()
    container.settings.override(fnact.Settings(output_root=tmp_path / "out"))
    container.vault.override(vault)
    yield container
    container.reset_override()


@pytest.mark.integration
async def test_fnact_workflow_gets_typed_results_and_a_state_per_run(
    temporal_client: temporalio.client.Client,
    fnact_task_queue: str,
    container: Container,
    shop_2025: str,
    shop_2026: str,
) -> None:
    """OrderSummary matches CustomerNotFound by type, and each run reads its own database."""
    same_id = workflow_id()
    async with fnact_worker(temporal_client, fnact_task_queue, container):
        first = await temporal_client.execute_workflow(
            OrderSummary.run, SummaryArgs(shop_2025, 7), id=same_id, task_queue=fnact_task_queue
        )
        second = await temporal_client.execute_workflow(
            OrderSummary.run, SummaryArgs(shop_2026, 7), id=same_id, task_queue=fnact_task_queue
        )
        missing = await temporal_client.execute_workflow(
            OrderSummary.run,
            SummaryArgs(shop_2025, 99),
            id=workflow_id(),
            task_queue=fnact_task_queue,
        )
    assert first == Summary(7, orders=2, total_cents=4600)
    assert second == Summary(7, orders=1, total_cents=990)
    assert missing is None
