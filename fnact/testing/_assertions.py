"""Assertions on `returns` Results with readable failure messages."""

from __future__ import annotations

import difflib
import pprint
from typing import Any, TypeVar, overload

from returns.result import Failure, Result, Success

from fnact.testing._run import ActivityRun

__all__ = ["assert_failure", "assert_success"]

R = TypeVar("R")
E = TypeVar("E")
F = TypeVar("F")

_MISSING: Any = object()


def _show(value: object) -> str:
    return pprint.pformat(value, width=88, sort_dicts=False)


def _diff(expected: object, actual: object) -> str:
    lines = difflib.unified_diff(
        _show(expected).splitlines(), _show(actual).splitlines(), "expected", "actual", lineterm=""
    )
    return "\n".join(lines)


def _result_of(result: Any) -> Any:
    """Accept a Result, an ActivityRun (whose exception fails the assertion) or None."""
    __tracebackhide__ = True
    run_exception = getattr(result, "exception", None)
    if isinstance(run_exception, BaseException):
        raise AssertionError(
            f"the activity raised {type(run_exception).__name__}: {run_exception}"
        ) from run_exception
    if hasattr(result, "heartbeats"):  # an ActivityRun
        return result.result
    return result


# Overloads, so that the signatures the reference shows do not name the private sentinel.
@overload
def assert_success(result: Result[R, Any] | ActivityRun[R, Any] | None) -> R: ...


@overload
def assert_success(result: Result[R, Any] | ActivityRun[R, Any] | None, expected: R) -> R: ...


def assert_success(
    result: Result[R, Any] | ActivityRun[R, Any] | None, expected: R = _MISSING
) -> R:
    """Assert ``result`` is ``Success`` (equal to ``expected`` if given) and return its value.

    ``result`` may be a `Result` or an `ActivityRun`; a run that raised fails the
    assertion with its exception.

    Examples:
        >>> assert_success(Success(3))
        3
    """
    __tracebackhide__ = True
    result = _result_of(result)
    if not isinstance(result, Success):
        if isinstance(result, Failure):
            error = result.failure()
            raise AssertionError(
                f"expected Success, got Failure({type(error).__name__}):\n{_show(error)}"
            )
        raise AssertionError(f"expected a Success, got {type(result).__name__}: {result!r}")
    value: R = result.unwrap()
    if expected is not _MISSING and value != expected:
        raise AssertionError(f"Success value differs:\n{_diff(expected, value)}")
    return value


@overload
def assert_failure(
    result: Result[Any, E] | ActivityRun[Any, E] | None, error_type: type[F]
) -> F: ...


@overload
def assert_failure(
    result: Result[Any, E] | ActivityRun[Any, E] | None, error_type: type[F], expected: F
) -> F: ...


def assert_failure(
    result: Result[Any, E] | ActivityRun[Any, E] | None, error_type: type[F], expected: F = _MISSING
) -> F:
    """Assert ``result`` is ``Failure`` of ``error_type`` (equal to ``expected``) and return it.

    ``result`` may be a `Result` or an `ActivityRun`.

    Examples:
        >>> from fnact import Fault
        >>> class Gone(Fault):
        ...     key: str
        >>> assert_failure(Failure(Gone(key="a")), Gone)
        Gone(key='a')
    """
    __tracebackhide__ = True
    result = _result_of(result)
    if isinstance(result, Success):
        raise AssertionError(
            f"expected Failure({error_type.__name__}), got Success:\n{_show(result.unwrap())}"
        )
    if not isinstance(result, Failure):
        raise AssertionError(f"expected a Failure, got {type(result).__name__}: {result!r}")
    error = result.failure()
    if not isinstance(error, error_type):
        raise AssertionError(
            f"expected Failure({error_type.__name__}), got Failure({type(error).__name__}):\n"
            f"{_show(error)}"
        )
    if expected is not _MISSING and error != expected:
        raise AssertionError(f"Failure differs:\n{_diff(expected, error)}")
    return error
