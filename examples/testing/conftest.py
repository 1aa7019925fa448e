"""Fixtures for the testing how-to guides: the example app's container and its database."""

# --8<-- [start:imports]
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers

import fnact
from examples.metadata.__main__ import create_database
from examples.metadata.activities import Container
from examples.metadata.models import ExtractArgs
from examples.testing.paged_export import ExportContainer
from fnact.testing import ActivityHarness

# --8<-- [end:imports]


# --8<-- [start:container]
@pytest.fixture
def fnact_container(tmp_path: Path) -> Container:
    """Return the app's container, writing the run's files under a temporary folder."""
    container = Container()
    settings = fnact.Settings(output_root=tmp_path / "output")
    container.settings.override(providers.Object(settings))  # pyright: ignore[reportUnknownMemberType]
    return container


# --8<-- [end:container]


@pytest.fixture
def shop(tmp_path: Path) -> ExtractArgs:
    """Return workflow arguments naming a fresh copy of the example's shop database."""
    return ExtractArgs(database=str(create_database(tmp_path / "shop.db")))


# --8<-- [start:export_harness]
@pytest.fixture
def export_harness(tmp_path: Path) -> Iterator[ActivityHarness]:
    """Return a harness on the export's own container; its overrides end with the test."""
    with ActivityHarness(ExportContainer(), output_root=tmp_path / "export") as harness:
        yield harness


# --8<-- [end:export_harness]
