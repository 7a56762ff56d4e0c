"""The session's own record: every input and what it printed, for export, snapshot and replay.

`Evaluator.execute` appends one `Entry` per cell (th and the kernel alike). The text kept is
what a person saw, without colour or timing: the cell's printed output, its value as `th`
prints it, and its error. `th --export`, `save_session` and `replay()` read it; nothing else
does. Output kept per cell is capped (`MAX_TEXT` characters) so a chatty loop cannot make
the log grow without bound.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from trepl import printer
from trepl.results import ExecResult

MAX_TEXT = 100_000  # characters kept per output of one cell


@dataclass
class Entry:
    """One cell: its input, what it printed, its value's text and its error."""

    count: int
    source: str
    stdout: str = ""
    stderr: str = ""
    value: str | None = None  # the auto-printed value, plain text; None when nothing showed
    error: list[str] | None = None  # [ename, evalue] of an error
    traceback: list[str] = field(default_factory=list)
    seed: int | None = None  # the seed `nets.manual_seed` was given in this cell
    origin: str = "input"  # "input", or "th --seed" for the seeding the command line did

    def output(self) -> str:
        """What the cell showed, in one string: what `replay()` compares."""
        parts = [self.stdout]
        if self.value is not None:
            parts.append(self.value + "\n")
        if self.error is not None:
            parts.append(f"{self.error[0]}: {self.error[1]}\n")
        return "".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Entry:
        if not isinstance(data, dict) or not isinstance(data.get("source"), str):
            raise ValueError(f"{where}: expected a history entry with a 'source' string")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError as error:
            raise ValueError(f"{where}: malformed history entry ({error})") from None


def _capped(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n[... {len(text) - MAX_TEXT:,} more characters not kept]\n"


def current_seed() -> int | None:
    """The seed of nets' random stream if nets is loaded and was seeded (never imports it)."""
    random = sys.modules.get("nets._random")
    if random is None:
        return None
    return random._state.get("seed")


class SessionLog:
    """The inputs of this session, in order, with their outputs (a list of `Entry`)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def record(self, source: str, result: ExecResult, count: int, depth: int, seed: Any) -> None:
        """Add the cell `source` that gave `result`; `seed` is nets' seed before it ran."""
        if not source.strip():
            return
        entry = Entry(count=count, source=source, stdout=_capped(result.stdout))
        entry.stderr = _capped(result.stderr)
        if result.help is not None:
            entry.stdout += _capped(result.help.text) + "\n"
        elif result.show:
            try:
                entry.value = _capped(printer.render(result.value, False, 80, depth))
            except Exception as error:  # noqa: BLE001 - a broken __repr__ is the user's
                entry.value = f"<unprintable {type(result.value).__name__}: {error}>"
        if result.error is not None:
            entry.error = [result.error.ename, result.error.evalue]
            entry.traceback = list(result.error.traceback)
        after = current_seed()
        if after is not None and (after != seed or "manual_seed" in source):
            entry.seed = after
        self.entries.append(entry)

    def inputs(self) -> list[str]:
        return [e.source for e in self.entries]
