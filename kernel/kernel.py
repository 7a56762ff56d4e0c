"""ItorchKernel: a wrapper kernel on ipykernel's kernel base around `trepl.Evaluator`.

ipykernel does the wire protocol (sockets, HMAC signing, heartbeat, the parent poller, the
control thread that carries interrupts); each `do_*` here is a few lines that ask the evaluator
and translate its plain results (`trepl.results`) into Jupyter replies and iopub messages. A
cell therefore behaves exactly as a line in `th`: same `?`, `$ cmd`, `;`, `_RESULTS`/`_LAST`,
printed values and timing.
"""

from __future__ import annotations

import builtins
import contextlib
import fnmatch
import getpass
import logging
import os
import platform
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ipykernel.kernelbase import Kernel

from kernel import background, display, itorch

OUTPUT_LIMIT = 200_000  # characters of stdout/stderr one cell may send to the front end
TEXT_WIDTH = 80  # columns for text/plain values and the right-aligned timing line, as in `th`
INTERRUPT_NOTE_AFTER = 1.0  # seconds an interrupted cell may keep running before we explain why
# Seconds after a shutdown reply before the process leaves even if ipykernel's own teardown has
# not finished: that normally takes 0.4 s, but one shutdown in three stalled 10 s or hung.
SHUTDOWN_GRACE = 3.0

_NAME_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*$")
_NAME_AFTER = re.compile(r"^[A-Za-z0-9_]*")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trepl")
    except PackageNotFoundError:
        return "0"


VERSION = _version()


class _LimitedStream:
    """Forwards one cell's text to an ipykernel OutStream, dropping what exceeds `limit`.

    The front end gets the first `limit` characters and, at the end of the cell, one note saying
    how much was left out: a cell that prints megabytes cannot freeze the browser.
    """

    def __init__(self, target: Any, limit: int) -> None:
        self.target = target
        self.limit = limit
        self.sent = 0
        self.dropped = 0

    def write(self, text: str) -> int:
        room = self.limit - self.sent
        if room > 0:
            self.target.write(text[:room])
            self.sent += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def note(self) -> str | None:
        if not self.dropped:
            return None
        return (
            f"\n[itorch: output truncated: {self.dropped:,} more characters not shown "
            f"(a cell shows at most {self.limit:,})]\n"
        )


