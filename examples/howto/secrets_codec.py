"""Encrypt every payload and header a run sends to Temporal, with a Fernet payload codec.

    PAYLOAD_KEYS=<key> TEMPORAL_ADDRESS=host:7233 python -m examples.howto.secrets_codec

runs a worker of the secrets example whose client encrypts. Make a key with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
The how-to guide "Handle secrets" shows these pieces.
"""

# --8<-- [start:imports]
from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import temporalio.client
import temporalio.converter
from cryptography.fernet import Fernet, MultiFernet
from temporalio.api.common.v1 import Payload

import fnact
import fnact.worker
from examples.howto.secrets_app import Container, count_invoices
from examples.howto.workflows import SyncInvoices

# --8<-- [end:imports]


# --8<-- [start:codec]
class FernetCodec(temporalio.converter.PayloadCodec):
    """Encrypt payloads with Fernet (AES-128-CBC and HMAC-SHA256).

    The first key encrypts; every key decrypts, so a new key goes first and an old
    one stays until no open run needs it.
    """

    encoding = b"binary/encrypted"

    def __init__(self, keys: Sequence[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each whole payload (metadata and data) into a new payload."""
        return [
            Payload(
                metadata={"encoding": self.encoding},
                data=self._fernet.encrypt(payload.SerializeToString()),
            )
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt the payloads this codec encrypted; pass others (older, clear) through."""
        return [
            Payload.FromString(self._fernet.decrypt(payload.data))
            if payload.metadata.get("encoding") == self.encoding
            else payload
            for payload in payloads
        ]


# --8<-- [end:codec]


# --8<-- [start:connect]
def encrypted_converter() -> temporalio.converter.DataConverter:
    """Return fnact's converter with a Fernet codec keyed by $PAYLOAD_KEYS (comma-separated)."""
    keys = [key.encode() for key in os.environ["PAYLOAD_KEYS"].split(",")]
    return dataclasses.replace(fnact.worker.data_converter, payload_codec=FernetCodec(keys))


async def connect_encrypted(address: str | None = None) -> temporalio.client.Client:
    """Connect a client that encrypts payloads and headers with the keys in $PAYLOAD_KEYS."""
    return await fnact.worker.connect(address, data_converter=encrypted_converter())


# --8<-- [end:connect]


# --8<-- [start:worker]
TASK_QUEUE = "partner-sync"


async def serve(container: Container, *, task_queue: str = TASK_QUEUE, **options: Any) -> None:
    """Run a worker whose client encrypts, until SIGINT or SIGTERM."""
    client = await connect_encrypted()  # the worker encrypts with its client's codec
    await fnact.worker.run_worker(
        client=client,
        task_queue=task_queue,
        container=container,
        activities=[count_invoices],
        workflows=[SyncInvoices],
        **options,
    )


if __name__ == "__main__":
    asyncio.run(serve(Container()))
# --8<-- [end:worker]
