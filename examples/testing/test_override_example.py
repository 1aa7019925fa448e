"""The code of the how-to guide "Override a dependency" (docs/how-to/override-a-dependency.md)."""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
from pathlib import Path

from dependency_injector import providers

from examples.metadata.__main__ import build_container
from examples.metadata.activities import Container, list_tables, write_metadata
from examples.metadata.models import ExtractArgs, ListTables, WriteMetadata
from fnact.testing import ActivityHarness, assert_success, run_activity

# --8<-- [end:imports]


# --8<-- [start:fake]
class FakeCatalog:
    """Stands in for the example's Catalog: fixed table names, no database file."""

    def __init__(self, *tables: str) -> None:
        self.names = list(tables)

    def tables(self, *, include_views: bool) -> list[str]:
        return self.names

    def close(self) -> None:
        pass


# --8<-- [end:fake]


# --8<-- [start:value]
async def test_a_value_replaces_a_provider(activity_harness: ActivityHarness) -> None:
    """Overriding json_indent with 0 makes write_metadata write compact JSON."""
    activity_harness.override(json_indent=0)
    run = await activity_harness.run(write_metadata, WriteMetadata(tables=[]))
    assert run.files["index.json"] == b'{"tables": []}'


# --8<-- [end:value]


# --8<-- [start:provider]
async def test_a_provider_replaces_a_provider(activity_harness: ActivityHarness) -> None:
    """Overriding the handler with a Factory gives list_tables a fake catalog."""
    activity_harness.workflow_args = ExtractArgs(database="unused.db")
    activity_harness.override(handler=providers.Factory(FakeCatalog, "invoices", "refunds"))
    run = await activity_harness.run(list_tables, ListTables(name_prefix="in"))
    assert_success(run.unwrap(), ["invoices"])


# --8<-- [end:provider]


# --8<-- [start:async_provider]
async def open_catalog(workflow_args: ExtractArgs) -> FakeCatalog:
    """Build the handler asynchronously, as a client that must connect first would."""
    await asyncio.sleep(0)
    return FakeCatalog(Path(workflow_args.database).stem)


async def test_an_async_provider_is_awaited(activity_harness: ActivityHarness) -> None:
    """An async provider is awaited before the activity runs, with the run's arguments."""
    activity_harness.workflow_args = ExtractArgs(database="/data/shop.db")
    activity_harness.override(handler=providers.Factory(open_catalog))
    run = await activity_harness.run(list_tables, ListTables())
    assert_success(run.unwrap(), ["shop"])


# --8<-- [end:async_provider]


# --8<-- [start:undone]
async def test_overrides_end_with_the_harness(fnact_container: Container, tmp_path: Path) -> None:
    """Closing the harness (the fixture does it after each test) undoes its overrides."""
    with ActivityHarness(fnact_container, output_root=tmp_path) as harness:
        harness.override(json_indent=0)
        assert fnact_container.json_indent() == 0
    assert fnact_container.json_indent() == 2
    assert fnact_container.settings().output_root == tmp_path / "output"  # the fixture's own


# --8<-- [end:undone]


# --8<-- [start:plain_code]
async def test_override_in_plain_code(tmp_path: Path) -> None:
    """Outside pytest's fixtures, override a provider for one block with a with statement."""
    container = build_container(tmp_path / "output")
    with container.json_indent.override(providers.Object(0)):  # pyright: ignore[reportUnknownMemberType]
        result = await run_activity(write_metadata, WriteMetadata(tables=[]), container=container)
    folder = Path(assert_success(result).folder)
    assert (folder / "index.json").read_bytes() == b'{"tables": []}'
    assert container.json_indent() == 2


# --8<-- [end:plain_code]


# --8<-- [start:side_by_side]
async def test_two_containers_side_by_side(tmp_path: Path) -> None:
    """Each harness resolves an activity's dependencies from its own container."""
    compact, default = Container(), Container()
    compact.json_indent.override(providers.Object(0))  # pyright: ignore[reportUnknownMemberType]
    with (
        ActivityHarness(compact, output_root=tmp_path / "a") as a,
        ActivityHarness(default, output_root=tmp_path / "b") as b,
    ):
        run_a = await a.run(write_metadata, WriteMetadata(tables=[]))
        run_b = await b.run(write_metadata, WriteMetadata(tables=[]))
    assert run_a.files["index.json"] == b'{"tables": []}'
    assert run_b.files["index.json"] == b'{\n  "tables": []\n}'


# --8<-- [end:side_by_side]