class ItorchKernel(Kernel):
    """The iTorch kernel: Python cells run by `trepl.Evaluator`, with itorch rich display."""

    implementation = "itorch"
    implementation_version = VERSION
    language = "python"
    language_version = platform.python_version()
    language_info = {
        "name": "python",
        "version": platform.python_version(),
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "pygments_lexer": "ipython3",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "nbconvert_exporter": "python",
    }
    banner = (
        f"iTorch {VERSION}: Python {platform.python_version()} on the trepl evaluator\n"
        "`? name` for help, `?` for the TREPL guide, `$ cmd` for the shell, "
        "`itorch.image/html/Plot` for pictures."
    )
    help_links = [
        {"text": "JAX", "url": "https://jax.readthedocs.io"},
        {"text": "iTorch (the original)", "url": "https://github.com/facebook/iTorch"},
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from trepl.evaluator import Evaluator
        from trepl.help import KERNEL_HELP

        self.evaluator = Evaluator()
        self.evaluator.self_help = KERNEL_HELP
        self.evaluator.namespace["itorch"] = itorch
        self.evaluator.namespace["display"] = display.display
        self.evaluator.background = background.background_output(self)  # training in the background
        display.adopt_ipython_display()
        self._history: list[tuple[int, str, str]] = []  # (line, input, output text)
        self._running: int | None = None  # execution_count of the cell now running
        self._saved_wakeup_fd = -1
        self._lines: set[str] = set()  # display ids of the lines `_show_line` has drawn
        self._start_interrupt_watch()
        display.set_publisher(self._publish_display)

    # ------------------------------------------------------------------ iopub helpers

    def set_parent(self, ident: Any, parent: dict, channel: str = "shell") -> None:
        """Also point the stdout/stderr OutStreams at the request being handled."""
        super().set_parent(ident, parent, channel)
        if channel == "shell":
            for stream in (self._stdout, self._stderr):
                if hasattr(stream, "set_parent"):
                    stream.set_parent(parent)

    def _send_iopub(self, msg_type: str, content: dict) -> None:
        self.session.send(
            self.iopub_socket,
            msg_type,
            content,
            parent=self.get_parent("shell"),
            ident=self._topic(msg_type),
        )

    def _publish_display(self, msg_type: str, content: dict) -> None:
        """What `itorch.*` calls: flush the text so far, then send the display message."""
        for stream in (sys.stdout, sys.stderr, self._stdout, self._stderr):
            if stream is not None:
                stream.flush()  # so the text printed before the display shows before it
        self._send_iopub(msg_type, content)

    def _show_line(self, key: str, text: str, final: bool) -> None:
        """A line redrawn in place (progress bar, busy notice): one display, updated by id."""
        msg_type = "update_display_data" if key in self._lines else "display_data"
        self._lines.add(key)
        content = {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": key}}
        self._publish_display(msg_type, content)

    # ------------------------------------------------------------------ execute

    def _run(self, code: str, out: _LimitedStream, err: _LimitedStream, record: bool = True):
        from trepl.results import ErrorInfo, ExecResult

        try:
            return self.evaluator.execute(
                code,
                on_stdout=out.write,
                on_stderr=err.write,
                on_line=self._show_line,
                record=record,
            )
        except KeyboardInterrupt:
            # The evaluator normally reports this itself; this covers an interrupt that lands
            # between its own handlers.
            return ExecResult(error=ErrorInfo("KeyboardInterrupt", "", ["KeyboardInterrupt"]))

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict | None = None,
        cell_id: str | None = None,
    ) -> dict:
        """Run a cell: stream its prints, publish its value/error, return the execute_reply.

        Every request gets its reply: a failure outside the user's code (say, in showing a
        value whose hooks raise) becomes an error reply and an error message on IOPub.
        """
        try:
            if not isinstance(code, str):
                raise TypeError(f"'code' must be a string, got {type(code).__name__}")
            return self._execute(code, silent, store_history, user_expressions, allow_stdin)
        except Exception as exc:  # noqa: BLE001 - the printer's guards missed one: still reply
            content = _error_content("execute_request", exc)
            if not silent:
                self._send_iopub("error", content)
            return {"status": "error", "execution_count": self.execution_count, **content}

    def _execute(
        self,
        code: str,
        silent: bool,
        store_history: bool,
        user_expressions: dict | None,
        allow_stdin: bool,
    ) -> dict:
        out = _LimitedStream(self._stdout, OUTPUT_LIMIT)
        err = _LimitedStream(self._stderr, OUTPUT_LIMIT)
        self._running = self.execution_count
        try:
            with self._forwarded_input(allow_stdin):
                result = self._run(code, out, err, record=store_history and not silent)
        finally:
            self._running = None
        for stream in (out, err):
            note = stream.note()
            if note:
                self._stderr.write(note)
        self._stdout.flush()
        self._stderr.flush()

        text = ""
        if result.ok and result.show:
            text = self._render(result.value)
        if store_history and not silent:
            self._history.append((self.execution_count, code, text))

        if getattr(result, "exit_code", None) is not None:
            # exit() / sys.exit() in a cell: ask the front end to close, as the IPython kernel
            # does (`jupyter console` exits; a notebook ignores it). The kernel keeps running.
            payload = [{"source": "ask_exit", "keepkernel": False}]
            return {"status": "ok", "execution_count": self.execution_count, "payload": payload,
                    "user_expressions": {}}  # fmt: skip
        for warning in result.warnings:
            self._stderr.write(warning + "\n")
        for note in getattr(result, "notes", ()):  # recompilations
            self._stdout.write(note + "\n")
        self._stderr.flush()
        if result.error is not None:
            content = {
                "ename": result.error.ename,
                "evalue": result.error.evalue,
                "traceback": self._color_traceback(result.error),
            }
            if not silent:
                self._send_iopub("error", content)
            return {"status": "error", "execution_count": self.execution_count, **content}

        payload = []
        if result.help is not None:
            payload.append({"source": "page", "data": {"text/plain": result.help.text}, "start": 0})
        if not silent and result.show:
            self._send_iopub(
                "execute_result",
                {
                    "execution_count": self.execution_count,
                    "data": _mime_bundle(result.value, text),
                    "metadata": {},
                },
            )
        timing = "" if result.help is not None else self._timing(result)
        if not silent and timing:
            self._stdout.write(timing if timing.endswith("\n") else timing + "\n")
            self._stdout.flush()
        return {
            "status": "ok",
            "execution_count": self.execution_count,
            "payload": payload,
            "user_expressions": self._user_expressions(user_expressions or {}),
        }

    @contextlib.contextmanager
    def _forwarded_input(self, allow_stdin: bool) -> Iterator[None]:
        """input() and getpass() ask the front end (stdin channel) while a cell runs.

        ipykernel's `raw_input`/`getpass` send the input_request, or raise
        StdinNotImplementedError when the front end said it cannot answer (allow_stdin False).
        """
        self._allow_stdin = allow_stdin
        saved = builtins.input, getpass.getpass
        builtins.input, getpass.getpass = self.raw_input, self.getpass
        try:
            yield
        finally:
            builtins.input, getpass.getpass = saved

    def _render(self, value: Any) -> str:
        from trepl.printer import render

        return render(value, color=False, width=TEXT_WIDTH, depth=self.evaluator.print_level)

    def _timing(self, result: Any) -> str:
        from trepl.printer import format_timing

        return format_timing(result, color=False, width=TEXT_WIDTH)

    @staticmethod
    def _color_traceback(error: Any) -> list[str]:
        """The traceback as `th` prints it, message in red (Jupyter renders ANSI colour)."""
        from trepl.printer import format_error

        return format_error(error, color="light").split("\n")

    def _user_expressions(self, expressions: dict) -> dict:
        """Evaluate the front end's `user_expressions` in the cell namespace."""
        results = {}
        for key, expr in expressions.items():
            try:
                value = eval(expr, self.evaluator.namespace)  # noqa: S307 (the user's own code)
            except Exception as exc:
                results[key] = {
                    "status": "error",
                    "ename": type(exc).__name__,
                    "evalue": str(exc),
                    "traceback": [],
                }
            else:
                results[key] = {
                    "status": "ok",
                    "data": _mime_bundle(value, self._render(value)),
                    "metadata": {},
                }
        return results

    # Interrupts. Jupyter interrupts a kernel with SIGINT (a signal from the manager, or
    # ipykernel's interrupt_request sending one to itself). Python runs its handler only between
    # bytecodes, so a cell blocked inside a compiled XLA computation (a long jitted JAX call runs
    # inside the call on CPU) sees the KeyboardInterrupt only when the computation returns. To
    # tell the user meanwhile, the C-level handler also writes to a wakeup fd (signal.set_wakeup_fd)
    # that a watcher thread reads at once: if the cell is still running a moment later, a note
    # explains why and suggests a restart.

    def _start_interrupt_watch(self) -> None:
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_write.setblocking(False)
        watcher = threading.Thread(target=self._watch_interrupts, name="itorch-interrupts")
        watcher.daemon = True
        watcher.start()

    def _watch_interrupts(self) -> None:
        while True:
            try:
                data = self._wake_read.recv(64)
            except OSError:
                return
            if not data:
                return
            running = self._running
            if running is not None and signal.SIGINT in data:
                timer = threading.Timer(INTERRUPT_NOTE_AFTER, self._interrupt_note, (running,))
                timer.daemon = True
                timer.start()

    def pre_handler_hook(self) -> None:
        """ipykernel's SIGINT -> KeyboardInterrupt for the request, plus the wakeup fd."""
        super().pre_handler_hook()
        self._saved_wakeup_fd = signal.set_wakeup_fd(
            self._wake_write.fileno(), warn_on_full_buffer=False
        )

    def post_handler_hook(self) -> None:
        """Undo `pre_handler_hook`."""
        signal.set_wakeup_fd(self._saved_wakeup_fd)
        super().post_handler_hook()

    def _interrupt_note(self, cell: int) -> None:
        if self._running == cell:
            self._send_iopub(
                "stream",
                {
                    "name": "stderr",
                    "text": (
                        "[itorch: interrupt sent; the cell is inside a compiled computation "
                        "(XLA cannot be cancelled midway) and stops when it returns. "
                        "Restart the kernel to stop it now.]\n"
                    ),
                },
            )

    # ------------------------------------------------------------------ other requests

    # A request without `code` or `cursor_pos` would fail inside ipykernel's handler before
    # any do_* runs, and get no reply: fill them in, so do_* answers with an error reply.
    async def execute_request(self, stream: Any, ident: Any, parent: dict) -> None:
        _fill_in(parent, code=None)
        await super().execute_request(stream, ident, parent)

    async def complete_request(self, stream: Any, ident: Any, parent: dict) -> None:
        _fill_in(parent, code=None, cursor_pos=None)
        await super().complete_request(stream, ident, parent)

    async def inspect_request(self, stream: Any, ident: Any, parent: dict) -> None:
        _fill_in(parent, code=None, cursor_pos=None)
        await super().inspect_request(stream, ident, parent)

    async def is_complete_request(self, stream: Any, ident: Any, parent: dict) -> None:
        _fill_in(parent, code=None)
        await super().is_complete_request(stream, ident, parent)

    async def history_request(self, stream: Any, ident: Any, parent: dict) -> None:
        _fill_in(parent, hist_access_type="", output=False, raw=False)
        await super().history_request(stream, ident, parent)

    async def do_complete(self, code: str, cursor_pos: int | None) -> dict:
        """Completions from the same completer `th` uses (an error reply for a bad request)."""
        try:
            cursor_pos = _checked_cursor("complete_request", code, cursor_pos)
            return self._complete(code, cursor_pos)
        except Exception as exc:  # noqa: BLE001 - every request gets a reply
            end = len(code) if isinstance(code, str) else 0
            return {"status": "error", "matches": [], "cursor_start": end, "cursor_end": end,
                    "metadata": {}, **_error_content("complete_request", exc)}  # fmt: skip

    def _complete(self, code: str, cursor_pos: int) -> dict:
        found = self.evaluator.complete(code, cursor_pos)
        metadata = {}
        if found.types:
            metadata["_jupyter_types_experimental"] = [
                {"start": found.cursor_start, "end": found.cursor_end, "text": m, "type": t}
                for m, t in zip(found.matches, found.types, strict=False)
            ]
        return {
            "status": "ok",
            "matches": list(found.matches),
            "cursor_start": found.cursor_start,
            "cursor_end": found.cursor_end,
            "metadata": metadata,
        }

    async def do_inspect(
        self, code: str, cursor_pos: int | None, detail_level: int = 0, omit_sections: Any = ()
    ) -> dict:
        """Help for the dotted name at the cursor: the same page as `? name` (`??` for detail 1)."""
        try:
            cursor_pos = _checked_cursor("inspect_request", code, cursor_pos)
            return self._inspect(code, cursor_pos, detail_level)
        except Exception as exc:  # noqa: BLE001 - every request gets a reply
            content = _error_content("inspect_request", exc)
            return {"status": "error", "found": False, "data": {}, "metadata": {}, **content}

    def _inspect(self, code: str, cursor_pos: int, detail_level: int) -> dict:
        name = name_at(code, cursor_pos)
        if not name:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        info = self.evaluator.help(name, detail=1 if detail_level else 0)
        data = {"text/plain": info.text} if info.found else {}
        return {"status": "ok", "found": bool(info.found), "data": data, "metadata": {}}

    async def do_is_complete(self, code: str) -> dict:
        """Whether `code` can run yet (lets `jupyter console` take multi-line input)."""
        if not isinstance(code, str):
            return {"status": "invalid"}
        answer = self.evaluator.is_complete(code)
        reply = {"status": answer.status}
        if answer.status == "incomplete":
            reply["indent"] = answer.indent
        return reply

    async def do_history(
        self,
        hist_access_type: str,
        output: bool,
        raw: bool,
        session: int | None = None,
        start: int | None = None,
        stop: int | None = None,
        n: int | None = None,
        pattern: str | None = None,
        unique: bool = False,
        **kwargs: Any,
    ) -> dict:
        """This session's cells: `tail`, `range` and `search` (glob pattern), as IPython does."""
        try:
            return self._history_reply(hist_access_type, output, n, start, stop, pattern, unique)
        except Exception as exc:  # noqa: BLE001 - a malformed request: still reply
            return {"status": "error", "history": [], **_error_content("history_request", exc)}

    def _history_reply(
        self,
        hist_access_type: str,
        output: bool,
        n: int | None,
        start: int | None,
        stop: int | None,
        pattern: str | None,
        unique: bool,
    ) -> dict:
        for field, value in (("n", n), ("start", start), ("stop", stop)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(
                    f"{field!r} must be an int or null, got {type(value).__name__} {value!r:.40}"
                )
        entries = self._history
        if hist_access_type == "tail":
            entries = entries[-n:] if n else entries
        elif hist_access_type == "range":
            lo = start or 0
            entries = [e for e in entries if e[0] >= lo and (stop is None or e[0] < stop)]
        elif hist_access_type == "search":
            glob = pattern or "*"
            entries = [e for e in entries if fnmatch.fnmatchcase(e[1], glob)]
            if unique:
                seen: dict[str, tuple] = {}
                for e in entries:
                    seen.pop(e[1], None)
                    seen[e[1]] = e
                entries = list(seen.values())
            if n:
                entries = entries[-n:]
        else:
            entries = []
        session_id = 0
        if output:
            return {"status": "ok", "history": [(session_id, e[0], (e[1], e[2])) for e in entries]}
        return {"status": "ok", "history": [(session_id, e[0], e[1]) for e in entries]}

    async def do_shutdown(self, restart: bool) -> dict:
        """Stop routing displays to this kernel and make sure the process ends soon after the
        reply; the manager starts a new one if a restart was asked for.

        Two things can hold the exit up, and the kernel keeps nothing that needs saving (its
        history is in memory), so a timer ends the process once the reply has gone out:

        * an interrupted XLA program that is still running (it cannot be cancelled, and a
          normal interpreter exit would wait for it): leave after one second;
        * ipykernel 7's teardown, which joins the control thread while that thread flushes
          stdout and stderr through the IOPub thread the main thread has just stopped; each
          flush then waits out a 10 s timeout (0.4 s, 10.4 s or a hang, measured over
          repeated restarts): leave after `SHUTDOWN_GRACE` seconds if still here.
        """
        display.set_publisher(None)
        grace = 1.0 if self.evaluator.abandoned_work else SHUTDOWN_GRACE
        timer = threading.Timer(grace, os._exit, (0,))
        timer.daemon = True
        timer.start()
        return {"status": "ok", "restart": restart}


def _fill_in(parent: dict, **defaults: Any) -> None:
    content = parent.get("content") if isinstance(parent, dict) else None
    if isinstance(content, dict):
        for key, value in defaults.items():
            content.setdefault(key, value)


def _checked_cursor(request: str, code: Any, cursor_pos: Any) -> int:
    """`cursor_pos` (default: the end of `code`), refused with a clear error when it is not an
    index into the code."""
    if not isinstance(code, str):
        raise TypeError(f"{request}: 'code' must be a string, got {type(code).__name__}")
    if cursor_pos is None:
        return len(code)
    if not isinstance(cursor_pos, int) or isinstance(cursor_pos, bool):
        raise TypeError(
            f"{request}: 'cursor_pos' must be an int, got {type(cursor_pos).__name__} "
            f"{cursor_pos!r:.40}"
        )
    if not 0 <= cursor_pos <= len(code):
        raise ValueError(
            f"{request}: cursor_pos {cursor_pos} is outside the code: expected 0..{len(code)}"
        )
    return cursor_pos


def _error_content(request: str, exc: BaseException) -> dict:
    """ename/evalue/traceback of an error reply; the evalue names the request."""
    from trepl.guard import error_text

    text = error_text(exc)
    evalue = text.partition(": ")[2] or text
    if not evalue.startswith(request):
        evalue = f"{request}: {evalue}"
    return {"ename": type(exc).__name__, "evalue": evalue,
            "traceback": [f"{type(exc).__name__}: {evalue}"]}  # fmt: skip


def _mime_bundle(value: Any, text: str) -> dict:
    """display.mime_bundle, falling back to the text alone when the value's hooks raise."""
    try:
        return display.mime_bundle(value, text)
    except Exception:  # noqa: BLE001 - the user's _repr_*_ or __getattribute__
        return {"text/plain": text}


def name_at(code: str, cursor_pos: int) -> str:
    """The dotted name under or just before the cursor (`jnp.zer|os` -> `jnp.zeros`)."""
    before = _NAME_BEFORE.search(code[:cursor_pos])
    after = _NAME_AFTER.match(code[cursor_pos:])
    name = (before.group(0) if before else "") + (after.group(0) if after else "")
    return name.strip(".")


class _LoopbackWarningFilter(logging.Filter):
    """Drops ipykernel's "running over TCP without encryption" warning for a loopback address.

    ipykernel 7 logs it at every start over TCP; on 127.0.0.1 (what itorch binds unless told
    otherwise) nothing leaves the machine, so it only adds noise to every console start. For
    any other address the warning stays.
    """

    def __init__(self, app: Any) -> None:
        super().__init__()
        self._app = app

    def filter(self, record: logging.LogRecord) -> bool:
        if "without encryption" not in str(record.msg):
            return True
        return not _is_loopback(getattr(self._app, "ip", ""))


def _is_loopback(ip: str) -> bool:
    import ipaddress

    if ip in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def launch(argv: list[str] | None = None) -> None:
    """Run an ItorchKernel process (ipykernel's kernel app: sockets, signing, parent poller)."""
    # ipykernel imports debugpy for kernel_info; pydevd then warns about frozen modules on
    # stderr, which `jupyter console` prints into its first input line. itorch offers no
    # debugger (kernel.json says so), so the check has nothing to protect.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance(kernel_class=ItorchKernel)
    app.log.addFilter(_LoopbackWarningFilter(app))
    app.initialize(argv)
    app.start()
