"""A string that never shows its value by accident."""

from __future__ import annotations

from typing import Any

__all__ = ["MASK", "Secret"]

MASK = "********"


class Secret:
    """A credential (password, token, key) that hides itself.

    Its ``repr`` and ``str`` are masked, so it stays out of log records,
    formatted messages, reprs of the Structs that hold it, failure messages and
    failure details. fnact refuses to put one in heartbeat details. Its value
    does travel in activity and workflow *inputs* (the activity needs it): see
    the "Handle secrets" how-to for encrypting payloads with a codec.

    Examples:
        >>> token = Secret("s3cr3t")
        >>> token
        Secret('********')
        >>> f"token={token}"
        'token=********'
        >>> token.reveal()
        's3cr3t'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret: value must be a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value, for the one place that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> Any:
        raise TypeError("Secret cannot be pickled")
