"""``engine.train(..., background=True)``: the training loop on a thread, steered from the prompt.

`BackgroundTraining` is the handle `train` returns at once. The loop runs `Engine.train` itself
on a daemon thread; between steps it consults the handle:

- ``pause()`` returns once the loop has stopped at a step boundary and given the network its
  current parameters; ``resume()`` lets it go on; ``stop()`` ends it at the next boundary (the
  interrupted epoch is checkpointed as Ctrl-C does) and returns the final state.
- ``lock`` (a re-entrant lock) is held by the loop for each whole step (shape check, the
  compiled step, the hooks) and while it writes parameters into the network (every epoch end,
  at a pause). ``with training.lock:`` therefore sees the network in one piece, as last
  published, and holds the next step back; ``with training.paused():`` sees it as of the last
  step. Evaluate the model in either, never bare, while training runs.
- Progress goes to a stream opened when training starts: in `th` and the itorch kernel the
  front end's (`trepl.background`), above the prompt or as one display updated in place;
  elsewhere the process's stderr.
- An exception in the loop ends it; the handle keeps it (``error``) and reports it once: in
  `th` and the kernel at the start of the next cell, elsewhere on stderr at once. ``wait()``
  raises it.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_RUNNING: weakref.WeakSet = weakref.WeakSet()  # handles whose thread may still run
EXIT_WAIT = 5.0  # seconds interpreter exit waits for a background run to reach a step boundary


@atexit.register
def _stop_at_exit() -> None:
    """Interpreter exit stops background training at a step boundary first: a daemon thread
    still inside XLA while the interpreter finalizes can abort the process."""
    for training in list(_RUNNING):
        if training.running:
            training.stop(timeout=EXIT_WAIT)


class _Stderr:
    """The stream for background output outside trepl: the process's stderr, errors at once."""

    def write(self, text: str) -> int:
        stream = sys.__stderr__
        if stream is not None:
            stream.write(text)
            stream.flush()
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        stream = sys.__stderr__
        return bool(stream is not None and stream.isatty())

    def report_error(self, text: str) -> None:
        self.write(text + "\n")


def _open_output() -> Any:
    """The front end's stream for work that outlives this cell, if it offers one."""
    for stream in (sys.stdout, sys.stderr):
        background = getattr(stream, "background", None)
        if background is not None and hasattr(background, "open"):
            return background.open()
    return _Stderr()


def _release_all(lock: Any) -> None:
    """Release every hold this thread has on the re-entrant `lock`."""
    while True:
        try:
            lock.release()
        except RuntimeError:  # not held (any more) by this thread
            return


class BackgroundTraining:
    """The handle of a training run on a background thread (see the module docstring).

    Attributes:
        state: the engine state of the run (``epoch``, ``t``, ``loss``, ...), live while it runs
            and final once it ends.
        error: the exception that ended the run, or None.
        lock: held by the loop during each step and each write into the network.
        output: the stream progress goes to.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.lock = threading.RLock()
        self.output = _open_output()
        self.state: dict[str, Any] = {}
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        self._pause_requested = False
        self._paused = False
        self._stop_requested = False
        self._done = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, args: tuple, kwargs: dict) -> BackgroundTraining:
        self.thread = threading.Thread(
            target=self._run, args=(args, kwargs), name="nets-background-training", daemon=True
        )
        _RUNNING.add(self)
        self.thread.start()
        return self

    def _run(self, args: tuple, kwargs: dict) -> None:
        try:
            self.state = self.engine.train(*args, **kwargs)
            state = self.state
            how = "stopped" if state.get("interrupted") else "done"
            loss = state.get("loss")
            shown = f", loss {loss:.4f}" if isinstance(loss, float) else ""
            self.output.write(
                f"[background training {how}: epoch {state.get('epoch')}/"
                f"{state.get('maxepoch')}, {state.get('t')} steps{shown}]\n"
            )
        except BaseException as error:  # noqa: BLE001 - kept for wait() and reported once
            self.error = error
            last = f"{type(error).__name__}: {error}"
            self.output.report_error(
                f"background training failed at epoch {self.state.get('epoch', 0) + 1}, "
                f"step {self.state.get('t', 0) + 1}: {last}\n"
                "(training.error holds the exception; training.wait() raises it)"
            )
        finally:
            _release_all(self.lock)  # a step the error cut short may still hold it
            with self._cond:
                self._paused = False
                self._done.set()
                self._cond.notify_all()

    # ------------------------------------------------------------ the loop's side

    def steps(self, items: Iterable, guard: Any, publish: Any) -> Iterator:
        """The loop's batches: each step runs under `lock`; between steps, pause and stop."""
        for item in items:
            self.lock.acquire()
            try:
                yield item
            finally:
                if self.lock._is_owned():  # (not if the loop's end released it already)
                    self.lock.release()
            if self._boundary(publish):
                guard.stop = True
                return

    def _boundary(self, publish: Any) -> bool:
        with self._cond:
            if self._pause_requested and not self._stop_requested:
                with self.lock:
                    publish()
                self._paused = True
                self._cond.notify_all()
                while self._pause_requested and not self._stop_requested:
                    self._cond.wait()
                self._paused = False
            return self._stop_requested

    # ------------------------------------------------------------ the user's side

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    @property
    def is_paused(self) -> bool:
        return self._paused

    def pause(self, timeout: float | None = None) -> BackgroundTraining:
        """Stop at the next step boundary, with the network holding the current parameters;
        returns once there (or once training has ended)."""
        if self.lock._is_owned():
            raise RuntimeError(
                "pause() inside `with training.lock:` would wait forever (the loop needs the "
                "lock to reach a step boundary); call it outside, or use training.paused()"
            )
        with self._cond:
            self._pause_requested = True
            self._cond.wait_for(lambda: self._paused or self._done.is_set(), timeout)
        return self

    def resume(self) -> BackgroundTraining:
        """Go on after `pause`."""
        with self._cond:
            self._pause_requested = False
            self._cond.notify_all()
        return self

    @contextmanager
    def paused(self) -> Iterator[BackgroundTraining]:
        """``with training.paused(): net.forward(x)``: pause, then resume on leaving."""
        self.pause()
        try:
            yield self
        finally:
            self.resume()

    def stop(self, timeout: float | None = None) -> dict:
        """End training at the next step boundary (as Ctrl-C does); returns the final state."""
        with self._cond:
            self._stop_requested = True
            self._cond.notify_all()
        self._done.wait(timeout)
        return self.state

    def wait(self, timeout: float | None = None) -> dict:
        """Block until training ends; returns the final state, or raises its error."""
        self._done.wait(timeout)
        if self.error is not None:
            raise self.error
        return self.state

    def __repr__(self) -> str:
        state = self.state
        if self.error is not None:
            how = f"failed: {type(self.error).__name__}"
        elif self.running:
            how = "paused" if self._paused else "running"
        else:
            how = "stopped" if state.get("interrupted") else "done"
        loss = state.get("loss")
        shown = f", loss {loss:.4f}" if isinstance(loss, float) else ""
        return (
            f"<background training, {how}: epoch {state.get('epoch', 0)}/"
            f"{state.get('maxepoch', '?')}, step {state.get('t', 0)}{shown}>"
        )
