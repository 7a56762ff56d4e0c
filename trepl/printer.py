"""Value -> text, with ANSI colour for the terminal or plain for the kernel's text/plain.

One renderer builds (style, text) fragments; `to_text` turns them into plain or ANSI text.
Arrays print their values (numpy's truncation) and a footer in the spirit of Torch7's
`[torch.DoubleTensor of size 3x4]`; modules print their own Torch tree (`repr`); lists, tuples
and dicts nest down to a depth limit (TREPL's `setprintlevel`).
"""

from __future__ import annotations

from typing import Any

from trepl import guard
from trepl.results import ErrorInfo, ExecResult, HelpInfo
from trepl.timing import imported

Fragments = list[tuple[str, str]]

# SGR codes per style and colour scheme; unknown styles print uncoloured. Only the 16 basic
# colours, which every terminal maps to its own theme; "dark" avoids dark blue (unreadable on
# black) and "light" avoids yellow (unreadable on white).
SCHEMES: dict[str, dict[str, str]] = {
    "dark": {
        "number": "36",  # cyan, as TREPL's colorize
        "string": "32",  # green
        "keyword": "35",  # magenta: True, False, None
        "footer": "2",  # dim
        "time": "2",
        "compile": "33",  # yellow
        "error": "1;31",
        "message": "31",
        "frame": "96",  # bright cyan
        "hint": "2",
        "name": "1",
        "ellipsis": "2",
    },
    "light": {
        "number": "34",  # blue
        "string": "32",
        "keyword": "35",
        "footer": "2",
        "time": "2",
        "compile": "35",
        "error": "1;31",
        "message": "31",
        "frame": "34",
        "hint": "2",
        "name": "1",
        "ellipsis": "2",
    },
}
DEFAULT_SCHEME = "dark"
Color = bool | str  # False: plain text; True: the default scheme; or a scheme's name
TIMING_COLUMN = 80  # the timing line ends at this column (or the terminal's edge, if nearer)

DEFAULT_DEPTH = 3
MAX_ITEMS = 100  # items shown per container before "..."


def scheme_from_env(environ: dict[str, str] | None = None) -> str:
    """'light' or 'dark', from `COLORFGBG` ("15;0": white on black) when the terminal sets it."""
    import os

    value = (environ if environ is not None else os.environ).get("COLORFGBG", "")
    background = value.split(";")[-1]
    if background.isdigit():
        return "light" if int(background) in (7, *range(9, 16)) else "dark"
    return DEFAULT_SCHEME


def _palette(color: Color) -> dict[str, str]:
    if isinstance(color, str):
        return SCHEMES.get(color, SCHEMES[DEFAULT_SCHEME])
    return SCHEMES[DEFAULT_SCHEME]


def to_text(fragments: Fragments, color: Color) -> str:
    """Join fragments, wrapping styled ones in ANSI codes when `color` (True or a scheme name)."""
    if not color:
        return "".join(text for _, text in fragments)
    palette = _palette(color)
    out = []
    for style, text in fragments:
        code = palette.get(style)
        out.append(f"\x1b[{code}m{text}\x1b[0m" if code and text else text)
    return "".join(out)


def _array_kind(value: Any) -> str | None:
    """'numpy' or 'jax' for arrays, without importing either library."""
    np = imported("numpy")
    if np is not None and issubclass(type(value), np.ndarray):
        return "numpy"
    jax = imported("jax")
    try:
        if jax is not None and isinstance(value, jax.Array):  # tracers too
            return "jax"
    except Exception:  # noqa: BLE001 - isinstance reads the object's `__class__`, which may raise
        return None
    return None


def _size_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "()"


def _bytes_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
    return f"{n} B"


def _device_text(value: Any) -> str:
    """'' for an array on the CPU, else 'cuda:0' or 'sharded over 4 devices'."""
    try:
        devices = list(value.devices())
    except Exception:  # noqa: BLE001 - tracers and deleted arrays have no devices
        return ""
    if len(devices) > 1:
        return f"sharded over {len(devices)} {devices[0].platform} devices"
    device = devices[0]
    return "" if device.platform == "cpu" else f"{device.platform}:{device.id}"


