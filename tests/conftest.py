"""Shared fixtures for fnact's own tests (the fnact pytest plugin provides the rest)."""

from __future__ import annotations

import pytest
import temporalio.client

pytest_plugins = ["pytester", "tests.object_stores"]


@pytest.fixture
def client(temporal_client: temporalio.client.Client) -> temporalio.client.Client:
    """Return the plugin's client of the session's dev server."""
    return temporal_client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Under ``coverage run``, print the branch-coverage report before pytest's last line."""
    try:
        import coverage
    except ImportError:
        return
    current = coverage.Coverage.current()
    if current is None:
        return
    current.stop()
    current.save()
    terminalreporter.section("coverage")
    current.report(file=terminalreporter._tw, skip_covered=True, show_missing=False)
