"""Top-level `await` in a cell: the cell's coroutine runs on the session's own event loop.

A cell compiled with `ast.PyCF_ALLOW_TOP_LEVEL_AWAIT` that awaits something evaluates to a
coroutine. `th` has no event loop, and the kernel's (ipykernel's) is already running on the main
thread, where a second one cannot run. So the session keeps one loop running in a helper thread
(started at the first `await`; tasks and connections made on it live across cells) and the
main thread waits for the cell's coroutine in short steps, which keeps Ctrl-C working: an
interrupt cancels the coroutine and is raised in the cell as usual.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _session_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_loop.run_forever, name="trepl-await", daemon=True)
            thread.start()
        return _loop


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` on the session's loop until it ends; return its value or raise its error."""
    future = asyncio.run_coroutine_threadsafe(coro, _session_loop())
    try:
        while True:
            try:
                return future.result(timeout=0.05)
            except concurrent.futures.TimeoutError:
                continue
    except KeyboardInterrupt:
        future.cancel()
        raise