def array_footer(value: Any) -> str:
    """`[jax.Array of size 3x4, float32, 48 B]`, plus the device when it is not the CPU."""
    kind = _array_kind(value)
    type_name = "jax.Array" if kind == "jax" else "numpy.ndarray"
    parts = [f"{type_name} of size {_size_text(tuple(value.shape))}", str(value.dtype)]
    parts.append(_bytes_text(int(value.nbytes)))
    if kind == "jax":
        device = _device_text(value)
        if device:
            parts.append(f"on {device}")
    return "[" + ", ".join(parts) + "]"


def _array_fragments(value: Any, width: int) -> Fragments:
    import numpy as np

    from trepl.stats import nonfinite_flag

    flag = ""
    try:
        host = np.asarray(value)
        body = np.array2string(host, max_line_width=width, threshold=1000, edgeitems=3)
        flag = nonfinite_flag(host)
    except Exception as exc:  # noqa: BLE001 - e.g. a deleted buffer: say so, keep the footer
        body = f"<values unavailable: {exc}>"
    frags: Fragments = [("number", body), ("", "\n"), ("footer", array_footer(value))]
    return frags + ([("error", " " + flag)] if flag else [])  # `NaN!`, `Inf!`


def _short_array(value: Any) -> Fragments:
    """An array inside a container, as TREPL prints tensors in tables: type and size only."""
    kind = "jax.Array" if _array_kind(value) == "jax" else "numpy.ndarray"
    return [("footer", f"{kind}({_size_text(tuple(value.shape))}, {value.dtype})")]


def _atom_fragments(value: Any) -> Fragments:
    # type(), not isinstance(): isinstance reads `__class__` through the object, which raises
    # for a dead weakref.proxy or a raising __getattribute__.
    kind = type(value)
    if value is None or issubclass(kind, bool):
        return [("keyword", repr(value))]
    if issubclass(kind, int | float | complex):
        return [("number", repr(value))]
    if issubclass(kind, str | bytes):
        return [("string", repr(value))]
    if _array_kind(value) is not None:
        return _short_array(value)
    return _repr_fragments(value)


def _repr_fragments(value: Any) -> Fragments:
    """repr(value); a __repr__ that raises gives a short note in the error style instead."""
    try:
        return [("", repr(value))]
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's __repr__ must not end the session
        return [("error", guard.failure(value, "repr()", exc))]


def _guarded(value: Any, depth: int, indent: int, width: int, atom: bool = False) -> Fragments:
    """`_nested` (or `_atom_fragments`), with any failure inside the user's object (its
    __repr__, a dead weakref proxy, a raising __getattribute__, a broken `items()`) shown in
    place of the value."""
    try:
        return _atom_fragments(value) if atom else _nested(value, depth, indent, width)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - see guard.py
        return [("error", guard.failure(value, "printing", exc))]


def _brackets(value: Any) -> tuple[str, str]:
    if isinstance(value, list):
        return "[", "]"
    if isinstance(value, tuple):
        return "(", ")"
    if isinstance(value, dict):
        return "{", "}"
    if isinstance(value, frozenset):
        return "frozenset({", "})"
    return "{", "}"  # set


def _nested(value: Any, depth: int, indent: int, width: int) -> Fragments:
    """Fragments for a (possibly nested) container; one line if it fits, else one item a line."""
    if not issubclass(type(value), list | tuple | dict | set | frozenset) or _is_namedtuple(value):
        return _atom_fragments(value)
    open_, close = _brackets(value)
    if not value:
        return _repr_fragments(value)
    if depth <= 0:
        return [("ellipsis", f"{open_}...{close}")]
    items = list(value.items()) if isinstance(value, dict) else list(value)
    hidden = max(0, len(items) - MAX_ITEMS)
    items = items[:MAX_ITEMS]
    parts: list[Fragments] = []
    for item in items:
        if isinstance(value, dict):
            key, val = item
            parts.append(
                _guarded(key, 0, indent, width, atom=True)
                + [("", ": ")]
                + _guarded(val, depth - 1, indent + 2, width)
            )
        else:
            parts.append(_guarded(item, depth - 1, indent + 2, width))
    if hidden:
        parts.append([("ellipsis", f"... ({hidden} more)")])
    one_line: Fragments = [("", open_)]
    for i, part in enumerate(parts):
        if i:
            one_line.append(("", ", "))
        one_line += part
    if isinstance(value, tuple) and len(items) == 1 and not hidden:
        one_line.append(("", ","))
    one_line.append(("", close))
    flat = to_text(one_line, color=False)
    if "\n" not in flat and indent + len(flat) <= width:
        return one_line
    pad = " " * (indent + 2)
    multi: Fragments = [("", open_ + "\n")]
    for part in parts:
        # A multi-line item (a module's tree) keeps its shape: every line starts at the pad.
        part = [(style, text.replace("\n", "\n" + pad)) for style, text in part]
        multi += [("", pad)] + part + [("", ",\n")]
    multi.append(("", " " * indent + close))
    return multi


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def fragments(value: Any, width: int = 80, depth: int = DEFAULT_DEPTH) -> Fragments:
    """Styled fragments for `value` (the printer's one renderer).

    Never raises for a failure inside the user's object: that is shown as a short note naming
    the object's type and what failed (`<B object: repr() failed: ZeroDivisionError: ...>`).
    """
    try:
        if _array_kind(value) is not None:
            return _array_fragments(value, width)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - see guard.py
        return [("error", guard.failure(value, "printing", exc))]
    return _guarded(value, depth, 0, width)


