"""Real object-store servers for tests: moto's S3 server and Azurite's Blob service.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``). Each server is a
subprocess started once per session on a free port of 127.0.0.1 and stopped at its end;
nothing is downloaded at run time:

- ``s3_server``: ``moto_server``, the console script of ``moto[server]`` (the ``test``
  extra), found next to ``sys.executable``.
- ``azurite_server``: ``azurite-blob`` from ``tests/azurite/node_modules``, which
  ``python3 scripts/task.py test`` installs with ``npm ci`` (it needs Node and npm).

A server that cannot start fails the tests using it, with the reason and the server's
output; it never skips them.

Use obstore's synchronous functions (``obstore.put``, ``obstore.get``, ...): its async
ones make the interpreter abort at exit about half the time. In async code, call the
synchronous ones through ``asyncio.to_thread``.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from obstore.store import AzureStore, S3Store

START_WITHIN = 45.0
"""Seconds a server may take to answer HTTP (a busy two-core machine; pytest's timeout is 60)."""

STOP_WITHIN = 10.0
"""Seconds a server may take to exit after SIGTERM before it is killed."""

AZURITE_DIR = Path(__file__).resolve().parent / "azurite"
AZURITE_BLOB = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"

# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_AZURE_API_VERSION = "2021-08-06"

# Requests to the local servers never go through a proxy set in the environment.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def unique_name(prefix: str = "fnact") -> str:
    """Return a bucket or container name no other test uses (lowercase, digits, hyphens)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _answers(url: str) -> bool:
    """Return whether an HTTP server answers at ``url``, with any status."""
    try:
        with _LOCAL.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@dataclass
class ServerProcess:
    """A server subprocess and the file it prints to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """Return the last lines the server printed."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-30:])

    def stop(self) -> None:
        """Terminate the server; kill it when it has not exited within ``STOP_WITHIN``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_WITHIN)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str, command: list[str], url: str, log: Path, *, within: float = START_WITHIN
) -> ServerProcess:
    """Start ``command`` and wait until ``url`` answers; fail the test with the reason if not."""
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            pytest.fail(f"{name} could not start: {' '.join(command)}: {exc}", pytrace=False)
    server = ServerProcess(name, process, log)
    deadline = time.monotonic() + within
    while not _answers(url):
        code = process.poll()
        if code is not None:
            pytest.fail(
                f"{name} exited with code {code} before answering at {url}:\n{server.output()}",
                pytrace=False,
            )
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(
                f"{name} did not answer at {url} within {within:.0f} s:\n{server.output()}",
                pytrace=False,
            )
        time.sleep(0.1)
    return server


@dataclass
class S3Server:
    """moto's S3-compatible server, and how obstore and boto3 reach it."""

    endpoint: str
    """``http://127.0.0.1:PORT``."""
    access_key_id: str = "testing"
    secret_access_key: str = "testing"
    region: str = "us-east-1"
    env: dict[str, str] = field(init=False)
    """Environment variables with which obstore's ``S3Store(bucket)`` and ``boto3.client("s3")``
    reach this server: obstore reads ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT``),
    ``AWS_ALLOW_HTTP``, ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``) and the keys; boto3 reads
    ``AWS_ENDPOINT_URL``, ``AWS_DEFAULT_REGION`` (not ``AWS_REGION``) and the keys."""

    def __post_init__(self) -> None:
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def boto3_client(self) -> Any:
        """Return a boto3 S3 client of this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique name unless given); return its name."""
        bucket = name or unique_name()
        self.boto3_client().create_bucket(Bucket=bucket)
        return bucket

    def store(self, bucket: str, prefix: str = "") -> S3Store:
        """Return an obstore ``S3Store`` of ``bucket`` on this server, under ``prefix``."""
        return S3Store(
            bucket,
            prefix=prefix or None,
            config={
                "endpoint": self.endpoint,
                "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key,
                "region": self.region,
            },
            client_options={"allow_http": True},
        )


