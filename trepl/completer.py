"""Completion on the live namespace: (code, cursor) -> Completions.

The common cases are answered directly from live objects, which is fast and exact:
names (namespace, builtins, keywords), attributes of a chain such as `net.modules[0].wei`
(evaluated without calls), dict keys (`d['ab`), and file paths inside a string. After `$` or
`!` the line is a shell command: its first word completes from TREPL's aliases and the programs
on $PATH, the others as file paths. Everything else (`import ja`, `f(x).re`, call arguments) goes
to jedi's Interpreter on the same namespace.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import itertools
import keyword
import os
import re
from collections.abc import Callable
from typing import Any

from trepl import guard
from trepl import namespace as names
from trepl.results import Completions

_IDENT_TAIL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$|$")
# `<chain>.<partial>` at the cursor; the chain is checked by `_safe_eval`, not by this pattern.
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w\.\[\]'\"\- ]*?)\.([A-Za-z_]\w*)?$")
# `<chain>[` then an optional quote and partial key.
_SUBSCRIPT = re.compile(r"([A-Za-z_][\w\.\[\]'\"\-]*)\[\s*(['\"]?)([^'\"\]]*)$")
_CHAIN_TAIL = re.compile(r"[\w.]*$")
_IMPORT_LINE = re.compile(r"^\s*(import|from)\s")
_SHELL_LINE = re.compile(r"^\s*[$!]\s*")
_MISSING = object()
# Completion looks at no more than this many characters before the cursor (the line-based
# patterns at no more than LINE_WINDOW), so its time is bounded whatever was typed or pasted:
# `'a' * 40000` took 12 s through the patterns, which backtrack over the whole line.
WINDOW = 20_000
LINE_WINDOW = 500
JEDI_WINDOW = 2_000
MAX_NESTING = 100


def _safe_eval(expr: str, namespace: dict[str, Any]) -> Any:
    """Evaluate a chain of names, attributes and constant subscripts; never call anything.

    Returns `_MISSING` for anything else (calls, operators) or when a step fails.
    """
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        return _MISSING
    try:
        return _walk(node, namespace)
    except (Exception, SystemExit):  # noqa: BLE001 - a failing property or index just means no completion
        return _MISSING


def _walk(node: ast.AST, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        if node.id in namespace:
            value = namespace[node.id]
            if isinstance(value, names.LazyModule):
                names.materialize(namespace, [node.id])
                value = namespace[node.id]
            return value
        return getattr(builtins, node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_walk(node.value, namespace), node.attr)
    if isinstance(node, ast.Subscript):
        container = _walk(node.value, namespace)
        key = ast.literal_eval(node.slice)
        return container[key]
    raise ValueError("not a plain chain")


def _kind(value: Any) -> str:
    try:
        return _kind_of(value)
    except (Exception, SystemExit):  # noqa: BLE001 - a dead weakref.proxy, a raising __getattribute__
        return "instance"


def _kind_of(value: Any) -> str:
    if isinstance(value, type):
        return "class"
    if isinstance(value, names.LazyModule) or type(value).__name__ == "module":
        return "module"
    if callable(value):
        return "function"
    return "instance"


def _attribute_kind(obj: Any, name: str) -> str:
    """The completion type of ``obj.name``, without running a property's getter: reading a
    module's ``output`` after ``forward`` can run the network (it is computed when first read),
    and listing attributes must not."""
    try:
        static = inspect.getattr_static(obj, name)
    except AttributeError:  # provided by __getattr__ (a module's registered arrays): cheap
        static = None
    if isinstance(static, property):
        return "property"
    try:
        return _kind(getattr(obj, name, None))
    except (Exception, SystemExit):  # noqa: BLE001 - the attribute's own getter raised
        return "instance"


def _filter(candidates: list[str], prefix: str) -> list[str]:
    hide_private = not prefix.startswith("_")
    found = {
        c
        for c in candidates
        if isinstance(c, str) and c.startswith(prefix) and not (hide_private and c[:1] == "_")
    }
    return sorted(found, key=lambda c: (c.startswith("_"), c.lower()))


def _open_string(text: str) -> int | None:
    """Index just after the opening quote if `text` ends inside a string literal, else None."""
    i = 0
    quote = None
    start = None
    while i < len(text):
        ch = text[i]
        if quote is None:
            if ch == "#":
                newline = text.find("\n", i)
                i = len(text) if newline < 0 else newline
                continue
            if ch in "'\"":
                quote = text[i : i + 3] if text[i : i + 3] in ("'''", '"""') else ch
                i += len(quote)
                start = i
                continue
        else:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            if ch == "\n" and len(quote) == 1:
                quote = None
        i += 1
    return start if quote is not None else None


