"""The prompt's colours: a scheme for dark and one for light terminals, and the input lexers.

Only the 16 ANSI colour names are used, so the terminal's own theme decides the exact shades;
the "dark" scheme avoids dark blue and dim grey, the "light" one yellow. Input is highlighted as
Python, or as a shell command after `$` or `!` (pygments' BashLexer). The pygments lexers load
on the warm-up thread: until then the input is plain, so the first prompt never waits.
"""

from __future__ import annotations

from typing import Any

from prompt_toolkit.document import Document
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from trepl.timing import imported

SCHEMES = ("dark", "light")

# pygments token (prompt_toolkit class name) -> colour, per scheme
_TOKENS: dict[str, dict[str, str]] = {
    "dark": {
        "pygments.keyword": "ansimagenta bold",
        "pygments.name.builtin": "ansicyan",
        "pygments.name.function": "ansibrightblue",
        "pygments.name.class": "ansibrightblue bold",
        "pygments.name.decorator": "ansibrightmagenta",
        "pygments.string": "ansigreen",
        "pygments.number": "ansicyan",
        "pygments.comment": "ansibrightblack italic",
        "pygments.operator.word": "ansimagenta bold",
        "pygments.name.variable": "ansibrightcyan",
        "pygments.error": "ansired",
    },
    "light": {
        "pygments.keyword": "ansimagenta bold",
        "pygments.name.builtin": "ansiblue",
        "pygments.name.function": "ansiblue",
        "pygments.name.class": "ansiblue bold",
        "pygments.name.decorator": "ansimagenta",
        "pygments.string": "ansigreen",
        "pygments.number": "ansiblue",
        "pygments.comment": "ansibrightblack italic",
        "pygments.operator.word": "ansimagenta bold",
        "pygments.name.variable": "ansicyan",
        "pygments.error": "ansired",
    },
}


def input_style(scheme: str) -> Style:
    """The prompt_toolkit style for input highlighted in `scheme` ('dark' or 'light')."""
    return Style.from_dict(_TOKENS.get(scheme, _TOKENS["dark"]))


def warm_up() -> None:
    """Import the lexers (about 0.1 s), so `InputLexer` can colour from then on."""
    import pygments.lexers.python  # noqa: F401
    import pygments.lexers.shell  # noqa: F401


def is_shell_line(text: str) -> bool:
    """True for `$ cmd` and `!cmd` lines (one line, as the evaluator reads them)."""
    return text.lstrip().startswith(("$", "!")) and "\n" not in text.strip()


class InputLexer(Lexer):
    """Python, or Bash for a shell escape; plain text until pygments is loaded."""

    def __init__(self) -> None:
        self._python: Lexer | None = None
        self._bash: Lexer | None = None

    def _lexers(self) -> tuple[Lexer, Lexer] | None:
        if self._python is None:
            if (
                imported("pygments.lexers.python") is None
                or imported("pygments.lexers.shell") is None
            ):
                return None
            from prompt_toolkit.lexers import PygmentsLexer
            from pygments.lexers.python import PythonLexer
            from pygments.lexers.shell import BashLexer

            self._python = PygmentsLexer(PythonLexer)
            self._bash = PygmentsLexer(BashLexer)
        return self._python, self._bash

    def lex_document(self, document: Document) -> Any:
        lexers = self._lexers()
        if lexers is None:
            return lambda lineno: [("", line) for line in [document.lines[lineno]]]
        python, bash = lexers
        return (bash if is_shell_line(document.text) else python).lex_document(document)
