"""Structured logging through the standard library.

`BoundLogger` adds key-value fields to every record it emits: the activity's
workflow id, run id, activity type, attempt and task queue, plus whatever the
caller passes (``logger.info("fetched", rows=10)``). Records go through plain
`logging`, so any handler or formatter works; `TextFormatter` writes the fields
as ``key=value`` after the message, and `JSONFormatter` writes one JSON object
per line. Importing fnact configures no logging.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from fnact._secret import Secret

__all__ = ["BoundLogger", "JSONFormatter", "TextFormatter"]

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "fields"}


class BoundLogger:
    """A stdlib logger that carries key-value fields into every record.

    Each field is set as an attribute of the `logging.LogRecord` (unless it
    would shadow a standard attribute) and all of them are in ``record.fields``.

    Examples:
        >>> import logging
        >>> log = BoundLogger(logging.getLogger("demo"), {"workflow_id": "wf-1"})
        >>> log.bind(table="users").fields
        {'workflow_id': 'wf-1', 'table': 'users'}
    """

    __slots__ = ("_fields", "_logger")

    def __init__(self, logger: logging.Logger, fields: Mapping[str, Any] | None = None) -> None:
        self._logger = logger
        self._fields: dict[str, Any] = dict(fields or {})

    @property
    def fields(self) -> dict[str, Any]:
        """Return a copy of the bound fields."""
        return dict(self._fields)

    @property
    def logger(self) -> logging.Logger:
        """Return the underlying standard library logger."""
        return self._logger

    def bind(self, **fields: Any) -> BoundLogger:
        """Return a logger with ``fields`` added to the bound ones."""
        return BoundLogger(self._logger, {**self._fields, **fields})

    def debug(self, msg: str, *args: object, **fields: Any) -> None:
        """Log at DEBUG with extra fields."""
        self._log(logging.DEBUG, msg, args, fields)

    def info(self, msg: str, *args: object, **fields: Any) -> None:
        """Log at INFO with extra fields."""
        self._log(logging.INFO, msg, args, fields)

    def warning(self, msg: str, *args: object, **fields: Any) -> None:
        """Log at WARNING with extra fields."""
        self._log(logging.WARNING, msg, args, fields)

    def error(self, msg: str, *args: object, **fields: Any) -> None:
        """Log at ERROR with extra fields."""
        self._log(logging.ERROR, msg, args, fields)

    def exception(self, msg: str, *args: object, **fields: Any) -> None:
        """Log at ERROR with the current exception's traceback and extra fields."""
        self._log(logging.ERROR, msg, args, fields, exc_info=True)

    def _log(
        self,
        level: int,
        msg: str,
        args: tuple[object, ...],
        fields: dict[str, Any],
        exc_info: bool = False,
    ) -> None:
        if not self._logger.isEnabledFor(level):
            return
        merged = {**self._fields, **fields} if fields else dict(self._fields)
        extra = {k: v for k, v in merged.items() if k not in _RESERVED}
        extra["fields"] = merged
        self._logger.log(level, msg, *args, exc_info=exc_info, extra=extra, stacklevel=3)

    def __repr__(self) -> str:
        return f"BoundLogger({self._logger.name!r}, {self._fields!r})"


def _default(value: object) -> object:
    return str(value) if isinstance(value, Secret) else repr(value)


class JSONFormatter(logging.Formatter):
    """Format each record as one line of JSON, with its fields at the top level.

    Examples:
        >>> import logging
        >>> record = logging.makeLogRecord({"msg": "hi", "levelname": "INFO", "created": 0.0})
        >>> JSONFormatter().format(record)
        '{"time":"1970-01-01T00:00:00+00:00","level":"INFO","logger":null,"message":"hi"}'
    """

    def __init__(self) -> None:
        super().__init__()
        self._encoder = msgspec.json.Encoder(enc_hook=_default)

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as a JSON object on one line."""
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return self._encoder.encode(body).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""The line `TextFormatter` writes before a record's fields."""


class TextFormatter(logging.Formatter):
    """Format each record as a text line, its bound fields after the message as ``key=value``.

    A value with a space, a quote or an ``=`` is quoted; a `Secret` shows its mask.

    Examples:
        >>> import logging
        >>> record = logging.makeLogRecord(
        ...     {"msg": "listed tables", "levelname": "INFO", "name": "fnact.activity",
        ...      "fields": {"workflow_id": "wf-1", "attempt": 2, "note": "two words"}}
        ... )
        >>> TextFormatter("%(levelname)s %(name)s: %(message)s").format(record)
        "INFO fnact.activity: listed tables workflow_id=wf-1 attempt=2 note='two words'"
    """

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as one line of text, followed by its traceback if it has one."""
        fields: Mapping[str, Any] = getattr(record, "fields", {})
        if not fields:
            return super().format(record)
        line, newline, rest = super().format(record).partition("\n")
        pairs = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        return f"{line} {pairs}{newline}{rest}"


def _text_value(value: object) -> str:
    text = str(value)
    if not text or any(c in text for c in " \"'=\n"):
        return repr(text)
    return text
