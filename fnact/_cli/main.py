"""The root parser of the ``fnact`` command, its dispatch to a command, and its exit codes."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn

import temporalio.service

from fnact._cli import check, dev, worker
from fnact._cli.errors import CommandError, Terminated
from fnact._cli.watch import command as watch
from fnact._version import __version__
from fnact.exceptions import FnactError

__all__ = ["main", "run"]

PROG = "fnact"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fnact`` command on ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    command: Callable[[argparse.Namespace], int] = options.command
    try:
        return command(options)
    except CommandError as exc:
        _error(str(exc))
        return exc.code
    except FnactError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 143
    except BrokenPipeError:  # the reader went away, as in `fnact watch ID | head -3`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run() -> NoReturn:
    """Run `main` and exit with its code: the console script and ``python -m fnact``.

    The exit skips the interpreter's teardown (after running ``atexit`` functions
    and flushing output): temporalio's Rust threads can abort a teardown that
    races with them (temporalio/sdk-python#300), turning any exit code into 134.
    """
    try:
        code = main()
    except Exception:  # a bug, here or in the user's code: its traceback is what helps
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream
            stream.flush()
    os._exit(code)


def _error(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run a Temporal dev server, a worker of your fnact code, or watch a run.",
        epilog="Exit status: 0 ok, 1 error (or a watched run that did not complete), "
        "2 usage error, 130 interrupted.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"fnact {__version__} (temporalio {temporalio.service.__version__}, Python "
        f"{sys.version.split()[0]})",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for command in (dev, worker, watch, check):  # in this order in --help
        command.add_parser(commands)
    return parser
