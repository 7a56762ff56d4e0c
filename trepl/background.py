"""Where work that runs on after its cell prints: `engine.train(..., background=True)`.

The evaluator gives each cell's stdout/stderr a `background` attribute holding its
`BackgroundOutput`; the training thread calls `open()` there once, in the cell that starts it,
and gets a `Channel`: a text stream bound to the front end as it was in that cell. `th` prints
its lines above the prompt; the kernel sends them to the cell that started the work, and
redraws the progress line as one display (`update_display_data`). An error of that work is
queued (`report_error`) and the evaluator prints it, once, at the start of the next cell.

This module imports nothing heavy: the evaluator creates one per session.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

Write = Callable[[str], object]
ShowLine = Callable[[str, str, bool], object]
Opener = Callable[[], tuple[Write, ShowLine | None]]


class Channel:
    """A text stream for one piece of background work (what `BackgroundOutput.open` returns).

    With a `show_line`, progress bars (`nets.engine.ProgressBar`) redraw their line through it.
    """

    def __init__(self, write: Write, show_line: ShowLine | None, owner: BackgroundOutput) -> None:
        self._write = write
        self._owner = owner
        if show_line is not None:
            self.show_line = show_line
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        if text:
            self._write(text)
        return len(text)

    def flush(self) -> None:
        """Each write is passed on at once."""

    def isatty(self) -> bool:
        return hasattr(self, "show_line")

    def report_error(self, text: str) -> None:
        """Queue `text` to be shown once, at the start of the next cell."""
        self._owner.queue_error(text)


def _stderr_opener() -> tuple[Write, ShowLine | None]:
    stream = sys.__stderr__

    def write(text: str) -> None:
        if stream is not None:
            stream.write(text)
            stream.flush()

    return write, None


class BackgroundOutput:
    """A session's place for background output; `opener()` gives `(write, show_line)` for the
    front end as it is now (the kernel binds the current cell). Default: the process's stderr."""

    def __init__(self, opener: Opener | None = None) -> None:
        self._opener = opener or _stderr_opener
        self._errors: list[str] = []
        self._lock = threading.Lock()

    def open(self) -> Channel:
        write, show_line = self._opener()
        return Channel(write, show_line, self)

    def queue_error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)

    def take_errors(self) -> list[str]:
        """The queued error reports, each handed out once."""
        if not self._errors:
            return []
        with self._lock:
            errors, self._errors = self._errors, []
        return errors
