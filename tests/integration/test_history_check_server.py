"""The compatibility check on histories recorded on a real dev server with v1 types."""

from __future__ import annotations

# --8<-- [start:imports]
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import temporalio.client
import temporalio.service
from dependency_injector import providers

import fnact
import fnact.worker
from fnact.testing import check_compatibility, runs_from_client, runs_from_files
from fnact.worker import find_temporal_cli
from tests.apps.compatibility_app import CHANGES, Container, Loads, RunInput, load
from tests.cli.conftest import error_line, run_fnact
from tests.cli.conftest import fnact as fnact_command

# --8<-- [end:imports]

pytestmark = pytest.mark.integration

EXPECTED = {
    "unchanged": [],
    "optional field added": [],
    "required field added": [
        ("ok", "input", "$", "Object missing required field `schema`"),
        ("missing", "input", "$", "Object missing required field `schema`"),
        ("flaky", "input", "$", "Object missing required field `schema`"),
    ],
    "field renamed": [
        ("ok", "input", "$", "Object missing required field `table_name`"),
        ("missing", "input", "$", "Object missing required field `table_name`"),
        ("flaky", "input", "$", "Object missing required field `table_name`"),
    ],
    "field renamed, with a default": [
        ("ok", "input", "$.table", "this field is not in today's type: decoding drops its value"),
        ("missing", "input", "$.table", "this field is not in today's type: decoding drops its "
         "value"),
        ("flaky", "input", "$.table", "this field is not in today's type: decoding drops its "
         "value"),
    ],
    "field retyped": [
        ("ok", "input", "$.limit", "Expected `str`, got `int`"),
        ("missing", "input", "$.limit", "Expected `str`, got `int`"),
        ("flaky", "input", "$.limit", "Expected `str`, got `int`"),
    ],
    "result retyped": [("ok", "result", "$.rows", "Expected `str`, got `int`")],
    "error class removed": [
        ("missing", "failure", "$", "error type 'TableMissing' is no longer declared (declared: "
         "Locked): the workflow gets an exception instead of a Failure"),
    ],
    "checkpoint renamed": [
        ("flaky", "checkpoint", "$", "Object missing required field `position`"),
    ],
    "workflow input renamed": [
        ("ok", "workflow input", "$", "Object missing required field `origin`"),
        ("missing", "workflow input", "$", "Object missing required field `origin`"),
        ("flaky", "workflow input", "$", "Object missing required field `origin`"),
    ],
}  # fmt: skip
"""What the check reports after each change, by run (its table): value, path, message."""


