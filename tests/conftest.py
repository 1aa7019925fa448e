"""Shared fixtures: a connected client on the session's dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import temporalio.client

import fnact
from fnact.testing import DevServer


@pytest.fixture
async def client(temporal_server: DevServer) -> AsyncIterator[temporalio.client.Client]:
    """Return a client of the session's dev server using fnact's converter."""
    yield await fnact.connect(temporal_server.address)
