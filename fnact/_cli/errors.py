"""The errors that end a command: `CommandError` (one line, an exit code) and `Terminated`."""

from __future__ import annotations

__all__ = ["CommandError", "Terminated"]


class CommandError(Exception):
    """A failure the command reports as one line, with its exit code."""

    def __init__(self, message: str, *, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Terminated(BaseException):
    """SIGTERM arrived before the worker handled it: stop at once."""
