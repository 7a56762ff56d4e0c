"""trepl.guard: calls into the user's objects give text, never an exception (but Ctrl-C)."""

import weakref

import pytest

from trepl import guard


class _Raises:
    def __repr__(self):
        raise ZeroDivisionError("division by zero")


class _Exits:
    def __repr__(self):
        raise SystemExit(3)


class _Interrupts:
    def __repr__(self):
        raise KeyboardInterrupt


class _BadMessageError(Exception):
    def __str__(self):
        raise ValueError("no text")


def _dead_proxy():
    class Target:
        pass

    target = Target()
    proxy = weakref.proxy(target)
    del target
    return proxy


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_Raises(), "<_Raises object: repr() failed: ZeroDivisionError: division by zero>"),
        (_Exits(), "<_Exits object: repr() failed: SystemExit: 3>"),
        ([1, "a"], "[1, 'a']"),
    ],
)
def test_safe_repr(obj, expected):
    assert guard.safe_repr(obj) == expected


def test_ctrl_c_is_never_swallowed():
    with pytest.raises(KeyboardInterrupt):
        guard.safe_repr(_Interrupts())
    with pytest.raises(KeyboardInterrupt):
        guard.attempt(lambda: repr(_Interrupts()), "")


def test_error_text_of_an_exception_whose_str_raises():
    text = guard.error_text(_BadMessageError())
    assert text == "_BadMessageError: <str() of the exception failed>"
    assert guard.error_text(ValueError("x" * 500)).endswith("...")
    assert len(guard.error_text(ValueError("x" * 500))) < 230


def test_type_name_never_asks_the_object():
    proxy = _dead_proxy()
    with pytest.raises(ReferenceError):
        proxy.anything  # noqa: B018 - the proxy is dead: any attribute raises
    assert guard.type_name(proxy) == type(proxy).__qualname__
    assert guard.attempt(lambda: proxy.anything, "fallback") == "fallback"
