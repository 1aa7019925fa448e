"""pydantic v2 models on fnact's side: found without importing pydantic, validated strictly.

pydantic is optional, and nothing here imports it when fnact is imported. A model class
exists only once something imported pydantic, so a class is a model when it subclasses
``BaseModel`` of the ``pydantic.main`` already in `sys.modules`; pydantic's validators
are built the first time a type needs them.

Decoding goes by the type asked for (`model_decoder`):

- a model, or a list, tuple, dict with ``str`` keys or union of models and plain JSON
  types (``list[Item]``, ``Item | None``): pydantic's own validator on the JSON bytes,
  strict (``validate_json(data, strict=True)``), for the whole value;
- any other type holding a model (a msgspec Struct or a dataclass with a model field, a
  `fnact.Fault` among them): msgspec decodes it, and pydantic validates each model in it
  (`validate_nested`), strictly too.

A model whose class sets ``model_config = ConfigDict(strict=False)`` is validated with its
own settings instead. A value that does not validate raises ``msgspec.ValidationError``
(malformed JSON, ``msgspec.DecodeError``) whose message ends with the ``$`` path of the
first field at fault, as msgspec's do. Models are encoded by alias (`model_json`), as
``temporalio.contrib.pydantic`` encodes them, so what one side writes the other reads.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

import msgspec
import msgspec.inspect as mi

__all__ = [
    "Decoder",
    "is_model",
    "is_model_class",
    "model_builtins",
    "model_decoder",
    "model_items",
    "model_json",
    "needs_pydantic",
    "validate_nested",
]


class Decoder(Protocol):
    """What decodes one JSON document as a type: a msgspec decoder, or pydantic's validator."""

    def decode(self, buf: bytes) -> Any:
        """Decode ``buf``; raise ``msgspec.ValidationError`` when it does not fit the type."""
        ...


def _base_model() -> type | None:
    """Return pydantic's ``BaseModel`` when pydantic's models are loaded, without importing it."""
    main = sys.modules.get("pydantic.main")
    base: type | None = getattr(main, "BaseModel", None)
    return base


def is_model_class(type_hint: Any) -> bool:
    """Whether ``type_hint`` is a pydantic v2 model class (a ``BaseModel`` subclass)."""
    base = _base_model()
    return base is not None and isinstance(type_hint, type) and issubclass(type_hint, base)


def is_model(value: Any) -> bool:
    """Whether ``value`` is an instance of a pydantic v2 model."""
    base = _base_model()
    return base is not None and isinstance(value, base)


def model_json(value: Any) -> bytes:
    """Encode the model ``value`` as JSON, by alias (as ``model_dump_json(by_alias=True)``)."""
    data: bytes = type(value).__pydantic_serializer__.to_json(value, by_alias=True)
    return data


def model_builtins(value: Any) -> Any:
    """Return the model ``value`` as JSON-ready built-ins, NaN and infinity kept as floats."""
    return value.model_dump(mode="json", by_alias=True)


def model_items(value: Any) -> Iterator[tuple[str, Any]]:
    """Yield each field of the model ``value`` as ``(its JSON name, its value)``."""
    for name, field in type(value).model_fields.items():
        yield field.serialization_alias or field.alias or name, getattr(value, name)


Route = Literal["pydantic", "msgspec"]
_NESTED_TYPES = (
    mi.ListType, mi.VarTupleType, mi.TupleType, mi.DictType, mi.UnionType, mi.NoneType,
    mi.AnyType, mi.StrType, mi.IntType, mi.FloatType, mi.BoolType, mi.LiteralType, mi.EnumType,
)  # fmt: skip
"""Types around models that pydantic reads from JSON exactly as msgspec writes them."""
_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "pattern", "min_length", "max_length")


def _route(type_hint: Any) -> Route | None:
    """Return who decodes ``type_hint``'s models: pydantic for the whole value, or per model."""
    if _base_model() is None:
        return None
    try:
        info = mi.type_info(type_hint)
    except (TypeError, ValueError):
        return None
    models, plain = _scan(info, set())
    if not models:
        return None
    return "pydantic" if plain else "msgspec"


def _scan(info: mi.Type, seen: set[int]) -> tuple[bool, bool]:
    """Return whether ``info`` holds a model, and whether all around its models is plain JSON."""
    if isinstance(info, mi.CustomType):
        model = is_model_class(info.cls)
        return model, model
    if id(info) in seen:  # seen already (a recursive type): its first visit counted
        return False, True
    seen.add(id(info))
    plain = isinstance(info, _NESTED_TYPES) and not any(
        getattr(info, name, None) is not None for name in _CONSTRAINTS
    )
    if isinstance(info, mi.DictType) and type(info.key_type) is not mi.StrType:
        plain = False  # msgspec writes other keys as strings, which strict pydantic may refuse
    children: list[Any] = []
    for attr in ("item_type", "key_type", "value_type"):
        if hasattr(info, attr):
            children.append(getattr(info, attr))
    children.extend(getattr(info, "types", ()))
    children.extend(getattr(info, "item_types", ()))
    children.extend(f.type for f in getattr(info, "fields", ()))
    models = False
    for child in children:
        has_model, child_plain = _scan(child, seen)
        models = models or has_model
        plain = plain and child_plain
    return models, plain