def render(value: Any, color: Color = False, width: int = 80, depth: int = DEFAULT_DEPTH) -> str:
    """Render a value as TREPL prints it: ANSI-coloured when `color`, else plain text."""
    return to_text(fragments(value, width, depth), color)


def display(*objs: Any) -> None:
    """display(obj, ...): print each object as `th` prints a value.

    The terminal's stand-in for Jupyter's display(); in an itorch kernel, `display` shows each
    object's richest view instead (kernel.display.display).
    """
    for obj in objs:
        print(render(obj))


def format_timing(result: ExecResult, color: Color = False, width: int = TIMING_COLUMN) -> str:
    """TREPL's timing line, right-aligned: `[0.0012s]`, or `[0.0300s + 0.2100s compile (2)]`.

    It ends at column `min(width, TIMING_COLUMN)`: on a wide terminal it stays near the output
    it belongs to.
    """
    width = min(width, TIMING_COLUMN)
    if result.compile_time > 0:
        run = max(result.elapsed - result.compile_time, 0.0)
        count = result.compile_count
        counted = f" ({count})" if count > 1 else ""
        frags: Fragments = [
            ("time", f"[{run:.4f}s + "),
            ("compile", f"{result.compile_time:.4f}s compile{counted}"),
            ("time", "]"),
        ]
    else:
        frags = [("time", f"[{result.elapsed:.4f}s]")]
    plain = to_text(frags, color=False)
    return " " * max(width - len(plain), 0) + to_text(frags, color)


def format_error(error: ErrorInfo, color: Color = False) -> str:
    """The short traceback of the user's code; the message (`Name: text`) in red.

    When library frames were left out (a nets error), a last line says how to see them.
    """
    lines = list(error.traceback) or [f"{error.ename}: {error.evalue}"]
    first_message = len(lines) - max(1, min(error.message_lines, len(lines)))
    hint = None
    if error.hidden_frames:
        frames = "frame" if error.hidden_frames == 1 else "frames"
        hint = f"({error.hidden_frames} library {frames} hidden: tb() prints the full traceback)"
    if not color:
        return "\n".join(lines + ([hint] if hint else []))
    out = []
    for i, line in enumerate(lines):
        if i == first_message:
            out.append(to_text([("error", line)], color))
        elif i > first_message:
            out.append(to_text([("message", line)], color))
        elif line.lstrip().startswith("File "):
            out.append(to_text([("frame", line)], color))
        else:
            out.append(line)
    if hint:
        out.append(to_text([("hint", hint)], color))
    return "\n".join(out)


def format_help(info: HelpInfo, color: Color = False) -> str:
    """The `?` page: the first line in bold and the source highlighted (pygments) when `color`."""
    if not color or not info.found:
        return info.text
    head, _, rest = info.text.partition("\n")
    if info.source and info.source in rest:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers.python import PythonLexer

        coloured = highlight(info.source, PythonLexer(), TerminalFormatter()).rstrip("\n")
        rest = rest.replace(info.source.rstrip(), coloured)
    return to_text([("name", head)], color) + ("\n" + rest if rest else "")
