"""``fnact dev``: its arguments, and serving the embedded Temporal dev server until a signal."""

from __future__ import annotations

import argparse
import asyncio
import signal

from fnact._cli.argument_types import port
from fnact._worker._devserver import DevServer

__all__ = ["add_parser", "handle"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dev`` command and its arguments to the root parser's ``commands``."""
    dev = commands.add_parser(
        "dev",
        help="start the embedded Temporal dev server until Ctrl+C",
        description="Start the embedded Temporal dev server (in memory) and print its "
        "address and Web UI address; stop it on Ctrl+C or SIGTERM.",
    )
    dev.add_argument("--port", type=port, default=7233, help="gRPC port (0: any free port)")
    dev.add_argument("--ui-port", type=port, default=8233, help="Web UI port (0: any free port)")
    dev.add_argument("--headless", action="store_true", help="do not serve the Web UI")
    dev.add_argument("--namespace", default="default", help="the namespace to create")
    dev.set_defaults(command=handle)


def handle(options: argparse.Namespace) -> int:
    """Serve the dev server ``options`` describe until SIGINT or SIGTERM; return 0."""
    server = DevServer(
        port=options.port or None,
        ui=not options.headless,
        ui_port=options.ui_port or None,
        namespace=options.namespace,
    )
    return asyncio.run(_serve_dev(server))


async def _serve_dev(server: DevServer) -> int:
    stop = _stop_on_signals()
    # Start in a thread and always wait for it: a signal during startup then still
    # stops the server process instead of leaving it behind.
    try:
        await asyncio.to_thread(server.start)
        if not stop.is_set():
            print(f"Temporal dev server: {server.address} (namespace {server.namespace})")
            if server.ui_url:
                print(f"Web UI: {server.ui_url}")
            print(f"Workers and clients: TEMPORAL_ADDRESS={server.address}")
            print("Press Ctrl+C to stop.", flush=True)
            await stop.wait()
    finally:
        await asyncio.to_thread(server.stop)
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
