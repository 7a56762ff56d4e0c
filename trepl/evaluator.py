"""The UI-free evaluator behind `th` and the itorch kernel.

`Evaluator.execute(cell)` runs one cell and returns an `ExecResult`; it never prints by itself
(output printed by the cell is passed to the `on_stdout`/`on_stderr` callbacks as it comes and
collected into the result). Front ends decide how to show values, timing, help and errors.
This module imports neither prompt_toolkit nor ipykernel (checked by tests/test_architecture.py).
"""

from __future__ import annotations

import ast
import builtins
import codecs
import codeop
import inspect
import itertools
import linecache
import os
import re
import sys
import time
import tokenize
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from trepl import commands, guard, ledger, printer, recompile, session_names, shell, stats, timing
from trepl import help as help_pages
from trepl import namespace as names
from trepl.background import BackgroundOutput
from trepl.boundedtext import BoundedText
from trepl.errors import error_info
from trepl.resultlist import ResultList
from trepl.results import Completeness, Completions, ErrorInfo, ExecResult, HelpInfo
from trepl.session_log import SessionLog, current_seed
from trepl.timing import LineCallback

Callback = Callable[[str], None] | None


KEEP_HEAD = 100_000  # characters of a cell's output kept in ExecResult.stdout/stderr: the first
KEEP_TAIL = 10_000  # ... and the last; what lies between is counted, not kept


