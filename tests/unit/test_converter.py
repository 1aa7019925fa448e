"""The msgspec payload converter: standard encodings, strict typed decoding."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
import temporalio.converter
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.converter import DataConverter, PayloadCodec

import fnact
import fnact.worker
from fnact._converter import FnactDataConverter

converter = fnact.worker.data_converter.payload_converter


class Record(msgspec.Struct):
    id: int
    name: str
    at: datetime


@dataclasses.dataclass
class Point:
    x: int
    y: int


def roundtrip(value: Any, hint: Any) -> Any:
    return converter.from_payloads(converter.to_payloads([value]), [hint])[0]


def test_values_use_json_plain_readable_by_other_sdks() -> None:
    """Structs are encoded as plain JSON with the standard json/plain encoding."""
    payload = converter.to_payloads([Record(1, "a", datetime(2026, 1, 1, tzinfo=UTC))])[0]
    assert payload.metadata["encoding"] == b"json/plain"
    assert payload.data == b'{"id":1,"name":"a","at":"2026-01-01T00:00:00Z"}'


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (Record(1, "a", datetime(2026, 1, 1, tzinfo=UTC)), Record),
        (Point(1, 2), Point),
        ([1, 2, 3], list[int]),
        ({"k": 1.5}, dict[str, float]),
        (None, type(None)),
        (b"\x00bytes", bytes),
    ],
)
def test_typed_values_round_trip(value: Any, hint: Any) -> None:
    """Structs, dataclasses, containers, None and bytes decode back to equal values."""
    assert roundtrip(value, hint) == value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"id": 1.5, "name": "a", "at": "2026-01-01T00:00:00Z"},
            "Expected `int`, got `float` - at `$.id`",
        ),
        (
            {"id": "1", "name": "a", "at": "2026-01-01T00:00:00Z"},
            "Expected `int`, got `str` - at `$.id`",
        ),
        ({"id": 1, "at": "2026-01-01T00:00:00Z"}, "missing required field `name`"),
        ({"id": 1, "name": "a", "at": "yesterday"}, "Invalid RFC3339 encoded datetime - at `$.at`"),
    ],
)
def test_decoding_is_strict_and_names_the_field(data: dict[str, Any], message: str) -> None:
    """A float for an int, a string for an int, a missing field or a bad datetime is rejected."""
    payload = converter.to_payloads([data])[0]
    with pytest.raises(msgspec.ValidationError) as caught:
        converter.from_payloads([payload], [Record])
    assert message in str(caught.value)


def test_untyped_decode_gives_plain_json() -> None:
    """Without a type hint a payload decodes to plain JSON values."""
    assert roundtrip(Point(1, 2), None) == {"x": 1, "y": 2}


def test_raw_value_passes_through() -> None:
    """A RawValue hint hands over the payload untouched."""
    payload = converter.to_payloads([Point(1, 2)])[0]
    raw = converter.from_payloads([payload], [RawValue])[0]
    assert isinstance(raw, RawValue)
    assert raw.payload == payload


def test_unencodable_value_names_its_type() -> None:
    """A value msgspec cannot encode raises a TypeError naming the type."""

    class Opaque:
        pass

    with pytest.raises(TypeError, match="Opaque"):
        converter.to_payloads([Opaque()])


def test_pydantic_models_go_to_the_converter_the_client_had() -> None:
    """Dataclasses go through msgspec, pydantic models through pydantic's converter."""
    from pydantic import BaseModel
    from temporalio.contrib.pydantic import pydantic_data_converter

    from fnact._converter import with_fnact_converter

    class Order(BaseModel):
        id: int

    both = with_fnact_converter(pydantic_data_converter).payload_converter
    payloads = both.to_payloads([Order(id=3), Point(x=1, y=2)])
    assert [p.data for p in payloads] == [b'{"id":3}', b'{"x":1,"y":2}']
    order, point = both.from_payloads(payloads, [Order, Point])
    assert order == Order(id=3)
    assert point == Point(x=1, y=2)
    with pytest.raises(TypeError, match=r"'json/plain' payload cannot be decoded as .*Order.*"):
        both.from_payloads([payloads[1]], [Order])


class _Reversing(PayloadCodec):
    """A codec that reverses each payload's data, to show Temporal's codec step ran."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata=p.metadata, data=p.data[::-1]) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata=p.metadata, data=p.data[::-1]) for p in payloads]


_VALUES: list[tuple[Any, Any]] = [
    (Record(1, "ada", datetime(2026, 1, 1, tzinfo=UTC)), Record),
    (Point(3, 4), Point),
    (None, None),
    (b"\x00raw", bytes),
    (Payload(data=b"proto"), Payload),
    ({"nested": [1, 2.5, "x"]}, dict[str, list[Any]]),
]


async def test_fast_steps_encode_and_decode_as_temporal_s_full_path() -> None:
    """Without a codec or external storage, fnact's converter gives what Temporal's steps give."""
    fast = fnact.worker.data_converter
    assert isinstance(fast, FnactDataConverter)
    values = [value for value, _ in _VALUES]
    hints = [hint for _, hint in _VALUES]
    fast_payloads = await fast.encode(values)
    full_payloads = await DataConverter.encode(fast, values)
    assert fast_payloads == full_payloads
    assert await fast.decode(fast_payloads, hints) == await DataConverter.decode(
        fast, full_payloads, hints
    )
    raw = await fast.decode(fast_payloads[:1], [RawValue])
    assert raw == [RawValue(fast_payloads[0])]
    assert await fast.encode(raw) == fast_payloads[:1]


async def test_a_codec_keeps_temporal_s_steps() -> None:
    """A payload codec configured on fnact's converter still runs, both ways."""
    coded = dataclasses.replace(fnact.worker.data_converter, payload_codec=_Reversing())
    [payload] = await coded.encode([Point(1, 2)])
    assert payload.data == b'{"x":1,"y":2}'[::-1]
    assert await coded.decode([payload], [Point]) == [Point(1, 2)]
    [raw] = await coded.decode([payload], [RawValue])
    assert raw.payload.data == b'{"x":1,"y":2}'


async def test_an_external_storage_reference_is_reported_without_storage() -> None:
    """A payload that points at external storage is not decoded as a value when none is set."""
    reference = Payload(metadata={"encoding": b"json/external-storage-reference"}, data=b"{}")
    with pytest.raises(RuntimeError, match="external storage is not configured"):
        await fnact.worker.data_converter.decode([reference], [Point])


def test_with_fnact_converter_keeps_a_user_s_converter_class() -> None:
    """A DataConverter subclass of the user's keeps its class (and Temporal's steps)."""
    from fnact._converter import with_fnact_converter

    @dataclasses.dataclass(frozen=True)
    class Audited(DataConverter):
        pass

    converted = with_fnact_converter(Audited())
    assert type(converted) is Audited
    assert isinstance(converted.payload_converter, temporalio.converter.PayloadConverter)
    assert type(with_fnact_converter(None)) is FnactDataConverter
