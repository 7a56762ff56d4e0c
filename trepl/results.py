"""Plain data that the evaluator hands to its front ends (the `th` terminal and the kernel).

Nothing here knows about terminals or Jupyter: a front end reads these fields and decides how to
show them. Keep them plain dataclasses so both front ends (and tests) can build and compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class ErrorInfo:
    """An exception raised by user code, trimmed to the user's own frames (`trepl.errors`).

    `traceback` holds plain-text lines (no ANSI colour); front ends colour them. Its last
    `message_lines` lines are the exception's message (`Name: text`, notes). `hidden_frames`
    counts the library frames left out of a nets error; `full_traceback` has them all (`tb()`).
    """

    ename: str
    evalue: str
    traceback: list[str] = field(default_factory=list)
    message_lines: int = 1
    hidden_frames: int = 0
    full_traceback: list[str] = field(default_factory=list)


@dataclass
class HelpInfo:
    """What `? name` / `?? name` found: enough for a terminal page or a Jupyter pager payload."""

    name: str
    found: bool
    signature: str = ""
    doc: str = ""
    type_name: str = ""
    source_file: str = ""
    source: str = ""  # filled for `?? name`
    text: str = ""  # the whole page as plain text, ready to print


@dataclass
class ExecResult:
    """The outcome of `Evaluator.execute(cell)`.

    `show` says whether the front end should auto-print `value` (False after a trailing `;`, for
    statements, and for None). `elapsed` is wall time in seconds with the result's arrays ready;
    `compile_time` is the part of it spent in new XLA compilations (0.0 when none happened).
    """

    value: Any = None
    show: bool = False
    stdout: str = ""
    stderr: str = ""
    error: ErrorInfo | None = None
    elapsed: float = 0.0
    compile_time: float = 0.0
    help: HelpInfo | None = None  # set for `? name` cells
    shell_status: int | None = None  # exit status of a `$ cmd` cell
    compile_count: int = 0  # how many XLA compilations the cell triggered
    exit_code: int | None = None  # set when the cell raised SystemExit (sys.exit(), exit())
    warnings: list[str] = field(default_factory=list)  # e.g. `th -g` new-global notices
    notes: list[str] = field(default_factory=list)  # dim lines after the value (recompilations)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Completions:
    """Matches for the text between `cursor_start` and `cursor_end` (as Jupyter's reply)."""

    matches: list[str]
    cursor_start: int
    cursor_end: int
    types: list[str] = field(default_factory=list)  # parallel to matches: 'function', 'module', ...


@dataclass
class Completeness:
    """Answer to "can this input run yet?": status is 'complete', 'incomplete' or 'invalid'."""

    status: Literal["complete", "incomplete", "invalid"]
    indent: str = ""
