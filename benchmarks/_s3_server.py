"""A moto S3 server on 127.0.0.1 for the object-storage benchmarks, stopped when they end.

`s3_server` starts ``moto_server -H 127.0.0.1 -p PORT`` (the console script of
``moto[server]``, next to ``sys.executable``), waits until it answers, sets the
environment with which obstore (``from_url("s3://...")``), boto3 and s3fs reach it, and
on exit stops the process it started and restores the environment.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

START_WITHIN = 45.0
"""Seconds the server may take to answer HTTP (a busy two-core machine)."""
STOP_WITHIN = 10.0
"""Seconds the server may take to exit after SIGTERM before it is killed."""

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"

_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Requests to the local server never go through a proxy set in the environment."""


class S3Server:
    """A running moto server: its endpoint and how to reach it."""

    def __init__(self, endpoint: str, pid: int) -> None:
        self.endpoint = endpoint
        """``http://127.0.0.1:PORT``."""
        self.pid = pid
        """The server process's id."""
        self.env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,  # boto3 reads this one, obstore AWS_REGION
            "AWS_ALLOW_HTTP": "true",
        }
        """What obstore, boto3 and s3fs read to reach the server."""

    def boto3_client(self) -> Any:
        """Return a boto3 S3 client of the server."""
        import boto3  # type: ignore[import-untyped]

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name``; return it."""
        self.boto3_client().create_bucket(Bucket=name)
        return name

    def cpu_seconds(self) -> float:
        """Return the CPU time the server process has used so far (Linux ``/proc``; else 0)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        # utime and stime, fields 14 and 15 of stat(5), counted from the state (field 3).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with _LOCAL.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _moto_server() -> str:
    beside = Path(sys.executable).parent / "moto_server"
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise RuntimeError("moto_server not found: .venv/bin/pip install 'moto[server]'")
    return found


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def s3_server() -> Iterator[S3Server]:
    """Run a moto S3 server for the duration of the block, its environment set.

    Yields:
        The server. On exit its process is stopped (killed if it does not exit within
        `STOP_WITHIN`) and the environment variables it set are restored.

    Raises:
        RuntimeError: the server did not start or did not answer within `START_WITHIN`.
    """
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [_moto_server(), "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        saved = {}
        try:
            deadline = time.monotonic() + START_WITHIN
            while not _answers(endpoint):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-3000:]
                    raise RuntimeError(f"moto_server did not answer at {endpoint}:\n{output}")
                time.sleep(0.1)
            server = S3Server(endpoint, process.pid)
            saved = {name: os.environ.get(name) for name in server.env}
            os.environ.update(server.env)
            yield server
        finally:
            _stop(process)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