def _nesting(text: str) -> int:
    """The deepest bracket nesting in `text` (strings not told apart: an estimate suffices)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return deepest


class Completer:
    """Completion core; `get_namespace` returns the live dict (xeus-python/ptpython style)."""

    def __init__(self, get_namespace: Callable[[], dict[str, Any]]) -> None:
        self._get_namespace = get_namespace
        self._programs: tuple[str, list[str]] = ("", [])  # ($PATH, the programs on it)

    def complete(self, code: str, cursor_pos: int) -> Completions:
        """Matches replacing code[cursor_start:cursor_end]."""
        if not 0 <= cursor_pos <= len(code):
            raise ValueError(
                f"complete: cursor_pos {cursor_pos} is outside the code (0..{len(code)})"
            )
        # Only the text near the cursor counts: from a line start at most WINDOW characters
        # back, to the end of the cursor's line. Positions are shifted back at the end.
        skip = 0
        if cursor_pos > WINDOW:
            skip = code.find("\n", cursor_pos - WINDOW, cursor_pos) + 1 or cursor_pos - WINDOW
        end = code.find("\n", cursor_pos)
        code, cursor_pos = code[skip : len(code) if end < 0 else end], cursor_pos - skip
        found = self._complete(code, cursor_pos)
        found.cursor_start += skip
        found.cursor_end += skip
        return found

    def _complete(self, code: str, cursor_pos: int) -> Completions:
        text = code[:cursor_pos]
        line = text.rsplit("\n", 1)[-1]
        for method in (self._shell, self._in_string, self._dict_key, self._attribute, self._name):
            found = method(text, line[-LINE_WINDOW:], code[cursor_pos:])
            if found is not None:
                return found
        if len(_CHAIN_TAIL.search(line[-LINE_WINDOW - 1 :]).group(0)) >= LINE_WINDOW:
            return Completions([], cursor_pos, cursor_pos)  # no name is this long: skip jedi
        return self._jedi(code, cursor_pos)

    # Each strategy returns Completions, or None to let the next one try.
    def _shell(self, text: str, line: str, after: str) -> Completions | None:
        shell = _SHELL_LINE.match(text)
        if shell is None or "\n" in text:
            return None
        command = text[shell.end() :]
        word = re.split(r"\s", command)[-1]
        if word != command or "/" in word:  # an argument, or a path to a program
            return self._paths(word, len(text))
        from trepl.shell import ALIASES

        matches = sorted({m for m in [*ALIASES, *self._path_programs()] if m.startswith(word)})
        return Completions(matches, len(text) - len(word), len(text), ["program"] * len(matches))

    def _path_programs(self) -> list[str]:
        """The executables on $PATH (listed again only when $PATH changes)."""
        path = os.environ.get("PATH", "")
        if self._programs[0] != path or not self._programs[1]:
            found = set()
            for directory in path.split(os.pathsep):
                try:
                    with os.scandir(directory or ".") as entries:
                        for entry in entries:
                            if entry.is_file() and os.access(entry.path, os.X_OK):
                                found.add(entry.name)
                except OSError:
                    continue
            self._programs = (path, sorted(found))
        return self._programs[1]

    def _in_string(self, text: str, line: str, after: str) -> Completions | None:
        start = _open_string(text)
        if start is None:
            return None
        before_quote = text[max(0, start - 1 - LINE_WINDOW) : start - 1].rstrip("'\"")
        match = re.search(r"([A-Za-z_][\w\.\[\]'\"\-]*)\[\s*[rbuRBU]?$", before_quote)
        if match:
            keys = self._keys_of(match.group(1))
            if keys is not None:
                prefix = text[start:]
                quote = text[start - 1]
                closing = "" if after.startswith(quote) else quote + "]"
                matches = sorted(
                    k + closing for k in keys if isinstance(k, str) and k.startswith(prefix)
                )
                return Completions(matches, start, len(text), ["key"] * len(matches))
        return self._paths(text[start:], len(text))

    def _dict_key(self, text: str, line: str, after: str) -> Completions | None:
        match = _SUBSCRIPT.search(line)
        if match is None or match.group(2):
            return None
        keys = self._keys_of(match.group(1))
        if keys is None:
            return None
        prefix = match.group(3)
        shown = [guard.safe_repr(k) for k in keys]
        matches = sorted(text + "]" for text in shown if text.startswith(prefix))
        return Completions(matches, len(text) - len(prefix), len(text), ["key"] * len(matches))

    def _keys_of(self, expr: str) -> list[Any] | None:
        obj = _safe_eval(expr, self._get_namespace())
        if obj is _MISSING:
            return None
        try:
            if not hasattr(obj, "keys"):
                return None
            return list(itertools.islice(obj.keys(), 1000))
        except (Exception, SystemExit):  # noqa: BLE001 - the user's keys() or __getattribute__ raised
            return None

    def _attribute(self, text: str, line: str, after: str) -> Completions | None:
        if _IMPORT_LINE.match(line):
            return None
        match = _ATTRIBUTE.search(line)
        if match is None:
            return None
        expr, prefix = match.group(1), match.group(2) or ""
        # Keep only the trailing chain (`x = net.mo` -> `net`).
        expr = re.split(r"[\s=(,+\-*/%<>!&|^~:;{]", expr)[-1]
        obj = _safe_eval(expr, self._get_namespace()) if expr else _MISSING
        if obj is _MISSING:
            return None
        try:
            candidates = dir(obj)
        except (Exception, SystemExit):  # noqa: BLE001
            return None
        matches = _filter(candidates, prefix)
        types = [_attribute_kind(obj, m) for m in matches] if len(matches) < 200 else []
        return Completions(matches, len(text) - len(prefix), len(text), types)

    def _name(self, text: str, line: str, after: str) -> Completions | None:
        if _IMPORT_LINE.match(line):
            return None
        prefix = _IDENT_TAIL.search(line).group(0)
        before = line[: len(line) - len(prefix)].rstrip()
        if before.endswith(".") or (not prefix and before.endswith("(")):
            return None
        ns = self._get_namespace()
        candidates = list(ns) + dir(builtins) + keyword.kwlist
        matches = _filter(candidates, prefix)
        types = []
        for m in matches:
            if keyword.iskeyword(m):
                types.append("keyword")
            else:
                types.append(_kind(ns.get(m, getattr(builtins, m, None))))
        return Completions(matches, len(text) - len(prefix), len(text), types)

    def _paths(self, partial: str, end: int) -> Completions:
        expanded = os.path.expanduser(partial)
        directory, base = os.path.split(expanded)
        try:
            entries = os.listdir(directory or ".")
        except OSError:
            return Completions([], end - len(base), end)
        matches = []
        for entry in sorted(entries):
            if not entry.startswith(base) or (entry.startswith(".") and not base.startswith(".")):
                continue
            is_dir = os.path.isdir(os.path.join(directory or ".", entry))
            matches.append(entry + ("/" if is_dir else ""))
        return Completions(matches, end - len(base), end, ["path"] * len(matches))

    def _jedi(self, code: str, cursor_pos: int) -> Completions:
        """jedi on the last JEDI_WINDOW characters before the cursor (from a line start).

        jedi's time grows with the square of the nesting (`f(f(f(...`: 1000 deep 0.3 s, 2000
        deep 1 s, 5000 deep 10 s), so the text it sees is bounded, and text nested deeper than
        MAX_NESTING brackets is not given to it.
        """
        names.wait_for_imports()  # the shell's warm-up thread may be importing jedi
        import jedi

        skip = 0
        if cursor_pos > JEDI_WINDOW:
            start = cursor_pos - JEDI_WINDOW
            skip = code.find("\n", start, cursor_pos) + 1 or start
        code, cursor_pos = code[skip:], cursor_pos - skip
        text = code[:cursor_pos]
        row = text.count("\n") + 1
        column = len(text.rsplit("\n", 1)[-1])
        none = Completions([], skip + cursor_pos, skip + cursor_pos)
        if _nesting(text) > MAX_NESTING:
            return none
        try:
            found = jedi.Interpreter(code, [self._get_namespace()]).complete(row, column)
        except (Exception, SystemExit):  # noqa: BLE001 - jedi fails on some half-typed code: no completions
            return none
        if not found:
            return none
        typed = len(found[0].name) - len(found[0].complete)
        matches = [c.name for c in found if len(c.name) - len(c.complete) == typed]
        types = [c.type for c in found if len(c.name) - len(c.complete) == typed]
        return Completions(matches, skip + cursor_pos - typed, skip + cursor_pos, types)
