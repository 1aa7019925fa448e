"""Temporal payload converter built on msgspec.

Payloads use the standard ``json/plain`` encoding, so other Temporal SDKs and the
Web UI read them as ordinary JSON. Decoding is strict and driven by type hints:
``1.5`` is not an ``int``, a missing field is an error, and a wrong type is an
error whose message carries msgspec's path (``$.field``). NaN and infinity are
refused when encoding, naming where they are: JSON cannot carry them.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import google.protobuf.message
import msgspec
import msgspec.msgpack
import msgspec.structs
import temporalio.api.common.v1
import temporalio.converter

from fnact._secret import MASK, Secret

__all__ = [
    "MsgspecJSONPayloadConverter",
    "NonFiniteFloatError",
    "MsgspecPayloadConverter",
    "data_converter",
    "decoder_for",
    "encode",
    "masking_encoder",
    "non_finite_path",
    "to_payload",
    "validation_message",
]

_ENCODING = b"json/plain"


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    raise TypeError(f"Encoding objects of type {type(value).__qualname__} is unsupported")


def _masking_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    raise TypeError(f"Encoding objects of type {type(value).__qualname__} is unsupported")


def _dec_hook(type_hint: Any, value: Any) -> Any:
    if type_hint is Secret:
        if not isinstance(value, str):
            raise TypeError(f"Expected `str` for a Secret, got `{type(value).__name__}`")
        return Secret(value)
    raise NotImplementedError


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_msgpack_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_NON_FINITE_FLOAT = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")
"""A msgpack float64 whose exponent bits are all ones: NaN or infinity (or string bytes)."""
masking_encoder = msgspec.json.Encoder(enc_hook=_masking_hook)
"""Encodes like fnact's converter, but writes every `Secret` as its mask."""
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder_for(type_hint: Any) -> msgspec.json.Decoder[Any]:
    """Return a cached strict JSON decoder for ``type_hint``."""
    try:
        return _decoders[type_hint]
    except KeyError:
        decoder = msgspec.json.Decoder(type_hint, strict=True, dec_hook=_dec_hook)
        _decoders[type_hint] = decoder
        return decoder
    except TypeError:  # unhashable typing construct: do not cache
        return msgspec.json.Decoder(type_hint, strict=True, dec_hook=_dec_hook)


class NonFiniteFloatError(ValueError):
    """A value holds NaN or infinity, which JSON cannot carry (msgspec would write ``null``)."""


def non_finite_path(value: Any, path: str = "$") -> str | None:
    """Return the ``$`` path of the first NaN or infinity in ``value``, or ``None``.

    >>> non_finite_path({"rows": [{"score": float("nan")}]})
    '$.rows[0].score'
    """
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, str | bytes | int | bool) or value is None:
        return None
    if isinstance(value, msgspec.Struct):
        items: Any = (
            (f.encode_name, getattr(value, f.name)) for f in msgspec.structs.fields(value)
        )
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            if (found := non_finite_path(item, f"{path}[{index}]")) is not None:
                return found
        return None
    else:
        return None
    for key, item in items:
        if (found := non_finite_path(item, f"{path}.{key}")) is not None:
            return found
    return None


def encode(value: Any) -> bytes:
    """Encode ``value`` as fnact's converter does (secrets revealed, for inputs).

    Raises:
        NonFiniteFloatError: ``value`` holds NaN or infinity; the message names where.
    """
    data = _encoder.encode(value)
    # NaN and infinity encode as null. Only when the JSON has a null, encode again as
    # msgpack (which keeps floats as they are, at C speed) and look for a non-finite
    # float64; walk the value for the field's path only when one may be there.
    if b"null" in data and _NON_FINITE_FLOAT.search(_msgpack_encoder.encode(value)):
        where = non_finite_path(value)
        if where is not None:
            raise NonFiniteFloatError(
                f"cannot encode NaN or infinity at `{where}`: JSON has no such number "
                "(it would arrive as null); use None, or a string such as 'nan'"
            )
    return data


def validation_message(error: msgspec.ValidationError) -> str:
    """Return msgspec's message, with the ``$`` path it omits for top-level errors."""
    message = str(error)
    return message if " - at `$" in message else f"{message} - at `$`"


def to_payload(value: Any) -> temporalio.api.common.v1.Payload:
    """Encode ``value`` exactly as `data_converter` would, without its per-call overhead.

    ``None``, bytes and protobuf messages keep Temporal's encodings; the rest is
    msgspec JSON built straight into a payload (~0.7 µs against ~4.5 µs).
    """
    if value is None or isinstance(value, bytes | google.protobuf.message.Message):
        return data_converter.payload_converter.to_payload(value)
    payload = temporalio.api.common.v1.Payload(data=encode(value))
    payload.metadata["encoding"] = _ENCODING
    return payload


class MsgspecJSONPayloadConverter(temporalio.converter.EncodingPayloadConverter):
    """Encode and decode ``json/plain`` payloads with msgspec."""

    @property
    def encoding(self) -> str:
        """Return the payload encoding this converter handles."""
        return _ENCODING.decode()

    def to_payload(self, value: Any) -> temporalio.api.common.v1.Payload | None:
        """Encode ``value`` as JSON.

        Raises:
            TypeError: ``value`` has a type msgspec cannot encode; the message names it.
            NonFiniteFloatError: ``value`` holds NaN or infinity; the message names where.
        """
        return temporalio.api.common.v1.Payload(
            metadata={"encoding": _ENCODING}, data=encode(value)
        )

    def from_payload(
        self, payload: temporalio.api.common.v1.Payload, type_hint: type | None = None
    ) -> Any:
        """Decode ``payload`` strictly as ``type_hint`` (any JSON value when ``None``).

        Raises:
            msgspec.ValidationError: the JSON does not match ``type_hint``; the
                message ends with the ``$`` path at fault.
        """
        try:
            return decoder_for(Any if type_hint is None else type_hint).decode(payload.data)
        except msgspec.ValidationError as exc:
            raise msgspec.ValidationError(validation_message(exc)) from None


class MsgspecPayloadConverter(temporalio.converter.CompositePayloadConverter):
    """Temporal's standard converters with msgspec taking the ``json/plain`` encoding.

    ``None``, ``bytes`` and protobuf messages keep Temporal's own encodings;
    everything else is msgspec JSON.
    """

    def __init__(self) -> None:
        super().__init__(
            temporalio.converter.BinaryNullPayloadConverter(),
            temporalio.converter.BinaryPlainPayloadConverter(),
            temporalio.converter.JSONProtoPayloadConverter(),
            temporalio.converter.BinaryProtoPayloadConverter(),
            MsgspecJSONPayloadConverter(),
        )


data_converter: temporalio.converter.DataConverter = dataclasses.replace(
    temporalio.converter.DataConverter.default,
    payload_converter_class=MsgspecPayloadConverter,
)
"""The data converter fnact's clients and workers use."""
