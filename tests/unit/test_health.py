"""Health probes answer from their own thread: a blocked loop fails liveness, a drain readiness."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest

import fnact
import fnact.worker


def get(port: int, path: str) -> tuple[int, str]:
    """GET a probe; return its status and body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def test_readiness_follows_the_flag_and_liveness_the_loop() -> None:
    """/readyz is 503 until ready and after; /healthz is 503 while a blocking call holds it."""
    async with fnact.worker.HealthProbes(0, host="127.0.0.1", loop_timeout=0.4) as probes:
        port = probes.port
        assert port > 0
        assert await asyncio.to_thread(get, port, "/readyz") == (
            503, "not ready: starting or draining\n",
        )  # fmt: skip
        probes.ready = True
        assert await asyncio.to_thread(get, port, "/readyz") == (200, "ready\n")
        assert await asyncio.to_thread(get, port, "/healthz") == (200, "ok\n")
        time.sleep(0.8)  # noqa: ASYNC251 - the blocking call under test
        status, body = get(port, "/healthz")  # asked from the blocked loop's own thread
        assert status == 503
        assert body.startswith("event loop blocked for ")
        await asyncio.sleep(0.3)  # the loop runs again
        assert await asyncio.to_thread(get, port, "/healthz") == (200, "ok\n")
        assert await asyncio.to_thread(get, port, "/metrics") == (
            404, "not found: /healthz or /readyz\n",
        )  # fmt: skip
        probes.ready = False
        assert (await asyncio.to_thread(get, port, "/readyz"))[0] == 503


def test_loop_timeout_must_be_positive() -> None:
    """A zero timeout is refused, naming the parameter."""
    with pytest.raises(ValueError, match="loop_timeout must be positive"):
        fnact.worker.HealthProbes(0, loop_timeout=0)
