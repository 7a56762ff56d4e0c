"""The memory ledger: device memory under `who()`, `free(name)`, and the `_RESULTS` warning.

`who()` already lists the arrays bound to names; the ledger adds what they cannot show: the
devices' own memory counters (`Device.memory_stats()`, which GPUs and TPUs give and the CPU
backend does not), what `_RESULTS` holds, and how many recompilations the session had.
`free('x')` unbinds a name and drops the `_RESULTS` entries that hold the same arrays, then
reports how many bytes were really released: an array still referenced elsewhere (another
name, a module) is not, and the report names what still holds it when that is a name.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any

from trepl.timing import array_leaves, imported

# `_RESULTS` holding more than this share of the device's memory (or, on the CPU, of the
# machine's) draws a warning after the cell; `free()` or `setresults()` then help.
WARN_SHARE = 0.25
WARN_FLOOR = 64 << 20  # below this many bytes `_RESULTS` is not worth a warning


def _bytes(n: float) -> str:
    from trepl.printer import _bytes_text

    return _bytes_text(int(n))


def _leaves(value: Any) -> list[Any]:
    """The array leaves of a value: JAX arrays (any pytree) and numpy arrays at the top.

    Types are read with type(), not isinstance(), which may ask the object for `__class__`;
    an object that raises anyway holds no arrays as far as the ledger is concerned.
    """
    np = imported("numpy")
    try:
        if np is not None and issubclass(type(value), np.ndarray):
            return [value]
        leaves = array_leaves(value)
        if np is not None and type(value) in (list, tuple, dict):
            items = value.values() if type(value) is dict else value
            leaves += [v for v in items if issubclass(type(v), np.ndarray)]
    except Exception:  # noqa: BLE001 - a user object that raises on inspection
        return []
    return leaves


def device_lines() -> list[str]:
    """One line per device with its memory counters, or why there are none (JAX not loaded, or
    a backend such as the CPU's that gives no `memory_stats()`)."""
    jax = imported("jax")
    if jax is None:
        return ["device memory: JAX not loaded yet"]
    lines = []
    for device in jax.devices():
        name = f"{device.platform}:{device.id}"
        try:
            counters = device.memory_stats()
        except Exception as exc:  # noqa: BLE001 - a backend without the call
            counters, why = None, f"memory_stats() failed: {exc}"
        else:
            why = "its backend gives no memory_stats()"
        if not counters:
            lines.append(f"device {name}: no memory counters ({why})")
            continue
        used = counters.get("bytes_in_use", 0)
        limit = counters.get("bytes_limit")
        peak = counters.get("peak_bytes_in_use")
        text = f"device {name}: {_bytes(used)} in use"
        if limit:
            text += f" of {_bytes(limit)} ({used / limit:.0%})"
        if peak:
            text += f", peak {_bytes(peak)}"
        lines.append(text)
    return lines


def memory_limit() -> tuple[int, str] | None:
    """(bytes, what) of the memory `_RESULTS` is measured against: the first device's limit,
    else the machine's physical memory."""
    jax = imported("jax")
    if jax is not None:
        try:
            counters = jax.devices()[0].memory_stats() or {}
        except Exception:  # noqa: BLE001
            counters = {}
        if counters.get("bytes_limit"):
            return int(counters["bytes_limit"]), "device memory"
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "the machine's memory"
    except (ValueError, OSError, AttributeError):
        return None


def results_line(namespace: dict[str, Any]) -> str | None:
    results = namespace.get("_RESULTS")
    total = getattr(results, "total_bytes", None)
    if total is None:
        return None
    return f"_RESULTS: {len(results)} result(s) holding {_bytes(total)} of arrays"


class ResultsWarning:
    """Warns once when `_RESULTS` holds more than `WARN_SHARE` of memory (again after it fell)."""

    def __init__(self) -> None:
        self._warned = False
        self._limit: tuple[int, str] | None = None

    def check(self, namespace: dict[str, Any]) -> str | None:
        total = getattr(namespace.get("_RESULTS"), "total_bytes", 0)
        if total < WARN_FLOOR:
            self._warned = False
            return None
        if self._limit is None:
            self._limit = memory_limit()
        if self._limit is None:
            return None
        limit, what = self._limit
        if total <= WARN_SHARE * limit:
            self._warned = False
            return None
        if self._warned:
            return None
        self._warned = True
        return (
            f"warning: _RESULTS holds {_bytes(total)} of arrays, {total / limit:.0%} of "
            f"{what} (more than {WARN_SHARE:.0%}): free('name') or setresults(count, nbytes) "
            "releases them"
        )


def _weak_leaves(values: list[Any]) -> tuple[set[int], list[tuple[Any, int]]]:
    """The ids of the values' arrays, and (weak reference, bytes) for each: nothing here keeps
    an array alive once the caller lets go of `values`."""
    ids: set[int] = set()
    refs = []
    for leaf in (leaf for value in values for leaf in _leaves(value)):
        if id(leaf) in ids:
            continue
        ids.add(id(leaf))
        try:
            refs.append((weakref.ref(leaf), int(leaf.nbytes)))
        except TypeError:
            continue
    return ids, refs


class Free:
    """free('name', ...): unbind names, drop their arrays from `_RESULTS`, report bytes freed."""

    def __init__(
        self,
        namespace: dict[str, Any],
        protected: set[str],
        snapshot: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> None:
        self._namespace = namespace
        self._protected = protected
        # The evaluator's copy of the names from the cell's start: it would hold the arrays
        # until the cell ends, so the freed names leave it too.
        self._snapshot = snapshot

    def __call__(self, *names: str) -> None:
        ns = self._namespace
        if not names:
            raise TypeError("free: expected one or more variable names as strings, as free('x')")
        for name in names:
            if not isinstance(name, str):
                raise TypeError(
                    f"free: expected a variable name as a string (free('x')), got "
                    f"{type(name).__name__}; a value cannot be freed, only the names that hold it"
                )
            if name not in ns:
                raise NameError(f"free: no variable {name!r} in the namespace")
            rebound = name in self._protected and bool(_leaves(ns[name]))  # `stats = ...`
            if name in ("_RESULTS", "_LAST") or (name in self._protected and not rebound):
                raise ValueError(f"free: {name!r} is one of the shell's own names, not yours")
        ids, refs = _weak_leaves([ns[name] for name in names])
        held = sum(size for _, size in refs)
        snapshot = self._snapshot() or {}
        for name in names:
            del ns[name]
            snapshot.pop(name, None)
        dropped = self._drop_results(ids)
        for key, value in list(snapshot.items()):  # `_LAST` as the cell began, say
            if any(id(leaf) in ids for leaf in _leaves(value)):
                snapshot[key] = ns.get(key)
        released = sum(size for ref, size in refs if ref() is None)
        others = sorted(
            key
            for key, value in ns.items()
            if not key.startswith("_") and any(id(leaf) in ids for leaf in _leaves(value))
        )
        text = f"free: unbound {', '.join(names)}"
        if dropped:
            text += f" and dropped {dropped} result(s) from _RESULTS"
        text += f"; released {_bytes(released)} of {_bytes(held)} in arrays"
        if released < held:
            still = f" (still bound to {', '.join(others)})" if others else ""
            text += f"; the rest is still referenced elsewhere{still}"
        print(text)

    def _drop_results(self, ids: set[int]) -> int:
        ns = self._namespace
        if any(id(leaf) in ids for leaf in _leaves(ns.get("_LAST"))):
            ns["_LAST"] = None
        results = ns.get("_RESULTS")
        if not isinstance(results, list):
            return 0
        keep = [v for v in results if not any(id(leaf) in ids for leaf in _leaves(v))]
        dropped = len(results) - len(keep)
        if dropped:
            results[:] = keep
            trim = getattr(results, "trim", None)
            if trim is not None:
                trim()  # recounts its sizes
        return dropped

    def __repr__(self) -> str:
        return "<free('name'): unbind a variable, drop it from _RESULTS, report the bytes freed>"
