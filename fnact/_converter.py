"""Temporal payload converter built on msgspec.

Payloads use the standard ``json/plain`` encoding, so other Temporal SDKs and the
Web UI read them as ordinary JSON. Decoding is strict and driven by type hints:
``1.5`` is not an ``int``, a missing field is an error, and a wrong type is an
error whose message carries msgspec's path (``$.field``). NaN and infinity are
refused when encoding, naming where they are: JSON cannot carry them. pydantic
models are encoded and decoded too, by pydantic itself and as strictly (see
`fnact._pydantic`), without fnact importing pydantic.

Why one module of about 500 lines: the payload converter, the data converter
around it and the encoders they share are one path every payload takes both
ways; split, each half would import the other's private encoders.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import math
import re
import typing
import uuid
from collections.abc import Sequence
from typing import Any

import google.protobuf.message
import msgspec
import msgspec.msgpack
import msgspec.structs
import temporalio.api.common.v1
import temporalio.common
import temporalio.converter

from fnact._limits import json_payload_size, payloads_size
from fnact._pydantic import (
    Decoder,
    is_model,
    is_model_class,
    model_builtins,
    model_decoder,
    model_items,
    model_json,
    validate_nested,
)
from fnact._secret import MASK, Secret

__all__ = [
    "CoexistingPayloadConverter",
    "FnactDataConverter",
    "MsgspecJSONPayloadConverter",
    "NonFiniteFloatError",
    "MsgspecPayloadConverter",
    "data_converter",
    "decoder_for",
    "encode",
    "is_fnact_converter",
    "masking_encoder",
    "msgspec_handles",
    "new_decoder",
    "only_encoded",
    "refers_to_external_storage",
    "non_finite_path",
    "to_payload",
    "to_sized_payload",
    "validation_message",
    "with_fnact_converter",
]

_ENCODING = b"json/plain"


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if is_model(value):
        return msgspec.Raw(model_json(value))
    raise TypeError(f"Encoding objects of type {type(value).__qualname__} is unsupported")


def _masking_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if is_model(value):
        return msgspec.Raw(model_json(value))
    raise TypeError(f"Encoding objects of type {type(value).__qualname__} is unsupported")


def _msgpack_hook(value: Any) -> Any:
    # Only for finding NaN and infinity: a model's built-ins keep them as floats.
    return model_builtins(value) if is_model(value) else _enc_hook(value)


def _dec_hook(type_hint: Any, value: Any) -> Any:
    if type_hint is Secret:
        if not isinstance(value, str):
            raise TypeError(f"Expected `str` for a Secret, got `{type(value).__name__}`")
        return Secret(value)
    if is_model_class(type_hint):  # a model inside a Struct or a dataclass
        return validate_nested(type_hint, value)
    raise NotImplementedError


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_msgpack_encoder = msgspec.msgpack.Encoder(enc_hook=_msgpack_hook)
_NON_FINITE_FLOAT = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")
"""A msgpack float64 whose exponent bits are all ones: NaN or infinity (or string bytes)."""
masking_encoder = msgspec.json.Encoder(enc_hook=_masking_hook)
"""Encodes like fnact's converter, but writes every `Secret` as its mask."""
_decoders: dict[Any, Decoder] = {}


def decoder_for(type_hint: Any) -> Decoder:
    """Return a cached strict JSON decoder for ``type_hint``.

    msgspec's, or pydantic's validator for a type holding pydantic models (see
    `fnact._pydantic`); both raise ``msgspec.ValidationError`` naming the path.
    """
    try:
        return _decoders[type_hint]
    except KeyError:
        decoder = new_decoder(type_hint)
        _decoders[type_hint] = decoder
        return decoder
    except TypeError:  # unhashable typing construct: do not cache
        return new_decoder(type_hint)


def new_decoder(type_hint: Any) -> Decoder:
    """Build the strict JSON decoder `decoder_for` caches, without caching it."""
    decoder = msgspec.json.Decoder(type_hint, strict=True, dec_hook=_dec_hook)
    return model_decoder(type_hint, decoder)


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
    elif is_model(value):
        items = model_items(value)
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


_TEMPORAL_ENCODED = (bytes, google.protobuf.message.Message)
"""Types Temporal's own converters encode (with ``None``): fnact keeps their encodings."""