class _LiveStream:
    """A text stream that hands each write to a callback and keeps a bounded copy.

    The copy (ExecResult.stdout) holds the first KEEP_HEAD and the last KEEP_TAIL characters:
    a script that prints gigabytes costs no more memory than one that prints a page (the
    callback, which shows the text, sees all of it).

    With a `show_line` callback the stream also offers `show_line(key, text, final)`: progress
    bars (nets' `ProgressBar`) redraw one line through it, which `th` draws with a carriage
    return and the kernel as one display updated in place.
    """

    def __init__(
        self, callback: Callback, original: Any, show_line: LineCallback | None = None
    ) -> None:
        if show_line is not None:
            self.show_line = show_line
        self._callback = callback
        self._original = original
        self._kept = BoundedText(KEEP_HEAD, KEEP_TAIL)
        self._in_callback = False
        self._bytes: _BytesToText | None = None
        self.encoding = "utf-8"
        self.errors = "replace"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._in_callback:
            # The callback itself printed (say, `print` as the callback): send it straight out.
            self._original.write(text)
            return len(text)
        if text:
            self._kept.add(text)
            if self._callback is not None:
                self._in_callback = True
                try:
                    self._callback(text)
                finally:
                    self._in_callback = False
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        flush = getattr(self._original, "flush", None)
        if flush is not None:
            flush()

    def isatty(self) -> bool:
        # Progress bars ask this: answer for the terminal the text ends up on.
        return self._callback is not None and bool(getattr(self._original, "isatty", bool)())

    def readable(self) -> bool:
        return False

    def fileno(self) -> int:
        """The descriptor of the stream the text ends up on, so that a child process can
        write there directly (`subprocess.run(cmd, stdout=sys.stdout)`), as under python."""
        self.flush()
        return self._original.fileno()

    @property
    def buffer(self) -> Any:
        """Bytes (`sys.stdout.buffer.write(b)`): the binary stream under the one the text ends
        up on, or, where that has none (a kernel), a writer that decodes them as UTF-8."""
        self.flush()
        target = getattr(self._original, "buffer", None)
        if target is not None:
            return target
        if self._bytes is None:
            self._bytes = _BytesToText(self)
        return self._bytes

    def close(self) -> None:
        """Nothing to close: logging handlers (absl's) call this at exit on what they hold."""

    @property
    def closed(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def getvalue(self) -> str:
        """The text kept: all of it, or its head, a note of what was left out, and its tail."""
        return self._kept.value()


class _BytesToText:
    """`buffer` of a captured stream whose target takes only text: decodes UTF-8 as it comes."""

    def __init__(self, text_stream: _LiveStream) -> None:
        self._text = text_stream
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write(self, data: bytes) -> int:
        self._text.write(self._decoder.decode(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self._text.flush()

    def writable(self) -> bool:
        return True


@contextmanager
def _captured(
    on_stdout: Callback, on_stderr: Callback, on_line: LineCallback | None = None
) -> Iterator[tuple[_LiveStream, _LiveStream]]:
    out = _LiveStream(on_stdout, sys.stdout, on_line)
    err = _LiveStream(on_stderr, sys.stderr, on_line)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdout, sys.stderr = saved


class Evaluator:
    """One namespace and all the language work on it: execute, complete, help, is_complete.

    Args:
        namespace: the dict to run in (default: a fresh one). The preloaded names (`jax`, `jnp`,
            `np`, `nets`, `nn`, `optim`, `models`, `itorch`, `who`, `import_`, `setprintlevel`)
            are added where absent, as lazy modules that import on first use.
        preload: set False for a bare namespace (no lazy modules).
    """

    _made = itertools.count()  # evaluators made in this process

    def __init__(self, namespace: dict[str, Any] | None = None, preload: bool = True) -> None:
        # Cells are compiled as "<th-N>"; a second evaluator in the same process (replay(),
        # tests) names its cells "<th2-N>", so JAX's caches never take two evaluators' cells
        # for one function defined again on the same line.
        serial = next(Evaluator._made)
        self._cell_prefix = "<th-" if serial == 0 else f"<th{serial + 1}-"
        self.namespace: dict[str, Any] = {} if namespace is None else namespace
        ns = self.namespace
        ns.setdefault("__name__", "__main__")
        ns.setdefault("__builtins__", builtins)
        if preload:
            for key, value in _preloaded_values().items():
                ns.setdefault(key, value)
        self.print_level = 3
        self.self_help = help_pages.SELF_HELP  # the `?` page; the kernel sets its own
        self.monitor_globals = False  # `th -g`: report each new global after a cell
        ns.setdefault("who", names.Who(ns, set()))
        ns.setdefault("exit", names.Exit("exit"))
        ns.setdefault("quit", names.Exit("quit"))
        ns.setdefault("import_", names.Importer(ns))
        ns.setdefault("setprintlevel", self._set_print_level)
        ns.setdefault("tb", self.print_traceback)
        ns.setdefault("debug", self.debug)
        ns.setdefault("timeit", self._timeit)
        ns.setdefault("display", printer.display)
        self.recompiles = recompile.Watch()
        ns.setdefault("recompiles", self.recompiles)
        ns.setdefault("stats", stats.stats)
        self._before: dict[str, Any] | None = None  # the running cell's view of the names
        ns.setdefault("free", ledger.Free(ns, set(), lambda: self._before))
        self._results_warning = ledger.ResultsWarning()
        ns["_RESULTS"] = ResultList()
        ns.setdefault("setresults", ns["_RESULTS"].set_limits)
        ns["_LAST"] = None
        self.log = SessionLog()  # this session's inputs and outputs (export, snapshot, replay)
        self.background = BackgroundOutput()  # where background training prints; front ends set it
        session_names.install(self)
        # Names present before the user typed anything: hidden from who(), not -g warnings.
        self.preloaded: set[str] = set(ns)
        who = ns["who"]
        if isinstance(who, names.Who):
            who._hidden = self.preloaded
            who.footer = self._ledger_lines
        if isinstance(ns["free"], ledger.Free):
            ns["free"]._protected = self.preloaded
        self.execution_count = 0
        # True once Ctrl-C left an XLA program running: exiting must not wait for it.
        self.abandoned_work = False
        self._abandoned: list[Any] = []  # the arrays of that program, and the cell it ran in
        self._abandoned_cell = 0
        self._completer = None
        self.last_error: ErrorInfo | None = None  # what `tb()` prints in full

    # ----------------------------------------------------------------------------- execute
    def execute(
        self,
        code: str,
        on_stdout: Callback = None,
        on_stderr: Callback = None,
        on_line: LineCallback | None = None,
        record: bool = True,
    ) -> ExecResult:
        """Run one cell: Python code, `? name`, `?? name`, `?` or `$ cmd`.

        The cell goes into `self.log` (unless `record` is False: a front end's silent
        request, which Jupyter keeps out of the history too). An error of work that ran on
        after its cell (background training) is reported first, once, through `on_stderr`.

        Text printed during the cell goes to the callbacks as it comes and into the result.
        `on_line(key, text, final)` redraws one status line in place (progress bars, and the
        notice that the device is still busy with an interrupted computation); without it
        those are not shown.
        Ctrl-C (KeyboardInterrupt) ends the cell with an error result; the namespace keeps every
        binding made before the interrupt, except names bound to arrays still being computed,
        which get their previous value back.
        """
        for report in self.background.take_errors():
            (on_stderr or sys.stderr.write)(report + "\n")
        seed = current_seed()
        result = self._execute(code, on_stdout, on_stderr, on_line)
        if record:
            self.log.record(code, result, self.execution_count, self.print_level, seed)
        return result

    def _execute(
        self, code: str, on_stdout: Callback, on_stderr: Callback, on_line: LineCallback | None
    ) -> ExecResult:
        command = commands.parse(code)
        if command.kind == "empty":
            return ExecResult()
        self.execution_count += 1
        if command.kind == "selfhelp":
            page = HelpInfo(name="?", found=True, text=self.self_help)
            return ExecResult(help=page)
        if command.kind == "help":
            names.materialize(self.namespace, [command.text.split(".")[0]])
            return ExecResult(help=self._stats_page(command.text, command.detail))
        if command.kind == "shell":
            return self._run_shell(command.text, on_stdout, on_stderr)
        if command.kind == "magic":
            code = _MAGICS.get(command.magic)
            if code is None:
                return ExecResult(error=_usage_error(command.magic))
            return self._run_code(code(command.text), False, on_stdout, on_stderr, on_line=on_line)
        return self._run_code(command.text, command.silent, on_stdout, on_stderr, on_line=on_line)

    def run_file(
        self, path: str, on_stdout: Callback = None, on_stderr: Callback = None
    ) -> ExecResult:
        """Run a script file (script mode): no auto-print, tracebacks name the file."""
        try:
            with tokenize.open(path) as f:  # the source's own encoding (PEP 263), as python
                source = f.read()
        except (SyntaxError, UnicodeDecodeError) as exc:
            message = (
                f"cannot read {path!r} as Python source: {guard.error_text(exc)}; expected "
                "UTF-8, or the encoding a '# -*- coding: NAME -*-' line declares (PEP 263)"
            )
            return ExecResult(error=ErrorInfo("SyntaxError", message, [f"SyntaxError: {message}"]))
        self.namespace["__file__"] = os.path.abspath(path)
        return self.run_source(source, path, on_stdout, on_stderr)

    def run_source(
        self, source: str, filename: str, on_stdout: Callback = None, on_stderr: Callback = None
    ) -> ExecResult:
        """Run Python source as a script (`th -e`, piped stdin): no `?`/`$`, no auto-print."""
        lines = [line + "\n" for line in source.split("\n")]
        linecache.cache[filename] = (len(source), None, lines, filename)
        return self._run_code(source, True, on_stdout, on_stderr, filename=filename, script=True)

    def _run_shell(self, cmd: str, on_stdout: Callback, on_stderr: Callback) -> ExecResult:
        start = time.perf_counter()
        try:
            output, status = shell.run_shell(cmd, on_stdout)
        except KeyboardInterrupt as exc:
            return ExecResult(error=self._error(exc), elapsed=time.perf_counter() - start)
        except (ValueError, OSError) as exc:
            return ExecResult(error=self._error(exc), elapsed=time.perf_counter() - start)
        self._store(output)
        return ExecResult(
            value=output,
            show=False,
            stdout=output,
            shell_status=status,
            elapsed=time.perf_counter() - start,
        )

    def _store(self, value: Any) -> None:
        results = self.namespace["_RESULTS"]
        if value is not results:  # `_RESULTS` typed alone must not end up inside itself
            results.append(value)
        self.namespace["_LAST"] = value

    def _run_code(
        self,
        code: str,
        silent: bool,
        on_stdout: Callback,
        on_stderr: Callback,
        filename: str | None = None,
        script: bool = False,
        on_line: LineCallback | None = None,
    ) -> ExecResult:
        ns = self.namespace
        if filename is None:
            filename = f"{self._cell_prefix}{self.execution_count}>"
            # Register the source so tracebacks can quote the user's lines.
            lines = [line + "\n" for line in code.split("\n")]
            linecache.cache[filename] = (len(code), None, lines, filename)
        result = ExecResult()
        before = self._before = dict(ns)  # `free()` in the cell takes its names out of it
        start = time.perf_counter()
        with _captured(on_stdout, on_stderr, on_line) as (out, err), self._busy_notice(on_line):
            out.background = err.background = self.background  # read by background training
            try:
                if "import" in code:
                    # `import jax` must not race the warm-up thread's import of it.
                    names.wait_for_imports()
                names.materialize(ns)
                recompile.install()  # explain cache misses from now on (once JAX is loaded)
                self.recompiles.before_cell()
                with timing.CompileWatch() as watch:
                    body, last = self._compile(code, filename, script)
                    _run(body, ns)
                    value = _run(last, ns) if last is not None else None
                    timing.wait_ready(timing.array_leaves(value) + self._changed_arrays(before))
                names.materialize(ns)  # modules the cell imported through a stand-in
                result.compile_time = watch.seconds
                result.compile_count = watch.count
                if value is not None:
                    self._store(value)
                    result.value = value
                    result.show = not silent
            except KeyboardInterrupt as exc:
                result.error = self._error(exc)
                dropped = self._restore_unready(before)
                if dropped:
                    self.abandoned_work = True
                    self._abandoned_cell = self.execution_count
                    result.warnings.append(
                        f"Interrupted: unbound {', '.join(dropped)} (still being computed). JAX "
                        "cannot cancel a running XLA program: the device stays busy until it "
                        "ends, and the next JAX command waits for it."
                    )
            except SystemExit as exc:
                result.error = self._error(exc)
                result.exit_code = _exit_status(exc)
            except BaseException as exc:  # noqa: BLE001 - every user error becomes an ErrorInfo
                result.error = self._error(exc)
        result.elapsed = time.perf_counter() - start
        self._before = None
        result.notes += self.recompiles.after_cell()
        pinned = self._results_warning.check(ns)
        if pinned:
            result.warnings.append(pinned)
        if self.monitor_globals:
            for name in sorted(set(ns) - set(before) - self.preloaded, key=str):
                result.warnings.append(f"th -g: new global variable {name!r}")
        result.stdout, result.stderr = out.getvalue(), err.getvalue()
        return result

    @staticmethod
    def _compile(code: str, filename: str, script: bool) -> tuple[Any, Any]:
        """Compile a cell into (statements, last expression or None), IPython's last_expr rule."""
        tree = ast.parse(code, filename, "exec")
        last = None
        flags = 0 if script else ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # `await` at the top of a cell
        # dont_inherit: this module's `from __future__ import annotations` must not turn the
        # user's annotations into strings.
        if not script and tree.body and isinstance(tree.body[-1], ast.Expr):
            expression = ast.Expression(tree.body.pop().value)
            last = compile(expression, filename, "eval", flags, dont_inherit=True)
        return compile(tree, filename, "exec", flags, dont_inherit=True), last

    def _changed_arrays(self, before: dict[str, Any]) -> list[Any]:
        """Arrays bound to names the cell (re)bound, so `y = f(x)` is timed until y is ready."""
        arrays = []
        for key, value in self.namespace.items():
            if before.get(key, _UNSET) is not value:
                arrays += timing.array_leaves(value)
        return arrays

    def _busy_notice(self, on_line: LineCallback | None) -> Any:
        """While the cell runs, say so if the device is still busy with interrupted work."""
        self._abandoned = [a for a in self._abandoned if not timing.is_ready(a)]
        if on_line is None or not self._abandoned:
            return nullcontext()
        return timing.BusyNotice(self._abandoned, self._abandoned_cell, on_line)

    def _restore_unready(self, before: dict[str, Any]) -> list[str]:
        """After Ctrl-C, undo bindings to arrays still being computed; return those names."""
        dropped = []
        for key, value in list(self.namespace.items()):
            if before.get(key, _UNSET) is value:
                continue
            unready = [a for a in timing.array_leaves(value) if not timing.is_ready(a)]
            if unready:
                self._abandoned += unready
                dropped.append(key)
                if key in before:
                    self.namespace[key] = before[key]
                else:
                    del self.namespace[key]
        return dropped

    def _error(self, exc: BaseException) -> ErrorInfo:
        """The cell's exception as an ErrorInfo, remembered for `tb()` and `debug()`."""
        info = error_info(exc)
        if not isinstance(exc, SystemExit | KeyboardInterrupt):
            self.last_error = info
            # Where pdb.pm() and the standard library's tools look for the last error.
            sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
        return info

    def print_traceback(self) -> None:
        """tb(): print the full traceback of the last error (every frame, chained exceptions)."""
        if self.last_error is None:
            print("tb(): no error yet in this session")
            return
        print("\n".join(self.last_error.full_traceback))

    def debug(self) -> None:
        """debug(): post-mortem pdb on the last error (`q` leaves it).

        pdb reads its commands with input(): the terminal in `th`, the front end's input box in
        the kernel (as IPython's %debug).
        """
        if self.last_error is None or getattr(sys, "last_traceback", None) is None:
            print("debug(): no error yet in this session")
            return
        import pdb

        debugger = pdb.Pdb()
        debugger.reset()
        debugger.interaction(None, sys.last_traceback)

    def _timeit(self, stmt: Any, *args: Any, **kwargs: Any) -> Any:
        from trepl import measure

        return measure.timeit(stmt, *args, namespace=self.namespace, **kwargs)

    _timeit.__doc__ = "timeit(f, *args, [repeat], [number]) or timeit('stmt'): " + (
        "the median time per call, the device's work included and compile time apart "
        "(trepl.measure.timeit)."
    )

    def _set_print_level(self, depth: int) -> None:
        """setprintlevel(n): how many levels of nested lists/dicts are printed (TREPL)."""
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"setprintlevel: expected a positive int, got {depth!r}")
        self.print_level = depth

    # ------------------------------------------------------------------ complete, help, is_complete
    def complete(self, code: str, cursor_pos: int | None = None) -> Completions:
        """Completions at `cursor_pos` (default: the end of `code`)."""
        if cursor_pos is None:
            cursor_pos = len(code)
        if self._completer is None:
            from trepl.completer import Completer

            self._completer = Completer(lambda: self.namespace)
        return self._completer.complete(code, cursor_pos)

    def help(self, name: str, detail: int = 0) -> HelpInfo:
        """`? name` (detail 0: signature and doc) or `?? name` (detail 1: also the source)."""
        names.materialize(self.namespace, [name.split(".")[0]])
        return help_pages.lookup(name, self.namespace, detail)

    def _stats_page(self, name: str, detail: int) -> HelpInfo:
        """`x?` for an array is its statistics (`stats(x)`); anything else, its help page."""
        try:
            obj = help_pages.resolve(name, self.namespace) if detail == 0 else None
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - the help page says what the lookup raised
            obj = None
        if not stats.is_array(obj):
            return self.help(name, detail)
        try:
            text = repr(stats.stats(obj))
        except Exception as exc:  # noqa: BLE001 - say why, as a page
            text = f"{name}?: {exc}"
        return HelpInfo(name=name, found=True, type_name=type(obj).__name__, text=text)

    def _ledger_lines(self) -> list[str]:
        """What `who()` adds under its table: results, device memory, recompilations."""
        lines = [ledger.results_line(self.namespace) or ""] + ledger.device_lines()
        count = self.recompiles.count
        lines.append(f"recompilations this session: {count} (recompiles() lists them)")
        return [line for line in lines if line]

    def is_complete(self, code: str) -> Completeness:
        """Can `code` run now? An open block waits for a blank line, as in Python's own REPL."""
        command = commands.parse(code)
        if command.kind != "code":
            return Completeness("complete")
        lines = code.split("\n")
        last = lines[-1]
        indent = last[: len(last) - len(last.lstrip())]
        try:
            compiler = codeop.CommandCompiler()
            compiler.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # `await x` is complete
            compiled = compiler(code, "<input>", "exec")
        except (SyntaxError, OverflowError, ValueError):
            return Completeness("invalid")
        if compiled is None:
            # An open bracket, string or block header: keep reading.
            extra = "    " if _opens_block(last) else ""
            return Completeness("incomplete", indent + extra)
        if len(lines) > 1 and not last.strip():
            return Completeness("complete")  # the blank line that ends a block
        in_block = len(lines) > 1 and (indent or any(_opens_block(line) for line in lines))
        if in_block:
            return Completeness("incomplete", indent)
        return Completeness("complete")


_UNSET = object()


def _timeit_call(args: str) -> str:
    """`%timeit -n 10 -r 3 f(x)` -> `timeit('f(x)', number=10, repeat=3)` (IPython's options)."""
    options = ""
    while match := re.match(r"-([nr])\s*(\d+)\s+", args):
        options += f", {'number' if match.group(1) == 'n' else 'repeat'}={match.group(2)}"
        args = args[match.end() :]
    return f"timeit({args!r}{options})"


# IPython line magics th has, as the Python they stand for (`%timeit f(x)` -> `timeit('f(x)')`).
_MAGICS: dict[str, Callable[[str], str]] = {
    "timeit": _timeit_call,
    "tb": lambda args: "tb()",
    "debug": lambda args: "debug()",
}


def _usage_error(name: str) -> ErrorInfo:
    known = ", ".join(f"%{m}" for m in _MAGICS)
    message = (
        f"%{name} is an IPython magic that th does not have; it has {known}, "
        "and $ cmd or !cmd for the shell"
    )
    return ErrorInfo("UsageError", message, [f"UsageError: {message}"])


def _run(code: Any, namespace: dict[str, Any]) -> Any:
    """Run a compiled part of a cell; one with a top-level `await` is a coroutine, run to its end.

    (A cell whose value merely *is* a coroutine, `f()` for an async `f`, is shown, not run.)
    """
    value = eval(code, namespace)  # noqa: S307 - the user's own cell
    if code.co_flags & inspect.CO_COROUTINE:
        from trepl import aio

        return aio.run(value)
    return value


def _opens_block(line: str) -> bool:
    stripped = line.split("#", 1)[0].rstrip()
    return stripped.endswith(":")


def _exit_status(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def _preloaded_values() -> dict[str, Any]:
    values = names.preloaded_namespace()
    values.pop("__name__", None)
    values.pop("__builtins__", None)
    return values
