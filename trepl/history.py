"""The shell's history file, and what happens when it cannot be written.

prompt_toolkit's FileHistory raises from inside its event loop when the file cannot be opened
(a read-only file, a directory, a folder that does not exist): every command then printed
"Unhandled exception in event loop" and the first one typed was lost. Here the file is tried
once at start; a file that fails gets one warning line, and the session keeps its history in
memory (and still reads the old entries when it can).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prompt_toolkit.history import FileHistory

from trepl import guard


def problem(path: str) -> str | None:
    """Why `path` cannot take history lines, or None when it can (the file may be created)."""
    if os.path.isdir(path):
        return "it is a directory"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"its folder {folder!r} does not exist"
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        return guard.error_text(exc)
    return None


def warning(path: str, reason: str) -> str:
    return (
        f"th: cannot write the history file {path!r} ($TREPL_HISTORY or ~/.trepl_history): "
        f"{reason}; this session keeps its history in memory"
    )


class SafeFileHistory(FileHistory):
    """A FileHistory that never raises: a failed read or write warns once (`warn(text)`), then
    the history goes on in memory.

    Args:
        filename: the history file.
        warn: called with one line of text, once, at the first failure.
        writable: False when `problem()` already found the file unwritable (and warned).
    """

    def __init__(self, filename: str, warn: Callable[[str], None], writable: bool = True) -> None:
        self._warn = warn
        self._failed = not writable
        super().__init__(filename)

    def load_history_strings(self) -> Iterable[str]:
        try:
            return list(super().load_history_strings())
        except OSError as exc:
            self._fail(exc)
            return []

    def store_string(self, string: str) -> None:
        if self._failed:
            return
        try:
            super().store_string(string)
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        if not self._failed:
            self._failed = True
            self._warn(warning(str(self.filename), guard.error_text(exc)))