@pytest.fixture
async def recorded(
    client: temporalio.client.Client, fnact_task_queue: str, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """Record three v1 runs: one completed, one that returned a Failure, one retrying.

    Yields each run's workflow id by its table; the retrying run is terminated after.
    """
    prefix = f"compat-{uuid.uuid4().hex[:6]}"
    ids = {table: f"{prefix}-{table}" for table in ("ok", "missing", "flaky")}
    container = Container()
    container.settings.override(providers.Object(fnact.Settings(output_root=tmp_path)))
    async with fnact.worker.create_worker(
        client, task_queue=fnact_task_queue, container=container, activities=[load],
        workflows=[Loads],
    ):  # fmt: skip
        for table in ("ok", "missing"):
            await client.execute_workflow(
                Loads.run, RunInput("warehouse", table), id=ids[table], task_queue=fnact_task_queue
            )
        flaky = await client.start_workflow(
            Loads.run, RunInput("warehouse", "flaky"), id=ids["flaky"], task_queue=fnact_task_queue
        )
        for _ in range(200):  # until its first attempt failed, leaving its checkpoint
            pending = (await flaky.describe()).raw_description.pending_activities
            if pending and pending[0].HasField("last_failure"):
                break
            await asyncio.sleep(0.05)
    yield ids
    with contextlib.suppress(temporalio.service.RPCError):
        await flaky.terminate(reason="test over")


# --8<-- [start:guard]
async def test_todays_activities_decode_the_runs_in_flight(
    client: temporalio.client.Client, recorded: dict[str, str], fnact_task_queue: str
) -> None:
    """Before a deploy: the running runs' recorded values decode with today's types."""
    running = f'ExecutionStatus = "Running" AND TaskQueue = "{fnact_task_queue}"'
    runs = await runs_from_client(client, query=running)
    for _ in range(50):  # the list reflects a new run within moments
        if runs:
            break
        await asyncio.sleep(0.1)
        runs = await runs_from_client(client, query=running)
    report = check_compatibility(runs, [load])
    assert report.ok, str(report)
    # --8<-- [end:guard]
    assert [run.workflow_id for run in runs] == [recorded["flaky"]]
    assert report.values == 3  # its input, its workflow input, its pending checkpoint


def found(report: fnact.testing.CompatibilityReport, ids: dict[str, str]) -> list[tuple[str, ...]]:
    """The report's problems as (table, value, path, message), in the runs' order."""
    table_of = {workflow_id: table for table, workflow_id in ids.items()}
    return [(table_of[p.workflow_id], p.value, p.path, p.message) for p in report.problems]


async def test_each_change_is_reported_where_it_breaks_a_recorded_value(
    client: temporalio.client.Client, recorded: dict[str, str], tmp_path: Path
) -> None:
    """From the server: the compatible changes pass, the others name run, value, path, message."""
    runs = await runs_from_client(client, workflow_ids=recorded.values())
    assert [len(run.pending) for run in runs] == [0, 0, 1]
    for change, activity in CHANGES.items():
        report = check_compatibility(runs, [activity])
        assert found(report, recorded) == EXPECTED[change], change
        assert report.ok is (not EXPECTED[change])
        assert report.runs == 3
    report = check_compatibility(runs, [CHANGES["field retyped"]])
    (first, *_) = report.problems
    assert str(first) == (
        f"{recorded['ok']} (run {first.run_id}): activity load#1 input at $.limit: "
        "Expected `str`, got `int`"
    )
    assert first.run_id, "the run id comes from the history"
    assert report.summary() == "checked 9 recorded value(s) of 3 run(s): 3 incompatible"


async def test_histories_exported_as_json_are_checked_the_same_way(
    client: temporalio.client.Client, recorded: dict[str, str], tmp_path: Path
) -> None:
    """JSON exports give the same reports, except the pending checkpoint only a server holds."""
    files = []
    for workflow_id in recorded.values():
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        path = tmp_path / f"{workflow_id}.json"
        path.write_text(history.to_json())
        files.append(path)
    runs = runs_from_files(files)
    assert [run.workflow_id for run in runs] == list(recorded.values())
    for change, activity in CHANGES.items():
        expected = [p for p in EXPECTED[change] if p[1] != "checkpoint"]
        assert found(check_compatibility(runs, [activity]), recorded) == expected, change


async def test_a_history_exported_by_the_temporal_cli_is_read(
    client: temporalio.client.Client, recorded: dict[str, str], tmp_path: Path
) -> None:
    """``temporal workflow show --output json`` writes a file the check reads."""
    cli = find_temporal_cli()
    assert cli is not None, "fnact[server] installs the temporal CLI"
    exported = tmp_path / "exported.json"
    with exported.open("w") as out:
        done = await asyncio.create_subprocess_exec(
            str(cli), "workflow", "show", "--workflow-id", recorded["ok"], "--output", "json",
            "--address", client.service_client.config.target_host, stdout=out,
        )  # fmt: skip
        assert await done.wait() == 0
    (run,) = runs_from_files([exported])
    report = check_compatibility([run], [CHANGES["field retyped"]])
    assert [(p.value, p.path, p.message) for p in report.problems] == [
        ("input", "$.limit", "Expected `str`, got `int`")
    ]
    assert run.run_id == (await client.get_workflow_handle(recorded["ok"]).describe()).run_id


def test_a_file_that_is_not_a_history_is_named(tmp_path: Path) -> None:
    """A JSON file without events is refused with its path."""
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match=r"notes\.json: not a workflow history exported as JSON"):
        runs_from_files([bad])


async def test_fnact_check_prints_each_problem_and_exits_1(
    client: temporalio.client.Client, recorded: dict[str, str], tmp_path: Path
) -> None:
    """`fnact check` on the server's runs: one line per value, a summary, exit 1; 0 when all fit."""
    address = client.service_client.config.target_host
    ids = [arg for workflow_id in recorded.values() for arg in ("--workflow-id", workflow_id)]
    broken = await run_fnact(
        "check", "tests.apps.compatibility_app:required_field_added", *ids, "--address", address
    )
    assert broken.returncode == 1, broken.stderr
    lines = broken.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"{recorded['ok']} (run ")
    assert lines[0].endswith("activity load#1 input at $: Object missing required field `schema`")
    assert lines[-1] == "checked 9 recorded value(s) of 3 run(s): 3 incompatible"
    fine = await run_fnact("check", "tests.apps.compatibility_app:load", *ids, "--address", address)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert fine.stdout == "checked 9 recorded value(s) of 3 run(s): 0 incompatible\n"
    exported = tmp_path / f"{recorded['missing']}.json"
    history = await client.get_workflow_handle(recorded["missing"]).fetch_history()
    exported.write_text(history.to_json())
    from_file = await run_fnact(
        "check", "tests.apps.compatibility_app:changed_errors", "--history", str(exported)
    )
    assert from_file.returncode == 1
    assert "failure at $: error type 'TableMissing' is no longer declared" in from_file.stdout


def test_fnact_check_needs_runs_to_check() -> None:
    """Without --history, --workflow-id or --query it is a one-line usage error."""
    result = fnact_command("check", "tests.apps.compatibility_app:load")
    assert result.returncode == 2
    assert error_line(result.stderr) == (
        "fnact: error: give runs to check: --history, --workflow-id or --query"
    )
