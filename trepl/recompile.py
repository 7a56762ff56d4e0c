"""Recompilation watch: which argument's shape or dtype made a jitted function compile again.

JAX explains each tracing-cache miss itself when `jax_explain_cache_misses` is on: it compares
the new call's abstract arguments with the closest earlier ones of the same function and logs
(`jax._src.interpreters.partial_eval`, WARNING) lines such as

    TRACING CACHE MISS at <th-3>:1 (<module>):
      for forward defined at <th-1>:1
      all previously seen cache keys differ. For the closest previous key:
      different input types:
      * at x, now f32[31,3] and before f32[32,3]

`install()` turns that explanation on and puts a filter on the logger that keeps the records
(instead of letting them print) for the evaluator, which turns them into one line per function
at the cell's end: `recompiled forward: x (32,3) -> (31,3)`. A function's first compilation is
not a recompilation and is dropped, as are the shell's own helpers (trepl/, kernel/).
Nothing here imports JAX before the user's code has.
"""

from __future__ import annotations

import logging
import os
import re
import threading

from trepl.timing import imported

_LOGGER = "jax._src.interpreters.partial_eval"
MAX_ARGS = 3  # arguments named per line (a new network changes every parameter's shape)
_HEADER = "TRACING CACHE MISS"
# (patterns as strings: `re` compiles and caches them at first use, not at the shell's start)
_FOR = r"^\s*for (?P<name>.+?) defined at (?P<where>\S+)\s*$"
_NEVER_SEEN = r"^\s*never seen function:\s*$"
_NEW_FUNCTION = r"^\s*(?P<name>\S+) id=\d+ defined at (?P<where>\S+)\s*$"
_REDEFINED = "seen another function defined on the same line"
_TYPE_DIFF = r"^\s*\* at (?P<arg>.+?), now (?P<now>\S+) and before (?P<before>\S+)\s*$"
_TYPE = r"^(?P<dtype>[a-z]+\d*)\[(?P<shape>[^\]]*)\]"
_DTYPES = {"f": "float", "bf": "bfloat", "i": "int", "u": "uint", "c": "complex"}
# Helpers of the shell itself compile per shape (stats(x) on a new array): not the user's.
_OWN_DIRS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), part) + os.sep
    for part in ("trepl", "kernel")
)

# nets compiles one function per network structure, all made on the same lines of
# nets/nn/compiled.py: a new one there is a new network, never a jit re-applied by mistake.
_LIBRARY_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nets", ""
)

_lock = threading.Lock()
_installed = False
_owned = False  # True when we turned the explanation on (so its log lines are ours to keep)
_pending: list[tuple[int, Recompile]] = []  # (the compiling thread, what it recompiled)


class Recompile:
    """One recompilation: the function, where it was defined, and what changed.

    `changes` holds (argument, before, now) in JAX's short type notation (`f32[31,3]`);
    `reason`, when no argument type differs, JAX's reason in a few words. (A plain class, not a
    dataclass: this module loads with the shell, before its first prompt.)
    """

    def __init__(
        self, function: str, where: str, changes: list[tuple[str, str, str]], reason: str = ""
    ) -> None:
        self.function, self.where, self.changes, self.reason = function, where, changes, reason

    def __repr__(self) -> str:
        return f"Recompile({self.function!r}, {self.where!r}, {self.changes!r}, {self.reason!r})"


def _dtype_name(short: str) -> str:
    """`f32` -> `float32`, `bf16` -> `bfloat16`, `bool` stays."""
    match = re.match(r"^([a-z]+?)(\d+)$", short)
    if match and match.group(1) in _DTYPES:
        return _DTYPES[match.group(1)] + match.group(2)
    return short


def _split_type(text: str) -> tuple[str, str, bool]:
    """`f32[31,3]({})` or `f32[]{weak_type=True}` -> ('float32', '(31,3)', weak)."""
    match = re.match(_TYPE, text)
    if match is None:
        return text, "", False
    return _dtype_name(match.group("dtype")), f"({match.group('shape')})", "weak_type=True" in text


def describe_change(before: str, now: str) -> str:
    """`(32,3) -> (31,3)`, `float32 -> bfloat16`, or both when both changed."""
    dtype_b, shape_b, weak_b = _split_type(before)
    dtype_n, shape_n, weak_n = _split_type(now)
    if not shape_b or not shape_n:
        return f"{before} -> {now}"
    if weak_b != weak_n and (dtype_b, shape_b) == (dtype_n, shape_n):
        weak = " (weakly typed: a Python scalar)"
        return f"{dtype_b}{weak if weak_b else ''} -> {dtype_n}{weak if weak_n else ''}"
    if dtype_b == dtype_n:
        return f"{shape_b} -> {shape_n}"
    if shape_b == shape_n:
        return f"{dtype_b} -> {dtype_n}"
    return f"{dtype_b}{shape_b} -> {dtype_n}{shape_n}"