def to_payload(value: Any) -> temporalio.api.common.v1.Payload:
    """Encode ``value`` exactly as `data_converter` would, without its per-call overhead.

    ``None``, bytes and protobuf messages keep Temporal's encodings; the rest is
    msgspec JSON built straight into a payload.

    Raises:
        TypeError: ``value`` has a type msgspec cannot encode; the message names it.
        NonFiniteFloatError: ``value`` holds NaN or infinity; the message names where.
    """
    if value is None or isinstance(value, _TEMPORAL_ENCODED):
        return _temporal_payload(value)
    return _json_payload(value)


def to_sized_payload(value: Any) -> tuple[temporalio.api.common.v1.Payload, int]:
    """Return `to_payload` of ``value`` and its size as Temporal measures it (`payloads_size`).

    Raises:
        TypeError: ``value`` has a type msgspec cannot encode; the message names it.
        NonFiniteFloatError: ``value`` holds NaN or infinity; the message names where.
    """
    if value is None or isinstance(value, _TEMPORAL_ENCODED):
        payload = _temporal_payload(value)
        return payload, payloads_size(payload)
    payload = _json_payload(value)
    return payload, json_payload_size(payload)


def _json_payload(value: Any) -> temporalio.api.common.v1.Payload:
    payload = temporalio.api.common.v1.Payload(data=encode(value))
    payload.metadata["encoding"] = _ENCODING
    return payload


def _temporal_payload(value: Any) -> temporalio.api.common.v1.Payload:
    # None, bytes or a protobuf message: the first of Temporal's converters that takes it.
    for converter in _TEMPORAL_CONVERTERS:
        payload = converter.to_payload(value)
        if payload is not None:
            return payload
    raise TypeError(f"no converter for {type(value).__qualname__}")  # pragma: no cover


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
        return _json_payload(value)

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


_TEMPORAL_CONVERTERS: tuple[temporalio.converter.EncodingPayloadConverter, ...] = (
    temporalio.converter.BinaryNullPayloadConverter(),
    temporalio.converter.BinaryPlainPayloadConverter(),
    temporalio.converter.JSONProtoPayloadConverter(),
    temporalio.converter.BinaryProtoPayloadConverter(),
)


class MsgspecPayloadConverter(temporalio.converter.CompositePayloadConverter):
    """Temporal's standard converters with msgspec taking the ``json/plain`` encoding.

    ``None``, ``bytes`` and protobuf messages keep Temporal's own encodings;
    everything else is msgspec JSON. It encodes and decodes what the composite
    converter would, going straight to msgspec for ``json/plain`` instead of
    asking each converter in turn.
    """

    def __init__(self) -> None:
        self._json = MsgspecJSONPayloadConverter()
        super().__init__(*_TEMPORAL_CONVERTERS, self._json)

    def to_payloads(self, values: Sequence[Any]) -> list[temporalio.api.common.v1.Payload]:
        """Encode each value: a `RawValue` as its payload, the rest as `to_payload` does.

        Raises:
            TypeError: a value has a type msgspec cannot encode; the message names it.
            NonFiniteFloatError: a value holds NaN or infinity; the message names where.
        """
        return [
            value.payload if isinstance(value, temporalio.common.RawValue) else to_payload(value)
            for value in values
        ]

    def from_payloads(
        self,
        payloads: Sequence[temporalio.api.common.v1.Payload],
        type_hints: list[type] | None = None,
    ) -> list[Any]:
        """Decode each payload as its type hint, ``json/plain`` with msgspec directly.

        Raises:
            msgspec.ValidationError: a JSON payload does not match its type hint; the
                message ends with the ``$`` path at fault.
        """
        if type_hints is None or len(type_hints) != len(payloads):
            return super().from_payloads(payloads, type_hints)
        values: list[Any] = []
        for payload, hint in zip(payloads, type_hints, strict=True):
            if hint is temporalio.common.RawValue:
                values.append(temporalio.common.RawValue(payload))
            elif payload.metadata.get("encoding") == _ENCODING:
                values.append(self._json.from_payload(payload, hint))
            else:
                values.extend(super().from_payloads([payload], [hint]))
        return values


_PLAIN_TYPES: tuple[type, ...] = (
    msgspec.Struct, Secret, enum.Enum, str, int, float, bool, bytes, bytearray, memoryview,
    datetime.datetime, datetime.date, datetime.time, datetime.timedelta, uuid.UUID,
    decimal.Decimal, list, dict, tuple, set, frozenset, google.protobuf.message.Message,
)  # fmt: skip