def needs_pydantic(type_hint: Any) -> bool:
    """Whether decoding ``type_hint`` validates a pydantic model somewhere in it."""
    return _route(type_hint) is not None


def model_decoder(type_hint: Any, msgspec_decoder: Decoder) -> Decoder:
    """Return the decoder of ``type_hint``: ``msgspec_decoder`` itself when it holds no model.

    ``msgspec_decoder`` must validate the models inside with `validate_nested` (its
    ``dec_hook``). Building pydantic's validator can raise pydantic's errors for a
    model that is not fully defined.
    """
    route = _route(type_hint)
    if route is None:
        return msgspec_decoder
    if route == "pydantic":
        return _PydanticDecoder(type_hint)
    return _NestedModelsDecoder(msgspec_decoder)


def _strictness(type_hint: Any) -> bool | None:
    """Strict, unless ``type_hint`` is a model whose config says ``strict=False`` itself."""
    config = getattr(type_hint, "model_config", None) if is_model_class(type_hint) else None
    return None if isinstance(config, dict) and config.get("strict") is False else True


class _PydanticDecoder:
    """Validate JSON bytes with pydantic's validator for the type, strictly."""

    __slots__ = ("_error", "_strict", "_validate")

    def __init__(self, type_hint: Any) -> None:
        # Imported here, where pydantic is loaded already: the type holds a model.
        import pydantic
        import pydantic_core

        adapter = pydantic.TypeAdapter(type_hint)
        complete = getattr(adapter, "pydantic_complete", False)
        # The validator itself saves the adapter's wrapper; an incomplete one rebuilds first.
        self._validate: Callable[..., Any] = (
            adapter.validator.validate_json if complete else adapter.validate_json
        )
        self._strict = _strictness(type_hint)
        self._error: type[Exception] = pydantic_core.ValidationError

    def decode(self, buf: bytes) -> Any:
        """Validate ``buf`` as the type.

        Raises:
            msgspec.ValidationError: it does not validate; the message ends with the path.
            msgspec.DecodeError: it is not JSON.
        """
        try:
            return self._validate(buf, strict=self._strict)
        except self._error as exc:
            raise _msgspec_error(exc) from None


def _msgspec_error(exc: Any) -> msgspec.DecodeError:
    """Turn pydantic's ``ValidationError`` into msgspec's, naming the first error's path."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    if not errors:  # pragma: no cover - pydantic always reports at least one
        return msgspec.ValidationError(f"{exc} - at `$`")
    first = errors[0]
    if first["type"] == "json_invalid":
        return msgspec.DecodeError(first["msg"])
    return msgspec.ValidationError(f"{first['msg']} - at `{loc_path(first['loc'])}`")


def loc_path(loc: tuple[int | str, ...]) -> str:
    """Write pydantic's ``loc`` as msgspec's ``$`` path.

    >>> loc_path(("items", 0, "qty"))
    '$.items[0].qty'
    """
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


_validators: dict[Any, _PydanticDecoder] = {}
_NESTED_PATH = re.compile(r" - at `\$([^`]*)` - at `\$([^`]*)`$", re.S)


def validate_nested(model: type, value: Any) -> Any:
    """Validate ``value`` (built-ins msgspec decoded) as ``model``, as its JSON would be.

    The value is encoded back to JSON, so pydantic's strict mode applies as to JSON
    (a datetime from a string, say). Called by msgspec's ``dec_hook``.

    Raises:
        ValueError: it does not validate: msgspec adds where the model is.
    """
    try:
        validator = _validators[model]
    except KeyError:
        validator = _validators[model] = _PydanticDecoder(model)
    try:
        return validator.decode(msgspec.json.encode(value))
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


class _NestedModelsDecoder:
    """A msgspec decoder whose models pydantic validates: errors name the whole path."""

    __slots__ = ("_decoder",)

    def __init__(self, decoder: Decoder) -> None:
        self._decoder = decoder

    def decode(self, buf: bytes) -> Any:
        """Decode ``buf`` with msgspec and each model in it with pydantic.

        Raises:
            msgspec.ValidationError: it does not fit; the message ends with the full path
                (``$.detail.items[0].qty``: the model's place and the field's in it).
        """
        try:
            return self._decoder.decode(buf)
        except msgspec.ValidationError as exc:
            message = str(exc)
            nested = _NESTED_PATH.search(message)
            if nested is None:
                raise
            inner, outer = nested.groups()
            raise msgspec.ValidationError(
                f"{message[: nested.start()]} - at `${outer}{inner}`"
            ) from None
