"""Honest timing for JAX: wait (interruptibly) for arrays, and count XLA compilations.

JAX dispatches asynchronously, so a cell returns long before its arrays hold values. The
evaluator stops the clock only after `wait_ready` has seen every array the cell produced, and
`CompileWatch` collects the compile events JAX reports through `jax.monitoring`, so the timing
line can show compile time apart from run time.

Nothing here imports JAX: it only acts once the user's code has loaded it.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

# Events emitted by jax 0.10 for each cache miss of a jitted computation (jax/_src/dispatch.py,
# pxla.py). Tracing is left out: a nested jit reports its trace inside the outer one's, so
# summing traces would count time twice; lowering and backend compile never nest.
_LOWERING_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
_BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"

_listener_lock = threading.Lock()
_listener_installed = False
_active_watches: list[CompileWatch] = []


def imported(name: str) -> Any:
    """The module `name` if it is fully imported, else None (never imports, never blocks).

    The shell imports JAX on a background thread; a module still being initialised there must
    not be touched, or the main thread would wait on the import lock (and Ctrl-C would land
    in the middle of it).
    """
    module = sys.modules.get(name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    return module


def _on_duration_event(event: str, duration: float, **_kwargs: Any) -> None:
    if event not in (_LOWERING_EVENT, _BACKEND_COMPILE_EVENT):
        return
    for watch in list(_active_watches):
        watch.seconds += duration
        if event == _BACKEND_COMPILE_EVENT:
            watch.count += 1


def install_listener() -> bool:
    """Register the compile listener with JAX once, if JAX is imported. Returns True if active."""
    global _listener_installed
    if _listener_installed:
        return True
    if imported("jax") is None:
        return False
    with _listener_lock:
        if not _listener_installed:
            from jax import monitoring

            monitoring.register_event_duration_secs_listener(_on_duration_event)
            _listener_installed = True
    return True


class CompileWatch:
    """Context manager that adds up XLA compile time and count while it is open."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __enter__(self) -> CompileWatch:
        install_listener()
        _active_watches.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        # The listener may have been installed during the cell (first use of `jnp`): too late
        # for that cell's compilations, which are then counted as run time.
        install_listener()
        _active_watches.remove(self)


def array_leaves(value: Any, limit: int = 10_000) -> list[Any]:
    """The jax.Array leaves of the pytree `value` (never imports JAX)."""
    jax = imported("jax")
    if jax is None:
        return []
    try:
        if isinstance(value, jax.Array):
            return [value]
        if isinstance(value, str | bytes | int | float | complex | bool | type(None)):
            return []
        leaves = jax.tree_util.tree_leaves(value)
        return [leaf for leaf in leaves[:limit] if isinstance(leaf, jax.Array)]
    except Exception:  # noqa: BLE001 - exotic containers (or a dead weakref.proxy, whose
        return []  # isinstance check raises) simply are not waited on


def is_ready(array: Any) -> bool:
    """True if the array's value is computed (or it was deleted, so there is nothing to wait on)."""
    try:
        return array.is_ready()
    except Exception:  # noqa: BLE001 - deleted or donated buffers
        return True


def wait_ready(arrays: list[Any]) -> None:
    """Block until every array is ready, staying interruptible by Ctrl-C.

    `block_until_ready` waits inside C++, where Python never sees SIGINT until the computation
    ends. Polling `is_ready()` with short sleeps keeps the main thread in Python, so Ctrl-C raises
    KeyboardInterrupt at once. The back-off keeps the added latency below ~2% of the wait.
    """
    pause = 2e-5
    for array in arrays:
        while not is_ready(array):
            time.sleep(pause)
            pause = min(pause * 1.5, 0.01)


LineCallback = Callable[[str, str, bool], None]  # (line id, text, final): redraw one line


class BusyNotice:
    """While a cell runs, one redrawn line saying the device is still busy with abandoned work.

    After Ctrl-C, an XLA program that had started keeps running (JAX cannot cancel it) and every
    later JAX command queues behind it. When a cell starts with such work unfinished, this thread
    waits `delay` seconds, then shows `[waiting for ... 3 s]` through `show_line`, redrawn each
    second, until the work or the cell ends; a final line then says how long it lasted.
    """

    def __init__(
        self, arrays: list[Any], cell: int, show_line: LineCallback, delay: float = 0.5
    ) -> None:
        self._arrays = arrays
        self._cell = cell
        self._show = show_line
        self._delay = delay
        self._done = threading.Event()
        self._shown = False
        self._start = time.perf_counter()
        self._key = f"trepl-busy-{uuid.uuid4().hex[:12]}"
        self._thread = threading.Thread(target=self._watch, name="trepl-busy", daemon=True)

    def __enter__(self) -> BusyNotice:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _busy(self) -> bool:
        return any(not is_ready(a) for a in self._arrays)

    def _text(self, final: bool) -> str:
        seconds = time.perf_counter() - self._start
        if final:
            return f"[waited {seconds:.1f} s for the computation interrupted in cell {self._cell}]"
        return (
            f"[waiting for the computation interrupted in cell {self._cell}: JAX cannot cancel "
            f"it, and JAX commands queue behind it. {seconds:.0f} s]"
        )

    def _watch(self) -> None:
        wait = self._delay
        while not self._done.wait(wait) and self._busy():
            self._shown = True
            self._show(self._key, self._text(False), False)
            wait = 1.0
        if self._shown:
            self._show(self._key, self._text(True), True)
