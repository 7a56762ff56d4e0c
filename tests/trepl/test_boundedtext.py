"""trepl.boundedtext: the kept copy of streamed text is its head and tail, whatever the writes."""

import random

import pytest

from trepl import shell
from trepl.boundedtext import BoundedText


@pytest.mark.parametrize("seed", range(20))
def test_head_and_tail_are_kept_exactly(seed):
    rng = random.Random(seed)
    kept = BoundedText(head=50, tail=20)
    parts = []
    for _ in range(rng.randint(0, 40)):
        part = "".join(rng.choice("ab\n") for _ in range(rng.choice([0, 1, 7, 19, 20, 21, 60])))
        parts.append(part)
        kept.add(part)
    text = "".join(parts)
    value = kept.value()
    assert kept.total == len(text)
    if len(text) <= 70:
        assert value == text
    else:
        assert value.startswith(text[:50]) and value.endswith(text[-20:])
        assert f"[... {len(text) - 70:,} characters not kept ...]" in value


def test_shell_output_kept_for_last_is_bounded(monkeypatch):
    """`$ cmd` shows all its output as it comes; `_LAST` keeps its head and tail."""
    monkeypatch.setattr(shell, "KEEP_HEAD", 1000)
    monkeypatch.setattr(shell, "KEEP_TAIL", 100)
    seen = []
    output, status = shell.run_shell("seq 1 20000", seen.append)
    shown = "".join(seen)
    assert status == 0 and shown.endswith("19999\n20000\n") and len(shown) > 100_000
    assert output.startswith("1\n2\n3\n") and output.endswith("19999\n20000\n")
    assert "characters not kept" in output and len(output) < 1200