def parse(message: str) -> Recompile | None:
    """A Recompile from JAX's explanation, or None for a first compilation (or not ours)."""
    lines = message.splitlines()
    if not lines or not lines[0].startswith(_HEADER):
        return None
    for i, line in enumerate(lines[1:], 1):
        if re.match(_NEVER_SEEN, line):
            # A function object JAX has not seen; a recompilation only if another function was
            # defined on the same line before (a `jax.jit(lambda ...)` re-made at every call).
            if not any(_REDEFINED in rest for rest in lines[i:]):
                return None
            match = re.match(_NEW_FUNCTION, lines[i + 1]) if i + 1 < len(lines) else None
            if match is None:  # JAX named no function: nothing to tell the user
                return None
            name, where = match.group("name"), match.group("where")
            if os.path.abspath(where.rsplit(":", 1)[0]).startswith(_LIBRARY_DIR):
                return None
            reason = "a new function object from the same line (is jit re-applied each time?)"
            return Recompile(name, where, [], reason)
        match = re.match(_FOR, line)
        if match:
            changes = []
            reason = ""
            for rest in lines[i + 1 :]:
                diff = re.match(_TYPE_DIFF, rest)
                if diff:
                    changes.append((diff.group("arg"), diff.group("before"), diff.group("now")))
                elif not reason and rest.strip() and "previously seen" not in rest:
                    reason = rest.strip().rstrip(":.")
            return Recompile(match.group("name"), match.group("where"), changes, reason)
    return None


def _is_own(where: str) -> bool:
    path = where.rsplit(":", 1)[0]
    return os.path.abspath(path).startswith(_OWN_DIRS) if os.path.isabs(path) else False


class _Keep(logging.Filter):
    """On JAX's logger: keep cache-miss explanations for the evaluator (and hide those we asked
    for, so they do not print as warnings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot format is not ours
            return True
        if not message.startswith(_HEADER):
            return True
        found = parse(message)
        if found is not None and not _is_own(found.where):
            with _lock:
                _pending.append((record.thread, found))
        return not _owned


def install() -> bool:
    """Turn on JAX's cache-miss explanation and keep its records (once JAX is imported)."""
    global _installed, _owned
    if _installed:
        return True
    if imported("jax") is None:
        return False
    with _lock:
        if _installed:
            return True
        import jax

        if not jax.config.jax_explain_cache_misses:
            jax.config.update("jax_explain_cache_misses", True)
            _owned = True
        logging.getLogger(_LOGGER).addFilter(_Keep())
        _installed = True
    return True


def take(thread: int | None = None) -> list[Recompile]:
    """The recompilations recorded since the last call, those compiled on `thread` only when
    it is given (a cell's own: not a background training's, nor another thread's warm-up)."""
    with _lock:
        found = [item for where, item in _pending if thread is None or where == thread]
        _pending.clear()
    return found


def summary_lines(found: list[Recompile]) -> list[str]:
    """One line per function: `recompiled forward: x (32,3) -> (31,3)` (first before, last now)."""
    by_function: dict[tuple[str, str], list[Recompile]] = {}
    for item in found:
        by_function.setdefault((item.function, item.where), []).append(item)
    lines = []
    for (name, _), items in by_function.items():
        times = f" ({len(items)} times)" if len(items) > 1 else ""
        first: dict[str, str] = {}
        last: dict[str, str] = {}
        for item in items:
            for arg, before, now in item.changes:
                first.setdefault(arg, before)
                last[arg] = now
        if first:
            shown = list(first)[:MAX_ARGS]
            what = ", ".join(f"{arg} {describe_change(first[arg], last[arg])}" for arg in shown)
            if len(first) > MAX_ARGS:
                what += f" and {len(first) - MAX_ARGS} more argument(s)"
        else:
            what = items[-1].reason or "JAX gave no reason"
        lines.append(f"recompiled {name}{times}: {what}")
    return lines


class Watch:
    """A session's recompilation record: `recompiles()` in the namespace.

    recompiles()        list this session's recompilations
    recompiles(False)   stop printing the `recompiled ...` line after a cell (True: again)
    """

    def __init__(self) -> None:
        self.enabled = True
        self.count = 0
        self.history: list[str] = []

    def before_cell(self) -> None:
        """Forget what compiled between cells (it was not this cell's doing)."""
        take()

    def after_cell(self) -> list[str]:
        """The lines to show at the end of a cell (none when turned off, or nothing recompiled):
        what the cell's own thread recompiled while it ran."""
        if not _installed:
            install()
            return []
        found = take(threading.get_ident())
        if not found:
            return []
        lines = summary_lines(found)
        self.count += len(found)
        self.history += lines
        return lines if self.enabled else []

    def __call__(self, enabled: bool | None = None) -> None:
        if enabled is None:
            state = "on" if self.enabled else "off (recompiles(True) turns it on)"
            print(f"{self.count} recompilation(s) this session; the line after a cell is {state}")
            for line in self.history[-20:]:
                print("  " + line)
            return
        if not isinstance(enabled, bool):
            raise TypeError(
                f"recompiles: expected True or False (show the line after a cell), got {enabled!r}"
            )
        self.enabled = enabled

    def __repr__(self) -> str:
        return "<recompiles(): this session's recompilations; recompiles(False) hides the line>"
