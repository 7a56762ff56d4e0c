"""trepl: a TREPL-style evaluator (`Evaluator`) and its terminal front end (`th`).

`from trepl import repl; repl()` opens the shell on the caller's variables, as Torch7's
`repl = require 'trepl'; repl()` does. Names load on first use so `import trepl` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Evaluator", "repl", "version"]


def version() -> str:
    """The installed trepl distribution's version (what `th --version` and `itorch --version`
    print), or "unknown" when running from a tree that was never installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("trepl")
    except PackageNotFoundError:
        return "unknown"


def __getattr__(name: str) -> Any:
    if name == "Evaluator":
        from trepl.evaluator import Evaluator

        return Evaluator
    if name == "repl":
        from trepl.app import repl

        return repl
    raise AttributeError(f"module 'trepl' has no attribute {name!r}")
