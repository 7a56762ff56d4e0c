"""`th`'s side of background work (`trepl.background`): its lines print above the prompt.

prompt_toolkit's `StdoutProxy` does the printing: from any thread, it hands the text to the
running prompt's event loop, which draws it above the input line and redraws the prompt (as
`patch_stdout` does for `print`). A progress line is redrawn many times a second; above a prompt
each redraw would be a new line, so it prints at most once per `interval` seconds, and always
its final form (the end of an epoch).
"""

from __future__ import annotations

import threading
import time

from prompt_toolkit.patch_stdout import StdoutProxy

from trepl.background import BackgroundOutput, ShowLine, Write


class TerminalLines:
    """`opener` for th's `BackgroundOutput`."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._proxy: StdoutProxy | None = None
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            if self._proxy is None:
                self._proxy = StdoutProxy(raw=True)
        self._proxy.write(text)
        self._proxy.flush()

    def _show_line(self, key: str, text: str, final: bool) -> None:
        now = time.monotonic()
        if final or now - self._last.get(key, -self.interval) >= self.interval:
            self._last[key] = now
            self._write(text + "\n")

    def __call__(self) -> tuple[Write, ShowLine | None]:
        with self._lock:  # made here, in the thread that runs the prompt
            if self._proxy is None:
                self._proxy = StdoutProxy(raw=True)
        return self._write, self._show_line


def terminal_background(interval: float = 1.0) -> BackgroundOutput:
    """A `BackgroundOutput` that prints above th's prompt."""
    return BackgroundOutput(TerminalLines(interval))
