"""`timeit(...)` and `%timeit expr`: how long a call takes, with JAX's asynchrony accounted for.

IPython's `%timeit` times how long a call takes to *return*; a JAX call returns as soon as its
work is queued, so that measures dispatch, not the computation. Here every call is followed by
a wait until the arrays it returned are ready. The first call runs apart: it is where JAX
traces and compiles, and its compile time is reported on its own. The result is the median
time per call over `repeat` runs, each of as many calls as fill about 0.2 s (as IPython's
autorange).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trepl import timing

RUN_SECONDS = 0.2  # each run makes enough calls to last about this long
MAX_CALLS = 1_000_000


@dataclass
class TimeitResult:
    """What `timeit` measured; its repr is the one-line report."""

    median: float  # seconds per call, median over the runs
    spread: float  # seconds per call, (max - min) / 2 over the runs
    runs: int
    calls: int  # calls per run
    first: float  # seconds of the first call, compilation included
    compile_time: float  # seconds compiling during the first call
    compile_count: int
    recompiles: int = 0  # compilations during the timed runs (inputs whose shapes change)

    def __repr__(self) -> str:
        line = (
            f"{_duration(self.median)} ± {_duration(self.spread)} per call (median of "
            f"{self.runs} runs, {self.calls:,} call{'s' if self.calls != 1 else ''} each, "
            f"device work included)"
        )
        if self.compile_count:
            programs = f"{self.compile_count} program{'s' if self.compile_count != 1 else ''}"
            line += (
                f"; first call {_duration(self.first)}, of which "
                f"{_duration(self.compile_time)} compiling ({programs})"
            )
        if self.recompiles:
            line += f"; warning: {self.recompiles} compilations during the timed runs"
        return line


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _caller(stmt: Any, args: tuple, kwargs: dict, namespace: dict[str, Any]) -> Callable[[], Any]:
    """A no-argument function that runs `stmt` once and returns its value."""
    if callable(stmt):
        return lambda: stmt(*args, **kwargs)
    if not isinstance(stmt, str):
        raise TypeError(
            f"timeit: expected a function (timeit(f, x)) or a statement string "
            f"(timeit('f(x)')), got {type(stmt).__name__}"
        )
    if args or kwargs:
        raise TypeError("timeit: arguments go with a function, not with a statement string")
    try:
        code = compile(stmt, "<timeit>", "eval", dont_inherit=True)
    except SyntaxError:
        code = compile(stmt, "<timeit>", "exec", dont_inherit=True)
    return lambda: eval(code, namespace)  # noqa: S307 - the user's own statement


def _one_call(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    timing.wait_ready(timing.array_leaves(call()))
    return time.perf_counter() - start


def timeit(
    stmt: Any,
    *args: Any,
    repeat: int = 7,
    number: int | None = None,
    namespace: dict[str, Any] | None = None,
    **kwargs: Any,
) -> TimeitResult:
    """timeit(f, *args, [repeat=7], [number], **kwargs) or timeit('stmt'): time one call.

    Args:
        stmt: a function, called as `f(*args, **kwargs)`, or a statement string run in the
            session's namespace (what `%timeit stmt` does).
        repeat: how many runs the median is taken over.
        number: calls per run (default: as many as fill about 0.2 s).

    Returns:
        A TimeitResult; its repr reads `1.23 ms ± 0.04 ms per call (median of 7 runs, ...)`.
    """
    if repeat < 1 or (number is not None and number < 1):
        raise ValueError(f"timeit: repeat and number must be positive, got {repeat}, {number}")
    call = _caller(stmt, args, kwargs, namespace if namespace is not None else {})
    with timing.CompileWatch() as first_watch:
        first = _one_call(call)
    if number is None:
        number = 1
        while number < MAX_CALLS:
            if sum(_one_call(call) for _ in range(number)) >= RUN_SECONDS:
                break
            number *= 10
    per_call = []
    with timing.CompileWatch() as runs_watch:
        for _ in range(repeat):
            per_call.append(sum(_one_call(call) for _ in range(number)) / number)
    return TimeitResult(
        median=statistics.median(per_call),
        spread=(max(per_call) - min(per_call)) / 2,
        runs=repeat,
        calls=number,
        first=first,
        compile_time=first_watch.seconds,
        compile_count=first_watch.count,
        recompiles=runs_watch.count,
    )
