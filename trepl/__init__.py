"""trepl: a TREPL-style evaluator (`Evaluator`) and its terminal front end (`th`).

`from trepl import repl; repl()` opens the shell on the caller's variables, as Torch7's
`repl = require 'trepl'; repl()` does. Names load on first use so `import trepl` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Evaluator", "repl"]


def __getattr__(name: str) -> Any:
    if name == "Evaluator":
        from trepl.evaluator import Evaluator

        return Evaluator
    if name == "repl":
        from trepl.app import repl

        return repl
    raise AttributeError(f"module 'trepl' has no attribute {name!r}")
