"""Health probes of a worker process: ``/healthz`` (liveness) and ``/readyz`` (readiness).

`HealthProbes` serves both over HTTP from a thread of its own, so it answers
while the event loop is blocked, and says so. Neither probe calls the Temporal
server: a cluster outage must not restart every worker at once.

- ``/healthz``: 200 while the worker's event loop runs; 503 once it has not run
  for ``loop_timeout`` seconds (a blocking call holds it).
- ``/readyz``: 200 while the worker polls and is not draining; 503 before it
  polls, and from the moment a shutdown starts.
"""

from __future__ import annotations

import asyncio
import http.server
import logging
import threading
import time
from typing import Any

__all__ = ["HealthProbes"]

_log = logging.getLogger("fnact.health")


class HealthProbes:
    """Serves ``/healthz`` and ``/readyz`` for the worker running on the current event loop.

    `fnact.worker.run_worker` (and ``fnact worker --health-port``) runs one: it marks the
    worker ready once it polls, and not ready as soon as SIGTERM or SIGINT
    starts the drain. Use it directly around a worker you run yourself::

        async with HealthProbes(port=8080) as probes, worker:
            probes.ready = True
            await stop.wait()
            probes.ready = False  # readiness goes false before the drain

    Args:
        port: the TCP port to listen on; ``0`` picks a free one (see `port`).
        host: the address to listen on; every interface by default, as a pod's
            probes need.
        loop_timeout: ``/healthz`` fails once the event loop has not run for this
            many seconds.
    """

    def __init__(self, port: int, *, host: str = "0.0.0.0", loop_timeout: float = 5.0) -> None:
        if loop_timeout <= 0:
            raise ValueError(f"HealthProbes: loop_timeout must be positive, not {loop_timeout}")
        self.loop_timeout: float = loop_timeout
        self.ready: bool = False
        """Whether ``/readyz`` answers 200: set once the worker polls, cleared to drain."""
        self._address = (host, port)
        self._last_tick = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the probes listen on (the free one picked when given ``0``)."""
        if self._server is None:
            return self._address[1]
        port: int = self._server.server_address[1]
        return port

    def loop_stalled_for(self) -> float:
        """Return for how long the event loop has not run, in seconds (about 0 when it runs)."""
        return max(time.monotonic() - self._last_tick - self._tick_interval, 0.0)

    @property
    def _tick_interval(self) -> float:
        return min(self.loop_timeout / 4, 0.5)

    def start(self) -> None:
        """Listen, and watch the running event loop (call this from it).

        Raises:
            OSError: the port cannot be listened on (in use, or not permitted).
        """
        self._loop = asyncio.get_running_loop()
        self._tick()
        self._server = http.server.ThreadingHTTPServer(self._address, _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fnact-health-probes", daemon=True
        )
        self._thread.start()
        _log.info("health probes on port %d: /healthz and /readyz", self.port)

    def stop(self) -> None:
        """Stop listening."""
        self.ready = False
        if self._handle is not None:
            self._handle.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    async def __aenter__(self) -> HealthProbes:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def _tick(self) -> None:
        self._last_tick = time.monotonic()
        assert self._loop is not None
        self._handle = self._loop.call_later(self._tick_interval, self._tick)

    def answer(self, path: str) -> tuple[int, str]:
        """Return the status code and body of a probe at ``path``."""
        if path == "/healthz":
            stalled = self.loop_stalled_for()
            if stalled >= self.loop_timeout:
                return 503, f"event loop blocked for {stalled:.1f} s\n"
            return 200, "ok\n"
        if path == "/readyz":
            return (200, "ready\n") if self.ready else (503, "not ready: starting or draining\n")
        return 404, "not found: /healthz or /readyz\n"


def _handler_for(probes: HealthProbes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = probes.answer(self.path.split("?", 1)[0])
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # probes every few seconds would drown the worker's log

    return Handler
