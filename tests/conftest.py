"""Shared fixtures for fnact's own tests (the fnact pytest plugin provides the rest)."""

from __future__ import annotations

import pytest
import temporalio.client

pytest_plugins = ["pytester"]


@pytest.fixture
def client(temporal_client: temporalio.client.Client) -> temporalio.client.Client:
    """Return the plugin's client of the session's dev server."""
    return temporal_client
