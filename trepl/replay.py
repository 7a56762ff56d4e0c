"""`replay()`: run this session's inputs again in a fresh namespace; report the first output
that differs from what the session showed.

The inputs come from the session log (`trepl.session_log`), in order, `th --seed N`'s seeding
first when it was given; calls of `replay()` itself are left out. Each runs in a new
`Evaluator` of the same process, and its output (printed text, value as printed, error) is
compared with the recorded one as text. Random draws repeat only from a seed: `th --seed N` or
`nets.manual_seed(N)` in the session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trepl.evaluator import Evaluator

_REPLAY_CALL = re.compile(r"\breplay\s*\(")


@dataclass
class ReplayReport:
    """The outcome: `index` of the first differing input (None: none), and both outputs."""

    total: int
    index: int | None = None
    source: str = ""
    then: str = ""
    now: str = ""
    seeded: bool = False

    @property
    def same(self) -> bool:
        return self.index is None

    def __repr__(self) -> str:
        if self.total == 0:
            return "replay: nothing to re-run yet"
        if self.index is None:
            return (
                f"replay: {self.total} input(s) re-run in a fresh namespace; every output is "
                "the same"
            )
        lines = [
            f"replay: input {self.index + 1} of {self.total} gives another output "
            f"({self.total - self.index - 1} after it not re-run):",
            *("  >>> " + line for line in self.source.splitlines()),
            "  then: " + _quote(self.then),
            "  now:  " + _quote(self.now),
        ]
        if not self.seeded:
            lines.append(
                "  (no seed in this session: th --seed N or nets.manual_seed(N) makes random "
                "draws repeat)"
            )
        return "\n".join(lines)


def _quote(text: str) -> str:
    text = text.rstrip("\n")
    if not text:
        return "(nothing)"
    return text.replace("\n", "\n        ")


def replay(evaluator: Evaluator) -> ReplayReport:
    """replay(): re-run the inputs; the first output that differs, if any."""
    from trepl.evaluator import Evaluator

    entries = [e for e in evaluator.log.entries if not _REPLAY_CALL.search(e.source)]
    fresh = Evaluator()
    fresh.print_level = evaluator.print_level
    seeded = any(e.seed is not None or e.origin != "input" for e in entries)
    report = ReplayReport(len(entries), seeded=seeded)
    for index, entry in enumerate(entries):
        fresh.execute(entry.source)
        now = fresh.log.entries[-1].output() if fresh.log.entries else ""
        if now != entry.output():
            report.index, report.source = index, entry.source
            report.then, report.now = entry.output(), now
            break
    return report
