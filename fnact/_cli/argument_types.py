"""Argument types the commands share: a port number, a positive number of seconds."""

from __future__ import annotations

import argparse

__all__ = ["port", "positive_seconds"]


def port(text: str) -> int:
    """Return ``text`` as a port number from 0 to 65535.

    Raises:
        argparse.ArgumentTypeError: it is not one.
    """
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """Return ``text`` as a number of seconds greater than 0.

    Raises:
        argparse.ArgumentTypeError: it is not one.
    """
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value
