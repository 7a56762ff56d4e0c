"""Logs for training: a text log, a JSON-lines log, and a per-epoch progress bar.

``TextLog`` and ``JSONLog`` write one line per ``log(values)`` call, to a path (appended) or an
open stream. ``ProgressBar`` redraws one terminal line with rate, ETA and running metrics, and
stays silent when its stream is not a terminal (a file, a pipe, a notebook's captured output).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from collections.abc import Mapping
from typing import IO, Any


def _number(value: Any) -> Any:
    try:
        return float(value) if not isinstance(value, (str, bool, int)) else value
    except (TypeError, ValueError):
        return str(value)


class _LineLog:
    def __init__(self, target: str | os.PathLike | IO[str]):
        if hasattr(target, "write"):
            self.stream, self._owned = target, False
        else:
            self.stream, self._owned = open(target, "a", encoding="utf-8"), True  # noqa: SIM115

    def log(self, values: Mapping[str, Any]) -> None:
        """Write one line for `values` and flush it, so a crash loses nothing written."""
        self.stream.write(self._format({k: _number(v) for k, v in values.items()}) + "\n")
        self.stream.flush()

    def _format(self, values: dict) -> str:
        raise NotImplementedError

    def close(self) -> None:
        if self._owned:
            self.stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TextLog(_LineLog):
    """TextLog(path_or_stream): lines like ``epoch 3 | loss 0.1234 | error 2.50``."""

    def _format(self, values: dict) -> str:
        def show(v):
            return f"{v:.4g}" if isinstance(v, float) else str(v)

        return " | ".join(f"{k} {show(v)}" for k, v in values.items())


class JSONLog(_LineLog):
    """JSONLog(path_or_stream): one JSON object per line (non-finite numbers as null)."""

    def _format(self, values: dict) -> str:
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in values.items()
        }
        return json.dumps(clean)


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """ProgressBar(total[, desc][, stream][, enabled][, width]): one redrawn line per epoch.

    ``update(n=1, **metrics)`` advances by `n` steps and shows the metrics (e.g. ``loss=``);
    ``close()`` ends the line. `enabled` defaults to whether `stream` is a terminal, or can
    redraw a line itself: a stream with ``show_line(key, text, final)`` (`th` and the itorch
    kernel give a cell's stderr one; the notebook shows the bar as one display updated in place).
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        stream: IO[str] | None = None,
        enabled: bool | None = None,
        width: int = 24,
        min_interval: float = 0.1,
    ):
        self.total = max(int(total), 0)
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self._show_line = getattr(self.stream, "show_line", None)
        self._key = f"progress-{uuid.uuid4().hex[:12]}"  # names the line (a display id)
        on_screen = self._show_line is not None or bool(isatty and isatty())
        self.enabled = enabled if enabled is not None else on_screen
        self.width = width
        self.min_interval = min_interval
        self.count = 0
        self.metrics: dict[str, Any] = {}
        self.start = time.perf_counter()
        self._drawn = 0.0

    def render(self) -> str:
        """The line as it would be drawn now."""
        elapsed = time.perf_counter() - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.count) / rate if rate > 0 else math.inf
        filled = int(self.width * self.count / self.total) if self.total else self.width
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        metrics = " ".join(
            f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in self.metrics.items()
        )
        head = f"{self.desc} " if self.desc else ""
        return (
            f"{head}[{bar[: self.width]}] {self.count}/{self.total} {rate:.1f} it/s "
            f"ETA {_clock(left)} {metrics}".rstrip()
        )

    def update(self, n: int = 1, **metrics: Any) -> None:
        self.count += n
        self.metrics.update({k: _number(v) for k, v in metrics.items()})
        now = time.perf_counter()
        if self.enabled and (now - self._drawn >= self.min_interval or self.count >= self.total):
            self._drawn = now
            self._draw(final=False)

    def close(self) -> None:
        if self.enabled:
            self._draw(final=True)

    def _draw(self, final: bool) -> None:
        if self._show_line is not None:
            self._show_line(self._key, self.render(), final)
            return
        self.stream.write("\r" + self.render() + "\x1b[K" + ("\n" if final else ""))
        self.stream.flush()
