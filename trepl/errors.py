"""An exception raised by a cell, as the user should first see it (`ErrorInfo`).

Two views are kept. The short one is what `th` and the kernel show: the user's own frames and the
message. For an error that `nets` raised on purpose (every `nets._errors.NetsError`: a layer that
refused its input, a bad device), the frames inside `nets`, JAX, the standard library and other
installed packages are left out too, with the exceptions it was raised from: the message already
names the module, what it expected and what it got. JAX's "For simplicity, JAX has removed its
internal frames" note is left out of every short view. The full view (every frame, the chained
exceptions, all notes) is what `tb()` prints.

Nothing here imports nets or JAX: a NetsError is recognised through the loaded `nets._errors`.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from typing import Any

from trepl.results import ErrorInfo

_TREPL_DIR = os.path.dirname(os.path.abspath(__file__))
_JAX_NOTE = "JAX_TRACEBACK_FILTERING"  # appears in JAX's note about frames it removed


def _library_dirs() -> tuple[str, ...]:
    """Directories whose frames are library code: nets, the standard library, site-packages."""
    dirs = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    nets = sys.modules.get("nets")
    if nets is not None and getattr(nets, "__file__", None):
        dirs.add(os.path.dirname(os.path.abspath(nets.__file__)))
    return tuple(os.path.join(d, "") for d in dirs)


def is_nets_error(exc: BaseException) -> bool:
    """True for the errors nets raises on purpose (bad input, bad device)."""
    errors = sys.modules.get("nets._errors")
    return errors is not None and isinstance(exc, errors.NetsError)


def _is_user_frame(filename: str, library: tuple[str, ...]) -> bool:
    if filename.startswith("<"):
        return not filename.startswith("<frozen")  # cells (<th-3>), -e, stdin: the user's
    return not os.path.abspath(filename).startswith(library)


def _without_evaluator_frames(exc: BaseException) -> Any:
    """The traceback from the first frame that is not the evaluator's own (the cell's)."""
    tb = exc.__traceback__
    while tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == (
        _TREPL_DIR
    ):
        tb = tb.tb_next
    return tb


def _drop_jax_note(te: traceback.TracebackException) -> None:
    notes = getattr(te, "__notes__", None)
    if notes:
        te.__notes__ = [note for note in notes if _JAX_NOTE not in str(note)]


def _keep_user_frames(te: traceback.TracebackException, library: tuple[str, ...]) -> int:
    """Cut library frames from `te` and its chain; returns how many were cut.

    An exception it was raised from stays only if the user's code is in it (an error inside
    a layer the user wrote): a nets error raised from JAX's says all there is to say.
    """
    kept = [frame for frame in te.stack if _is_user_frame(frame.filename, library)]
    hidden = len(te.stack) - len(kept)
    te.stack = traceback.StackSummary.from_list(kept)
    for attr in ("__cause__", "__context__"):
        chained = getattr(te, attr)
        if chained is None:
            continue
        chained_hidden = _keep_user_frames(chained, library)
        if chained.stack:
            hidden += chained_hidden
            _drop_jax_note(chained)
        else:
            setattr(te, attr, None)
    return hidden


def error_info(exc: BaseException) -> ErrorInfo:
    """The short and the full view of `exc`, with the evaluator's own frames cut from both."""
    exc = exc.with_traceback(_without_evaluator_frames(exc))
    full = traceback.format_exception(exc)
    te = traceback.TracebackException.from_exception(exc)
    hidden = _keep_user_frames(te, _library_dirs()) if is_nets_error(exc) else 0
    _drop_jax_note(te)
    if isinstance(exc, SyntaxError):
        short = list(te.format_exception_only())
    elif not te.stack and te.__cause__ is None and te.__context__ is None:
        short = list(te.format_exception_only())  # no user frame at all: just the message
    else:
        short = list(te.format())
    message = list(te.format_exception_only())
    lines = _lines(short)
    return ErrorInfo(
        ename=type(exc).__name__,
        evalue=_message(exc),
        traceback=lines,
        message_lines=len(_lines(message)),
        hidden_frames=hidden,
        full_traceback=_lines(full),
    )


def _message(exc: BaseException) -> str:
    """str(exc); an exception class whose __str__ raises gets the traceback module's words."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - the user's exception class
        return "<exception str() failed>"


def _lines(chunks: list[str]) -> list[str]:
    return "".join(chunks).rstrip("\n").split("\n")
