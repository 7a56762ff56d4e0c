"""A per-thread on/off switch, set for the length of a ``with`` block.

`nets.shape_only()` and `nets.nn.lowering.plain_path()` are such switches: code reads them
while it builds modules or traces a function, and a block restores what was there before.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class Switch:
    """One per-thread flag: `on()` reads it, ``with switch.set(True):`` sets it for a block."""

    def __init__(self) -> None:
        self._local = threading.local()

    def on(self) -> bool:
        return getattr(self._local, "on", False)

    @contextlib.contextmanager
    def set(self, on: bool = True) -> Iterator[None]:
        saved = self.on()
        self._local.on = bool(on)
        try:
            yield
        finally:
            self._local.on = saved
