"""Temporal's payload size limit, measured the way Temporal measures it.

Temporal rejects a result, heartbeat or activity input whose ``Payloads`` message
encodes to more than the limit (2 MiB by default), counting each payload's
metadata and the message's own framing, not just the encoded data. fnact checks
the same number before Temporal does, so nothing at or under its limit meets
Temporal's *retryable* ``PayloadsTooLarge``.

This module is safe inside the workflow sandbox: it only measures.
"""

from __future__ import annotations

import temporalio.api.common.v1

__all__ = ["DEFAULT_PAYLOAD_LIMIT", "json_payload_size", "payloads_size"]

DEFAULT_PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's default blob size limit, in bytes."""

Payload = temporalio.api.common.v1.Payload
_JSON_METADATA_SIZE = Payload(metadata={"encoding": b"json/plain"}).ByteSize()


def _varint_size(value: int) -> int:
    size = 1
    while value >= 0x80:
        value >>= 7
        size += 1
    return size


def payloads_size(*payloads: Payload) -> int:
    """Return the encoded size of a ``Payloads`` message holding ``payloads``.

    That is the size Temporal compares with its limit: each payload with its
    metadata, plus a field tag and length for each.

    >>> p = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    >>> payloads_size(p) == temporalio.api.common.v1.Payloads(payloads=[p]).ByteSize()
    True
    """
    total = 0
    for payload in payloads:
        size = payload.ByteSize()
        total += 1 + _varint_size(size) + size
    return total


def json_payload_size(payload: Payload) -> int:
    """Return `payloads_size` of a payload whose only metadata is ``encoding: json/plain``.

    The size follows from the data's length, without asking protobuf to measure.

    >>> p = Payload(metadata={"encoding": b"json/plain"}, data=b"[" + b"1," * 200 + b"1]")
    >>> json_payload_size(p) == payloads_size(p)
    True
    """
    length = len(payload.data)
    size = _JSON_METADATA_SIZE + 1 + _varint_size(length) + length
    return 1 + _varint_size(size) + size
