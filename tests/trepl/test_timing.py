"""BusyNotice: one line while abandoned device work runs, then how long it lasted."""

import time

from trepl.timing import BusyNotice


class _Array:
    """Stands for a jax.Array whose computation ends at a given time (is_ready() is all the
    notice reads)."""

    def __init__(self, ready_at: float) -> None:
        self.ready_at = ready_at

    def is_ready(self) -> bool:
        return time.monotonic() >= self.ready_at


def test_notice_redraws_one_line_then_says_how_long_it_waited():
    lines = []
    work = _Array(time.monotonic() + 1.4)
    with BusyNotice([work], cell=3, show_line=lambda *a: lines.append(a), delay=0.2):
        time.sleep(1.8)
    keys = {key for key, _, _ in lines}
    assert len(keys) == 1  # one line, redrawn
    assert [final for _, _, final in lines] == [False] * (len(lines) - 1) + [True]
    assert "waiting for the computation interrupted in cell 3" in lines[0][1]
    assert lines[-1][1].startswith("[waited 1.") and lines[-1][1].endswith("in cell 3]")


def test_no_notice_when_the_work_ends_first():
    lines = []
    with BusyNotice([_Array(0)], cell=1, show_line=lambda *a: lines.append(a), delay=0.05):
        time.sleep(0.2)
    assert lines == []
