"""Timing for the benchmark suite: compile time apart, warm-up, interleaved timed windows.

A competitor is a `Runner`: ``setup()`` builds its network and data, ``step()`` runs one
unit of work (a training step or an inference pass) and blocks until it is done. The suite
times every competitor of a row in the same process, in round-robin windows, so a burst of
load from another process on a shared machine hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Runner:
    """One competitor on one row.

    Attributes:
        name: what the table shows (``"torch channels_last 1t"``).
        kind: ``"ours"``, ``"torch"`` or ``"jax"``: the family the ratios are taken against.
        setup: builds the work and returns the step function (a zero-argument callable that
            blocks until its result is ready).
        before: called before each window of this competitor (PyTorch sets its thread count
            here, since that setting is process-wide).
    """

    name: str
    kind: str
    setup: Callable[[], Callable[[], None]]
    before: Callable[[], None] | None = None
    step: Callable[[], None] | None = None
    compile_s: float = 0.0
    window_s: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass
class Measurement:
    """Per-competitor result on one row, in items (images) per second."""

    name: str
    kind: str
    median: float
    low: float
    high: float
    compile_s: float
    windows: list[float]
    error: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def measure(
    runners: list[Runner],
    items_per_step: int,
    windows: int = 5,
    steps_per_window: int = 3,
    warmup: int = 2,
) -> list[Measurement]:
    """Time every runner: first call (compile) apart, warm-up, then interleaved windows.

    Args:
        runners: the competitors of one row.
        items_per_step: images per step (the batch size), for the items/s figure.
        windows: timed windows per runner; the table reports their median and range.
        steps_per_window: steps in each window.
        warmup: untimed steps after the first call.
    """
    for r in runners:
        try:
            if r.before:
                r.before()
            start = time.perf_counter()
            r.step = r.setup()
            r.step()  # traces and compiles (JAX) or warms allocators (PyTorch)
            r.compile_s = time.perf_counter() - start
            for _ in range(warmup):
                r.step()
        except Exception as e:  # a competitor that cannot run is reported, not fatal
            r.error = f"{type(e).__name__}: {e}"
    live = [r for r in runners if r.error is None]
    for _ in range(windows):
        for r in live:
            if r.before:
                r.before()
            start = time.perf_counter()
            for _ in range(steps_per_window):
                r.step()
            r.window_s.append((time.perf_counter() - start) / steps_per_window)
    out = []
    for r in runners:
        rates = [items_per_step / t for t in r.window_s]
        if rates:
            out.append(
                Measurement(
                    r.name,
                    r.kind,
                    statistics.median(rates),
                    min(rates),
                    max(rates),
                    r.compile_s,
                    rates,
                )
            )
        else:
            out.append(Measurement(r.name, r.kind, 0.0, 0.0, 0.0, r.compile_s, [], r.error))
        r.step = None  # free the work before the next row
    return out


def best(measurements: list[Measurement], *kinds: str) -> Measurement | None:
    """The fastest (by median) successful measurement of the given families."""
    found = [m for m in measurements if m.kind in kinds and m.error is None]
    return max(found, key=lambda m: m.median) if found else None
