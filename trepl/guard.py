"""Calls into the user's objects that must never end a session.

The printer, completer, help pages, namespace scans and the kernel all call methods the user
wrote (`__repr__`, `__doc__`, `__getattr__`, `__getattribute__`, `keys()`), and any of them may
raise, loop into RecursionError or even call sys.exit(). Those calls go through here: a failure
becomes a short text that names the object's type and what failed, and the front end goes on.
Ctrl-C (KeyboardInterrupt) is never swallowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
MESSAGE_CHARS = 200  # how much of a failing object's error message is quoted


def type_name(obj: Any) -> str:
    """The object's class name, read with type() (never through the object's own attributes)."""
    cls = type(obj)
    name = getattr(cls, "__qualname__", None)
    return name if isinstance(name, str) else cls.__name__


def error_text(exc: BaseException) -> str:
    """`Name: message`, shortened; an exception whose str() itself fails still gets a text."""
    try:
        message = str(exc)
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - its __str__ is user code too
        message = "<str() of the exception failed>"
    if len(message) > MESSAGE_CHARS:
        message = message[: MESSAGE_CHARS - 3] + "..."
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def failure(obj: Any, what: str, exc: BaseException) -> str:
    """`<B object: repr() failed: ZeroDivisionError: division by zero>`."""
    return f"<{type_name(obj)} object: {what} failed: {error_text(exc)}>"


def safe_repr(obj: Any) -> str:
    """repr(obj), or a `failure` text when the object's __repr__ raises."""
    try:
        return repr(obj)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit in a __repr__ must not exit th
        return failure(obj, "repr()", exc)


def attempt(call: Callable[[], T], default: T) -> T:
    """call(), or `default` when it raises anything but KeyboardInterrupt."""
    try:
        return call()
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - the caller has a sensible default
        return default
