"""`? name` and `?? name` lookups, the `?` self-help page and the banner (plain text only)."""

from __future__ import annotations

import inspect
import re
from types import ModuleType
from typing import Any

from trepl import guard
from trepl.results import HelpInfo

# "th" in figlet's slant font, and one line of text beside each row, after a straight `|`.
_ART = (
    "   __  __",
    "  / /_/ /_",
    " / __/ __ \\",
    "/ /_/ / / /",
    "\\__/_/ /_/",
)
_BESIDE = (
    "th: Torch7-style tensors and nets on JAX",
    "? for help, ? name for documentation",
    "$ cmd runs a shell command",
    "jax, jnp, np, nets, nn, optim, models preloaded",
    "https://github.com/torch/trepl (the original)",
)
BANNER = "".join(f"{art:<13}|  {text}\n" for art, text in zip(_ART, _BESIDE, strict=True))

_COMMANDS = """\
  expr               evaluate and print the value (no print needed); a trailing ; hides it
  _RESULTS, _LAST    the last results (setresults(count, nbytes) bounds them), and the last one
  ? name  /  name?   signature and documentation of name (?? name: its source)
  ?                  this page
  $ cmd  /  !cmd     run a shell command (ls, ll, la are TREPL's aliases); output goes to _LAST
  who()              your variables, largest arrays first, then device memory and _RESULTS
  stats(x), x?       an array's min/max/mean/std, NaN/Inf counts and histogram (on its device)
  free('x')          unbind x, drop it from _RESULTS, report the bytes released
  recompiles()       this session's recompilations (recompiles(False) hides the line)
  import_('pkg')     copy a module's public names into the namespace
  setprintlevel(n)   how deep nested lists and dicts are printed (default 3)
  tb()               the full traceback of the last error (library frames included)
  debug()            post-mortem pdb on the last error
  timeit(f, x)       median time of f(x) over runs, device work included, compile time apart
  %timeit expr       the same for an expression; await works at the top level of a cell
  display(obj)       show any object with a _repr_html_/_repr_png_/... view (or its text)
  save_session('r')  arrays, modules, plain data, history to r.session (load_session('r'))
  replay()           re-run this session's inputs afresh; report the first output that differs
  nan_hunt(net, x)   the first layer whose output or gradient goes non-finite, and why
"""

SELF_HELP = (
    "th: a TREPL-style shell for JAX and nets\n\n"
    + _COMMANDS
    + """
Keys
  Tab                complete names, attributes, dict keys, file paths in strings and after $
  Up/Down, Ctrl-R    history (kept in ~/.trepl_history or $TREPL_HISTORY); Right accepts a hint;
                     in Ctrl-R search, Enter takes the line found, Esc or Ctrl-G gives up
  Enter              run; an unfinished block continues on a '..> ' line (blank line ends it)
  Ctrl-C             interrupt a running command, or clear the current line
  Ctrl-L             clear the screen
  Ctrl-D, exit       leave (asks first)

Every command is timed: [0.0012s] after the result; the clock stops when the result's arrays
are ready, and time spent compiling new XLA programs is shown apart.
"""
)

KERNEL_HELP = (
    "itorch: the th evaluator as a Jupyter kernel\n\n"
    + _COMMANDS
    + """
In the notebook and `itorch console`
  Tab                complete names, attributes, dict keys and paths
  Shift-Tab          (notebook) the help of the name at the cursor, as ? name
  Interrupt          (notebook: the stop button or I,I; console: Ctrl-C) stops the cell; a
                     compiled computation that has started runs to its end (JAX cannot cancel it)
  itorch.image(x)    show images; itorch.html, itorch.Plot: HTML and plots

Every cell is timed: [0.0012s] after the result; the clock stops when the result's arrays are
ready, and time spent compiling new XLA programs is shown apart.
"""
)

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_MISSING = object()


def resolve(name: str, namespace: dict[str, Any]) -> Any:
    """Look up a dotted name in the namespace (then builtins) by attribute access only.

    Returns the object, or the sentinel `_MISSING` when some part is absent.
    """
    head, *rest = name.split(".")
    if head in namespace:
        obj = namespace[head]
    else:
        import builtins

        obj = getattr(builtins, head, _MISSING)
    for part in rest:
        if obj is _MISSING:
            break
        obj = getattr(obj, part, _MISSING)
    return obj


class _Annotation:
    """An annotation written as a string (`from __future__ import annotations`), shown bare."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _signature(obj: Any) -> str:
    """`(kW: int, kH: int) -> None`: string annotations without their quotes."""
    try:
        sig = inspect.signature(obj)
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit):  # noqa: BLE001 - no signature (or the object's __signature__ raised)
        return ""
    params = [
        p.replace(annotation=_Annotation(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    ret = sig.return_annotation
    if isinstance(ret, str):
        ret = _Annotation(ret)
    return str(sig.replace(parameters=params, return_annotation=ret))


def _source_file(obj: Any) -> str:
    try:
        return inspect.getsourcefile(obj) or inspect.getfile(obj)
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit):  # noqa: BLE001 - built-ins have no file; a user object may raise
        return ""


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit):  # noqa: BLE001 - no source (or the object's attributes raise)
        return ""


def _doc(obj: Any) -> str:
    """inspect.getdoc(obj); a __doc__ that raises is named in the page instead."""
    try:
        return inspect.getdoc(obj) or ""
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - see trepl/guard.py
        return guard.failure(obj, "reading __doc__", exc)


def lookup(name: str, namespace: dict[str, Any], detail: int = 0) -> HelpInfo:
    """Build the help page for `name`: detail 0 is `? name`, detail 1 (`?? name`) adds source."""
    name = name.strip()
    if not _DOTTED.match(name):
        text = f"? {name!r}: expected a name such as 'nn.Linear' or 'jnp.zeros'"
        return HelpInfo(name=name, found=False, text=text)
    try:
        obj = resolve(name, namespace)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - an attribute of the user's object raised
        text = f"? {name}: looking it up failed: {guard.error_text(exc)}"
        return HelpInfo(name=name, found=False, text=text)
    if obj is _MISSING:
        text = f"? {name}: no such name in the namespace (try who(True) to list names)"
        return HelpInfo(name=name, found=False, text=text)
    info = HelpInfo(
        name=name,
        found=True,
        signature=_signature(obj) if callable(obj) else "",
        doc=_doc(obj),
        type_name=type(obj).__name__,
        source_file=_source_file(obj),
    )
    if detail >= 1:
        info.source = _source(obj)
    info.text = page_text(info, obj)
    return info


def page_text(info: HelpInfo, obj: Any = None) -> str:
    """The whole page as plain text: header line, documentation, file and (for ??) source."""
    lines = [f"{info.name}{info.signature}" if info.signature else info.name]
    lines.append(f"type: {info.type_name}")
    if obj is not None and not callable(obj) and not issubclass(type(obj), ModuleType):
        value = guard.safe_repr(obj)
        lines.append(f"value: {value if len(value) < 200 else value[:197] + '...'}")
    if info.source_file:
        lines.append(f"file: {info.source_file}")
    if info.source:
        lines += ["", info.source.rstrip()]
    elif info.doc:
        lines += ["", info.doc]
    else:
        lines += ["", "(no documentation)"]
    return "\n".join(lines)