def msgspec_handles(type_hint: Any) -> bool:
    """Whether fnact's msgspec converter decodes ``type_hint`` (not another converter).

    Structs, dataclasses, attrs classes, TypedDicts, NamedTuples, enums and the
    built-in types are msgspec's; a class it does not know belongs to the
    converter the client had, and so does a pydantic model: fnact's converter
    decodes models when it is the only one, and leaves them to the client's
    converter when it stands in front of one (fnact's activities still decode
    their own input, strictly).

    >>> msgspec_handles(list[int]), msgspec_handles(dict[str, "object"])
    (True, True)
    """
    try:
        return _handles(type_hint)
    except TypeError:  # an unhashable typing construct: not cached
        return _handles.__wrapped__(type_hint)


@functools.lru_cache(maxsize=1024)
def _handles(type_hint: Any) -> bool:
    if type_hint in (Any, None, type(None)) or isinstance(type_hint, str | typing.TypeVar):
        return True
    origin = typing.get_origin(type_hint)
    if origin is typing.Literal:
        return True
    if origin is typing.Annotated:
        return msgspec_handles(typing.get_args(type_hint)[0])
    if origin is not None:  # list[X], dict[K, V], unions
        return all(msgspec_handles(a) for a in typing.get_args(type_hint) if a is not Ellipsis)
    supertype = getattr(type_hint, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return msgspec_handles(supertype)
    if not isinstance(type_hint, type):
        return True
    return (
        issubclass(type_hint, _PLAIN_TYPES)
        or dataclasses.is_dataclass(type_hint)
        or hasattr(type_hint, "__attrs_attrs__")
        or typing.is_typeddict(type_hint)
    )


class CoexistingPayloadConverter(MsgspecPayloadConverter):
    """fnact's converter in front of the converter a client already had.

    Values msgspec encodes (Structs, dataclasses, built-ins) and type hints it
    decodes go through msgspec; everything else goes to ``fallback_class`` (for
    example ``temporalio.contrib.pydantic``'s converter for pydantic models).
    A pydantic model, and a model type hint, go to the fallback too, so the app's
    converter keeps its own options and its own validation for them.
    `with_fnact_converter` builds a subclass naming the fallback.
    """

    fallback_class: typing.ClassVar[type[temporalio.converter.PayloadConverter]]

    def __init__(self) -> None:
        super().__init__()
        self._fallback = self.fallback_class()

    def to_payloads(self, values: Sequence[Any]) -> list[temporalio.api.common.v1.Payload]:
        """Encode each value with msgspec, or with the fallback (models, what msgspec cannot)."""
        payloads: list[temporalio.api.common.v1.Payload] = []
        for value in values:
            if is_model(value):
                payloads.extend(self._fallback.to_payloads([value]))
                continue
            try:
                payloads.extend(super().to_payloads([value]))
            except TypeError:
                payloads.extend(self._fallback.to_payloads([value]))
        return payloads

    def from_payloads(
        self,
        payloads: Sequence[temporalio.api.common.v1.Payload],
        type_hints: list[type] | None = None,
    ) -> list[Any]:
        """Decode each payload with msgspec when its type hint is msgspec's, else the fallback.

        Raises:
            TypeError: the fallback converter could not decode it either; the message
                names the type and the payload's encoding.
        """
        values: list[Any] = []
        for index, payload in enumerate(payloads):
            hint = type_hints[index] if type_hints and index < len(type_hints) else None
            if msgspec_handles(hint):
                values.extend(super().from_payloads([payload], None if hint is None else [hint]))
                continue
            try:
                values.extend(self._fallback.from_payloads([payload], [hint]))  # type: ignore[list-item]
            except Exception as exc:
                encoding = payload.metadata.get("encoding", b"").decode(errors="replace")
                raise TypeError(
                    f"a {encoding!r} payload cannot be decoded as {hint!r}: fnact's msgspec "
                    f"converter does not handle that type, and the client's "
                    f"{self.fallback_class.__qualname__} failed: {exc!r}"
                ) from exc
        return values


def is_fnact_converter(converter: temporalio.converter.DataConverter) -> bool:
    """Whether ``converter`` already uses fnact's payload converter."""
    return issubclass(converter.payload_converter_class, MsgspecPayloadConverter)


def with_fnact_converter(
    converter: temporalio.converter.DataConverter | None,
) -> temporalio.converter.DataConverter:
    """Return ``converter`` with fnact's payload converter in front of its own.

    The payload codec, failure converter and the rest are kept; a converter that
    is already fnact's is returned as is. Temporal's default payload converter
    is replaced outright (msgspec covers what it encodes); any other one stays
    behind fnact's for the types msgspec does not handle.
    """
    if converter is None or converter.payload_converter_class is (
        temporalio.converter.DefaultPayloadConverter
    ):
        base = temporalio.converter.DataConverter.default if converter is None else converter
        return _fnact_data_converter(base, MsgspecPayloadConverter)
    if is_fnact_converter(converter):
        return converter
    fallback = converter.payload_converter_class
    coexisting = type(
        f"FnactWith{fallback.__name__}",
        (CoexistingPayloadConverter,),
        {"fallback_class": fallback, "__module__": __name__},
    )
    return _fnact_data_converter(converter, coexisting)


class FnactDataConverter(temporalio.converter.DataConverter):
    """Temporal's data converter, without its pass-through steps when they have nothing to do.

    With no payload codec and no external storage, Temporal's codec and storage
    steps only copy the list of payloads, three awaits each way. Then encoding is
    the payload converter's ``to_payloads``, and decoding its ``from_payloads``
    (payloads referring to external storage still take Temporal's path, which
    reports them). `RawValue` s, which fnact's activities take and return, pass
    straight through, as Temporal's converters pass them. Anything configured
    keeps Temporal's steps in full.
    """

    async def encode(self, values: Sequence[Any]) -> list[temporalio.api.common.v1.Payload]:
        """Encode ``values`` into payloads (see `temporalio.converter.DataConverter.encode`)."""
        if self.payload_codec is None and self.external_storage is None:
            if len(values) == 1 and type(values[0]) is temporalio.common.RawValue:
                return [values[0].payload]
            return self.payload_converter.to_payloads(values)
        return await super().encode(values)

    async def decode(
        self,
        payloads: Sequence[temporalio.api.common.v1.Payload],
        type_hints: list[type] | None = None,
    ) -> list[Any]:
        """Decode ``payloads`` into values (see `temporalio.converter.DataConverter.decode`).

        A `RawValue` is not checked here: fnact's adapter checks its payload's
        encoding itself, and reports an external storage reference as Temporal does.
        """
        if self.payload_codec is None and self.external_storage is None:
            if type_hints == _ONE_RAW_VALUE and len(payloads) == 1:
                return [temporalio.common.RawValue(payloads[0])]
            if all(only_encoded(payload) for payload in payloads):
                return self.payload_converter.from_payloads(payloads, type_hints)
        return await super().decode(payloads, type_hints)


_ONE_RAW_VALUE = [temporalio.common.RawValue]


def only_encoded(payload: temporalio.api.common.v1.Payload) -> bool:
    """Whether ``payload``'s only metadata is its encoding, and not an external storage one."""
    metadata = payload.metadata
    return len(metadata) == 1 and metadata.get("encoding") not in _NOT_PLAIN


_NOT_PLAIN = (None, b"json/external-storage-reference")


def refers_to_external_storage(payload: temporalio.api.common.v1.Payload) -> bool:
    """Whether ``payload`` only points at a value kept in Temporal's external storage."""
    metadata = payload.metadata
    encoding = metadata.get("encoding")
    return (
        encoding == b"json/external-storage-reference"
        or (
            encoding == b"json/protobuf"
            and metadata.get("messageType") == b"temporal.api.sdk.v1.ExternalStorageReference"
        )
        or metadata.get("__temporal_external_storage_reference") == b"true"
    )


def _fnact_data_converter(
    base: temporalio.converter.DataConverter,
    payload_converter_class: type[temporalio.converter.PayloadConverter],
) -> temporalio.converter.DataConverter:
    # Temporal's own DataConverter becomes the fast subclass; a subclass of the
    # user's keeps its class (and Temporal's steps).
    if type(base) not in (temporalio.converter.DataConverter, FnactDataConverter):
        return dataclasses.replace(base, payload_converter_class=payload_converter_class)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.init}
    fields["payload_converter_class"] = payload_converter_class
    return FnactDataConverter(**fields)


data_converter: temporalio.converter.DataConverter = _fnact_data_converter(
    temporalio.converter.DataConverter.default, MsgspecPayloadConverter
)
"""The data converter fnact's clients and workers use."""