@dataclass
class AzuriteServer:
    """Azurite's Blob service, and how obstore reaches it."""

    base_url: str
    """``http://127.0.0.1:PORT``, as ``AZURITE_BLOB_STORAGE_URL`` wants it."""
    account_name: str = AZURITE_ACCOUNT
    account_key: str = AZURITE_KEY
    endpoint: str = field(init=False)
    """The account's blob endpoint, ``http://127.0.0.1:PORT/devstoreaccount1``."""
    env: dict[str, str] = field(init=False)
    """Environment variables with which obstore's ``AzureStore(container)`` reaches this
    server. Either group alone works: ``AZURE_STORAGE_ACCOUNT_NAME``,
    ``AZURE_STORAGE_ACCOUNT_KEY``, ``AZURE_STORAGE_ENDPOINT`` and ``AZURE_ALLOW_HTTP``; or
    ``AZURE_STORAGE_USE_EMULATOR`` with ``AZURITE_BLOB_STORAGE_URL`` (which wins over the
    endpoint). ``AZURE_STORAGE_CONNECTION_STRING`` is for Azure's own SDKs."""

    def __post_init__(self) -> None:
        self.endpoint = f"{self.base_url}/{self.account_name}"
        self.env = {
            "AZURE_STORAGE_ACCOUNT_NAME": self.account_name,
            "AZURE_STORAGE_ACCOUNT_KEY": self.account_key,
            "AZURE_STORAGE_ENDPOINT": self.endpoint,
            "AZURE_ALLOW_HTTP": "true",
            "AZURE_STORAGE_USE_EMULATOR": "true",
            "AZURITE_BLOB_STORAGE_URL": self.base_url,
            "AZURE_STORAGE_CONNECTION_STRING": (
                f"DefaultEndpointsProtocol=http;AccountName={self.account_name};"
                f"AccountKey={self.account_key};BlobEndpoint={self.endpoint};"
            ),
        }

    def create_container(self, name: str | None = None) -> str:
        """Create a container (a unique name unless given); return its name.

        obstore cannot create containers and Azurite creates none implicitly, so this
        sends Create Container, signed with the account's shared key.
        """
        container = name or unique_name()
        headers = {
            "x-ms-date": email.utils.formatdate(usegmt=True),
            "x-ms-version": _AZURE_API_VERSION,
        }
        # Shared Key string-to-sign: the verb, eleven empty standard headers (no body: an
        # empty Content-Length), the x-ms- headers, then /account/path and the query.
        canonical_headers = "".join(f"{key}:{value}\n" for key, value in sorted(headers.items()))
        resource = f"/{self.account_name}/{self.account_name}/{container}\nrestype:container"
        to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
        digest = hmac.new(base64.b64decode(self.account_key), to_sign.encode(), hashlib.sha256)
        signature = base64.b64encode(digest.digest()).decode()
        headers["Authorization"] = f"SharedKey {self.account_name}:{signature}"
        request = urllib.request.Request(
            f"{self.endpoint}/{container}?restype=container", method="PUT", headers=headers
        )
        try:
            with _LOCAL.open(request, timeout=30):
                pass
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            raise RuntimeError(
                f"Azurite refused to create container {container!r}: {body}"
            ) from exc
        return container

    def store(self, container: str, prefix: str = "") -> AzureStore:
        """Return an obstore ``AzureStore`` of ``container`` on this server, under ``prefix``."""
        return AzureStore(
            container,
            prefix=prefix or None,
            config={
                "account_name": self.account_name,
                "account_key": self.account_key,
                "endpoint": self.endpoint,
                # An AZURE_STORAGE_USE_EMULATOR in the environment would override the endpoint.
                "use_emulator": False,
            },
            client_options={"allow_http": True},
        )


def _moto_server() -> str:
    """Return the path of the ``moto_server`` console script; fail when there is none."""
    script = Path(sys.executable).parent / "moto_server"
    if script.exists():
        return str(script)
    found = shutil.which("moto_server")
    if found is None:
        pytest.fail(
            f"moto_server is not next to {sys.executable} nor on PATH: "
            "pip install -e '.[test]' (it installs moto[server])",
            pytrace=False,
        )
    return found


def _azurite_blob() -> str:
    """Return the path of ``azurite-blob``; fail, saying how to install it, when missing."""
    if not AZURITE_BLOB.exists():
        pytest.fail(
            f"Azurite is not installed in {AZURITE_DIR}: `python3 scripts/task.py test` "
            "installs it, or run `npm ci --prefix tests/azurite` (needs Node and npm)",
            pytrace=False,
        )
    if shutil.which("node") is None:
        pytest.fail(
            "node is not on PATH: Azurite needs Node.js (apt-get install nodejs)", pytrace=False
        )
    return str(AZURITE_BLOB)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """Start moto's S3 server for the session and stop it at the end."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    command = [_moto_server(), "-H", "127.0.0.1", "-p", str(port)]
    server = start_server("moto_server", command, f"{endpoint}/moto-api/", log)
    try:
        yield S3Server(endpoint)
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """Return the name of a new, empty bucket on the session's S3 server."""
    return s3_server.create_bucket()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point obstore and boto3 at the session's S3 server through the environment."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server.env


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """Start Azurite's Blob service for the session and stop it at the end."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workspace = tmp_path_factory.mktemp("azurite")
    command = [
        _azurite_blob(),
        "--location", str(workspace),
        "--blobHost", "127.0.0.1",
        "--blobPort", str(port),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
        "--disableTelemetry",
    ]  # fmt: skip
    server = start_server("azurite-blob", command, base_url, workspace / "azurite.log")
    try:
        yield AzuriteServer(base_url)
    finally:
        server.stop()


@pytest.fixture
def azurite_container(azurite_server: AzuriteServer) -> str:
    """Return the name of a new, empty container on the session's Azurite."""
    return azurite_server.create_container()


@pytest.fixture
def azurite_env(azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point obstore's ``AzureStore`` at the session's Azurite through the environment."""
    for name, value in azurite_server.env.items():
        monkeypatch.setenv(name, value)
    return azurite_server.env
