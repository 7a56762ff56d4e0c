"""Shape hints while typing: what the name under the cursor is, read without running anything.

`th` shows the hint in its bottom toolbar: an array's shape, dtype and device, a callable's
signature, or the type of anything else. Each dotted part is looked up with
`inspect.getattr_static` (no `__getattr__`, no property, no descriptor is ever called), a
preloaded module is looked at only once it is imported, and signatures are read only for
plain functions, builtins, classes (from their own `__init__`) and jitted functions, whose
attributes are data, not code. Whatever cannot be read that way gets no hint.
"""

from __future__ import annotations

import inspect
import re
import types
from typing import Any

from trepl.namespace import LazyModule
from trepl.timing import imported

_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*$")
_AFTER = re.compile(r"^[A-Za-z0-9_]*")
_MISSING = object()
MAX_WIDTH = 200


def name_at(text: str, cursor: int) -> str:
    """The dotted name under or just before the cursor (`jnp.zer|os(` -> `jnp.zeros`); inside
    a call's brackets with nothing under the cursor, the called name (`f(a, |` -> `f`)."""
    before = _BEFORE.search(text[:cursor])
    after = _AFTER.match(text[cursor:])
    name = ((before.group(0) if before else "") + (after.group(0) if after else "")).strip(".")
    if name:
        return name
    depth = 0
    for i in range(cursor - 1, -1, -1):
        char = text[i]
        if char in ")]}":
            depth += 1
        elif char in "([{":
            if depth == 0:
                found = _BEFORE.search(text[:i]) if char == "(" else None
                if found:
                    return found.group(0).strip(".")
                continue  # a tuple's bracket, `f((2, |`: look further out
            depth -= 1
    return ""


def _static_attr(obj: Any, attr: str) -> Any:
    """`obj.attr` without running code: a module's global, an instance's or a class's own entry."""
    if _is(obj, LazyModule):
        target = obj.__dict__.get("_lazy_target")
        obj = imported(target) if target else None
        if obj is None:
            return _MISSING  # not imported yet: no hint rather than a one-second import
    try:
        return inspect.getattr_static(obj, attr)
    except AttributeError:
        return _MISSING


def resolve(name: str, namespace: dict[str, Any]) -> Any:
    """The object a dotted name stands for, found statically, or `_MISSING`."""
    head, *rest = name.split(".")
    if head in namespace:
        obj = namespace[head]
    else:
        import builtins

        obj = builtins.__dict__.get(head, _MISSING)
    for part in rest:
        if obj is _MISSING:
            return _MISSING
        obj = _static_attr(obj, part)
    if _is(obj, LazyModule):
        loaded = imported(obj.__dict__.get("_lazy_target", ""))
        return loaded if loaded is not None else obj
    return obj


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    """isinstance by the value's real type: isinstance() may read `value.__class__`, which an
    object can compute."""
    return issubclass(type(value), kind)


def _short(sig: inspect.Signature) -> str:
    """`(shape, dtype=None, *, device=None)`: the toolbar has no room for annotations."""
    empty = inspect.Parameter.empty
    params = [p.replace(annotation=empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _array_hint(value: Any) -> str | None:
    np = imported("numpy")
    if np is not None and type(value) is np.ndarray:
        return f"numpy.ndarray {tuple(value.shape)} {value.dtype}"
    jax = imported("jax")
    if (
        jax is not None
        and issubclass(type(value), jax.Array)
        and type(value).__module__.startswith(("jax", "jaxlib"))
    ):
        try:
            devices = value.devices()
            where = next(iter(devices)) if len(devices) == 1 else f"{len(devices)} devices"
        except Exception:  # noqa: BLE001 - a deleted array still has a shape
            where = "?"
        return f"jax.Array {tuple(value.shape)} {value.dtype} on {where}"
    return None


def _signature_of(value: Any) -> str | None:
    """A signature read from data only, or None where reading it could run user code."""
    target = value
    if _is(value, (staticmethod, classmethod)):
        target = value.__func__
    if _is(value, type):
        init = None
        for klass in value.__mro__:
            init = klass.__dict__.get("__init__")
            if init is not None:
                break
        if init is object.__init__:
            return "()"
        if not _is(init, types.FunctionType):
            return None
        try:
            sig = inspect.signature(init, follow_wrapped=False)
        except (TypeError, ValueError):
            return None
        return _short(sig.replace(parameters=list(sig.parameters.values())[1:]))
    plain = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)
    jitted = type(target).__name__ == "PjitFunction"
    if _is(target, types.MethodType) and not _is(target.__func__, types.FunctionType):
        return None
    if jitted:
        target = inspect.getattr_static(target, "__wrapped__", None)
    if not _is(target, plain):
        return None
    try:
        return _short(inspect.signature(target, follow_wrapped=False))
    except (TypeError, ValueError):
        return None


def hint(text: str, cursor: int, namespace: dict[str, Any]) -> str:
    """The toolbar's text for the name at `cursor` in `text` ('' when there is none)."""
    name = name_at(text, cursor)
    if not name:
        return ""
    value = resolve(name, namespace)
    if value is _MISSING:
        return ""
    shown = _array_hint(value)
    if shown is None:
        signature = _signature_of(value)
        if signature is not None:
            return (name + signature)[:MAX_WIDTH]
        if _is(value, property):
            shown = "property (not evaluated)"
        elif _is(value, types.ModuleType):
            shown = f"module {getattr(value, '__name__', '?')}"
        else:
            klass = type(value)
            shown = f"{klass.__module__}.{klass.__qualname__}".removeprefix("builtins.")
    return f"{name}: {shown}"[:MAX_WIDTH]


class Toolbar:
    """The bottom toolbar's text for a prompt_toolkit buffer; remembers the last answer so the
    several redraws of one keystroke cost one lookup."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace  # a callable giving the live namespace
        self._key: tuple[str, int] | None = None
        self._text = ""
        self.enabled = True

    def text(self, document: Any) -> str:
        if not self.enabled:
            return ""
        key = (document.text, document.cursor_position)
        if key != self._key:
            self._key = key
            try:
                self._text = hint(document.text, document.cursor_position, self._namespace())
            except Exception:  # noqa: BLE001 - a hint must never break typing
                self._text = ""
        return self._text


def hinting_session(toolbar: Toolbar, **kwargs: Any) -> Any:
    """A prompt_toolkit PromptSession whose bottom toolbar shows `toolbar`'s hint, and takes
    no line at all while there is none (prompt_toolkit hides a toolbar that is None)."""
    from prompt_toolkit import PromptSession

    class HintingSession(PromptSession):
        @property
        def bottom_toolbar(self) -> Any:
            text = toolbar.text(self.default_buffer.document)
            return text or None

        @bottom_toolbar.setter
        def bottom_toolbar(self, value: Any) -> None:
            """PromptSession's own assignments are ignored: the hint decides."""

    return HintingSession(**kwargs)
