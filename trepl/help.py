"""`? name` and `?? name` lookups, the `?` self-help page and the banner (plain text only)."""

from __future__ import annotations

import inspect
import re
from typing import Any

from trepl.results import HelpInfo

BANNER = """\
  ______             __   |  Torch7-style tensors and nets on JAX
 /_  __/__  ________/ /_  |  ? for help, ? name for documentation
  / / / _ \\/ ___/ __/ __ \\ |  $ cmd runs a shell command
 / / /  __/ /  / /_/ / / / |  jax, jnp, np, nets, nn, optim, models preloaded
/_/  \\___/_/   \\__/_/ /_/  |  https://github.com/torch/trepl (the original)
"""

SELF_HELP = """\
th: a TREPL-style shell for JAX and nets

  expr               evaluate and print the value (no print needed); a trailing ; hides it
  _RESULTS, _LAST    every result so far, and the last one
  ? name  /  name?   signature and documentation of name (?? name: its source)
  ?                  this page
  $ cmd              run a shell command (ls, ll, la are TREPL's aliases); output goes to _LAST
  who()              your variables: type, shape, dtype, device, bytes (who(True): all names)
  import_('pkg')     copy a module's public names into the namespace
  setprintlevel(n)   how deep nested lists and dicts are printed (default 3)

Keys
  Tab                complete names, attributes, dict keys, and file paths inside strings
  Up/Down, Ctrl-R    history (kept in ~/.trepl_history or $TREPL_HISTORY); Right accepts a hint
  Enter              run; an unfinished block continues on a '..> ' line (blank line ends it)
  Ctrl-C             interrupt a running command, or clear the current line
  Ctrl-L             clear the screen
  Ctrl-D, exit       leave (asks first)

Every command is timed: [0.0012s] after the result; the clock stops when the result's arrays
are ready, and time spent compiling new XLA programs is shown apart.
"""

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


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


def _source_file(obj: Any) -> str:
    try:
        return inspect.getsourcefile(obj) or inspect.getfile(obj)
    except TypeError:
        return ""


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def lookup(name: str, namespace: dict[str, Any], detail: int = 0) -> HelpInfo:
    """Build the help page for `name`: detail 0 is `? name`, detail 1 (`?? name`) adds source."""
    name = name.strip()
    if not _DOTTED.match(name):
        text = f"? {name!r}: expected a name such as 'nn.Linear' or 'jnp.zeros'"
        return HelpInfo(name=name, found=False, text=text)
    obj = resolve(name, namespace)
    if obj is _MISSING:
        text = f"? {name}: no such name in the namespace (try who(True) to list names)"
        return HelpInfo(name=name, found=False, text=text)
    info = HelpInfo(
        name=name,
        found=True,
        signature=_signature(obj) if callable(obj) else "",
        doc=inspect.getdoc(obj) or "",
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
    if obj is not None and not callable(obj) and not inspect.ismodule(obj):
        value = repr(obj)
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
