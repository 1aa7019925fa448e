"""Shared fixtures: a connected client on the session's dev server."""

from __future__ import annotations

import pytest
import temporalio.client

import fnact
from fnact.testing import DevServer


@pytest.fixture
async def client(temporal_server: DevServer) -> temporalio.client.Client:
    """Return a client of the session's dev server using fnact's converter."""
    return await fnact.connect(temporal_server.address)
