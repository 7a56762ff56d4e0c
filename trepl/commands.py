"""TREPL's line prefixes and suffixes, parsed into a `Command` (pure parsing, no execution).

?            the self-help page          ? name / name?    signature and documentation
?? name      the source (also name??)    $ cmd, !cmd       a shell command (! as in IPython)
%name args   IPython's line magics that th has: %timeit, %tb, %debug
code;        run code, do not auto-print anything else     Python code
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# A dotted name such as `nn.Linear` or `jnp.zeros`, the only thing `?` accepts.
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_HELP_SUFFIX = re.compile(rf"^\s*({_DOTTED})\s*(\?\??)\s*$")
_MAGIC = re.compile(r"^%([A-Za-z_]\w*)\s*(.*)$")


@dataclass(frozen=True)
class Command:
    """What a cell asks for.

    kind: 'code' (Python), 'help' (`? name`, detail 0; `?? name`, detail 1), 'selfhelp' (`?`
    alone), 'shell' (`$ cmd` or `!cmd`), 'magic' (`%name args`: `magic` is the name, `text`
    the arguments) or 'empty'. `text` is the code, the name or the shell command. `silent` is
    True when a trailing `;` asked not to auto-print.
    """

    kind: Literal["code", "help", "selfhelp", "shell", "magic", "empty"]
    text: str = ""
    detail: int = 0
    silent: bool = False
    magic: str = ""


def _ends_with_semicolon(code: str) -> bool:
    """True if the last non-comment token of the cell is `;` (as IPython's rule)."""
    import io
    import tokenize

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return code.rstrip().endswith(";")
    skip = {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.COMMENT,
        tokenize.ENDMARKER,
        tokenize.DEDENT,
        tokenize.INDENT,
    }
    for tok in reversed(tokens):
        if tok.type in skip:
            continue
        return tok.type == tokenize.OP and tok.string == ";"
    return False


def parse(cell: str) -> Command:
    """Classify a cell. Only single-line cells can be `?` or `$` commands."""
    stripped = cell.strip()
    if not stripped:
        return Command("empty")
    single_line = "\n" not in stripped
    if single_line and stripped == "?":
        return Command("selfhelp")
    if single_line and stripped.startswith(("$", "!")):
        return Command("shell", stripped[1:].strip())
    magic = _MAGIC.match(stripped) if single_line else None
    if magic:
        return Command("magic", magic.group(2).strip(), magic=magic.group(1))
    if single_line:
        if stripped.startswith("?"):
            # `? name` / `?? name`; a bad name is reported by the help lookup, not as Python.
            detail = 1 if stripped.startswith("??") else 0
            return Command("help", stripped.lstrip("?").strip(), detail=detail)
        match = _HELP_SUFFIX.match(stripped)
        if match:
            return Command("help", match.group(1), detail=len(match.group(2)) - 1)
    return Command("code", cell, silent=_ends_with_semicolon(cell))
