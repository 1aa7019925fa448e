"""Connecting to Temporal: the ``--address``/``--namespace`` options, address checks, a client."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

import temporalio.client
import temporalio.converter
import temporalio.envconfig
import temporalio.service
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from fnact._cli.errors import CommandError
from fnact._worker._build import connect
from fnact._worker._options import ConnectOptions

__all__ = ["add_connection_arguments", "check_address", "connect_client", "target_address"]

CONNECT_TIMEOUT = timedelta(seconds=5)

_ADDRESS = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d+)")


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--address`` and ``--namespace`` to a command's parser."""
    parser.add_argument("--address", help="host:port of Temporal (default: TEMPORAL_ADDRESS)")
    parser.add_argument("--namespace", help="the namespace (default: TEMPORAL_NAMESPACE)")


def target_address(address: str | None) -> str:
    """Return the address `connect` uses: ``address``, else Temporal's environment config.

    Raises:
        CommandError: the address is not ``HOST:PORT``, naming where it came from.
    """
    where = "--address"
    if not address:
        config = temporalio.envconfig.ClientConfig.load_client_connect_config()
        address = config.get("target_host")
        where = "Temporal's environment configuration (TEMPORAL_ADDRESS or a profile)"
        if not address:
            return "localhost:7233"
    return check_address(str(address), where)


def check_address(address: str, where: str) -> str:
    """Return ``address`` if it is ``HOST:PORT`` with a port from 1 to 65535.

    Raises:
        CommandError: it is not, naming ``where`` it came from.
    """
    found = _ADDRESS.fullmatch(address)
    if found is None:
        missing = ":" not in address and _ADDRESS.fullmatch(f"{address}:1") is not None
        problem = "no port" if missing else "not HOST:PORT"
        raise CommandError(
            f"{where} {address!r}: {problem}; expected HOST:PORT, like localhost:7233", code=2
        )
    if not 0 < int(found.group(1)) <= 65535:
        raise CommandError(f"{where} {address!r}: port {found.group(1)} is out of range", code=2)
    return address


async def connect_client(
    address: str | None,
    namespace: str | None,
    data_converter: temporalio.converter.DataConverter | None = None,
    *,
    use_environment: bool = True,
    client_options: ConnectOptions | None = None,
) -> temporalio.client.Client:
    """Connect, and check the namespace exists (a worker would otherwise fail later).

    Raises:
        CommandError: the server cannot be reached, or has no such namespace.
    """
    target = target_address(address)
    extra: ConnectOptions = {"connect_timeout": CONNECT_TIMEOUT, **(client_options or {})}
    if data_converter:
        extra["data_converter"] = data_converter
    try:
        client = await connect(
            target, namespace=namespace, use_environment=use_environment, **extra
        )
    except RuntimeError as exc:
        raise CommandError(f"cannot connect to Temporal at {target}: {_reason(exc)}") from None
    request = DescribeNamespaceRequest(namespace=client.namespace)
    try:
        await client.workflow_service.describe_namespace(request)
    except temporalio.service.RPCError as exc:
        if exc.status is temporalio.service.RPCStatusCode.NOT_FOUND:
            raise CommandError(f"no namespace {client.namespace!r} at {target}") from None
        raise CommandError(f"cannot use Temporal at {target}: {exc.message}") from None
    return client


def _reason(exc: BaseException) -> str:
    """Return the gist of a Rust core connection error (``Connection refused``)."""
    text = str(exc)
    found = re.search(r'(?:message|error): "([^"]+)"', text)
    return found.group(1) if found else text
