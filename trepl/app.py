"""The terminal front end: a prompt_toolkit loop around an `Evaluator`.

The app only reads lines and shows results; all language work is the evaluator's. Its parts
come in by injection (`App(evaluator, input=create_pipe_input(), output=DummyOutput())`), so
tests can drive it without a terminal.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from dataclasses import dataclass
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import ColorDepth, Output

from trepl import guard, hints, printer, style
from trepl import help as help_pages
from trepl import history as history_file
from trepl import namespace as names
from trepl.app_background import terminal_background
from trepl.evaluator import Evaluator
from trepl.keybindings import create_key_bindings
from trepl.results import ExecResult

PROMPT = "th> "
CONTINUATION = "..> "
EXIT_QUESTION = "Do you really want to exit ([y]/n)? "
EXIT_WORDS = {"exit", "exit()", "quit", "quit()"}


def history_path() -> str:
    """`$TREPL_HISTORY`, else `~/.trepl_history` (TREPL's file name)."""
    return os.environ.get("TREPL_HISTORY") or os.path.join(
        os.path.expanduser("~"), ".trepl_history"
    )


def use_color(stream: TextIO, no_color_flag: bool = False) -> bool:
    """Colour only on a terminal, and never with `--no-color` or `NO_COLOR` set (no-color.org)."""
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class EvaluatorCompleter(Completer):
    """prompt_toolkit adapter over `Evaluator.complete` (the menu shows each match's kind)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Any:
        if not complete_event.completion_requested:
            return
        try:
            found = self._evaluator.complete(document.text, document.cursor_position)
        except Exception:  # noqa: BLE001 - a failing completion must not break the prompt
            return
        offset = found.cursor_start - document.cursor_position
        types = found.types if len(found.types) == len(found.matches) else [""] * len(found.matches)
        for match, kind in zip(found.matches, types, strict=True):
            yield Completion(match, start_position=offset, display_meta=kind)


@dataclass
class AppConfig:
    """The shell's few options."""

    color: bool = True
    scheme: str = "dark"  # 'dark' or 'light' (th --colors; default from $COLORFGBG)
    banner: bool = True
    history_file: str | None = None  # None: history_path(); "" keeps history in memory only


class App:
    """The `th` read-eval-print loop.

    Args:
        evaluator: runs the cells.
        completer: prompt_toolkit completer (default: one over the evaluator).
        input, output: prompt_toolkit Input/Output (default: the terminal).
        stdout: where results, help and timing lines are written (default: sys.stdout).
        config: colour, banner and history options.
    """

    def __init__(
        self,
        evaluator: Evaluator,
        completer: Completer | None = None,
        input: Input | None = None,
        output: Output | None = None,
        stdout: TextIO | None = None,
        config: AppConfig | None = None,
    ) -> None:
        self.evaluator = evaluator
        evaluator.background = terminal_background()  # background training prints above the prompt
        self.config = config or AppConfig()
        self.stdout = stdout or sys.stdout
        history: History
        path = self.config.history_file
        if path == "":
            history = InMemoryHistory()
        else:
            path = path or history_path()
            reason = history_file.problem(path)
            if reason is not None:
                self._write_err(history_file.warning(path, reason) + "\n")
            warn = lambda text: self._write_err(text + "\n")  # noqa: E731
            history = history_file.SafeFileHistory(path, warn, writable=reason is None)
        # Syntax colour arrives once the warm-up thread has imported pygments (~0.1 s): the
        # first prompt does not wait for it.
        lexer = style.InputLexer() if self.config.color else None
        self.toolbar = hints.Toolbar(lambda: self.evaluator.namespace)  # shape hints
        self.session: PromptSession[str] = hints.hinting_session(
            self.toolbar,
            message=PROMPT,
            multiline=True,
            prompt_continuation=CONTINUATION,
            history=history,
            auto_suggest=AutoSuggestFromHistory(),
            completer=completer or EvaluatorCompleter(evaluator),
            complete_while_typing=False,
            lexer=lexer,
            key_bindings=create_key_bindings(self._ready),
            color_depth=None if self.config.color else ColorDepth.MONOCHROME,
            style=style.input_style(self.config.scheme),
            include_default_pygments_style=False,
            input=input,
            output=output,
            erase_when_done=False,
        )
        self._question: PromptSession[str] = PromptSession(input=input, output=output)
        self.warm_up_thread: threading.Thread | None = None

    def _warm_up(self) -> None:
        if self.config.color:
            style.warm_up()
        names.warm_up(also=("jedi",))  # jedi: the completer's fallback, ~0.3 s to import

    def _ready(self, text: str) -> tuple[bool, str]:
        answer = self.evaluator.is_complete(text)
        return answer.status != "incomplete", answer.indent

    # ------------------------------------------------------------------------------ output
    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _write_err(self, text: str) -> None:
        stream = sys.__stderr__ if self.stdout is sys.stdout else self.stdout
        stream.write(text)
        stream.flush()

    def _show_line(self, key: str, text: str, final: bool) -> None:
        """Redraw one status line in place (progress bars, the busy notice)."""
        self._write_err("\r" + text + "\x1b[K" + ("\n" if final else ""))

    def _width(self) -> int:
        return shutil.get_terminal_size((80, 24)).columns

    def show(self, result: ExecResult) -> None:
        """Print what a cell produced: help page, value, error, shell status, warnings, timing."""
        color = self.config.color and self.config.scheme
        if result.stdout and not result.stdout.endswith("\n") and result.shell_status is None:
            self._write("\n")
        if result.help is not None:
            self._write(printer.format_help(result.help, color) + "\n")
            return
        if result.show:
            depth = self.evaluator.print_level
            self._write(printer.render(result.value, color, self._width(), depth) + "\n")
        if result.error is not None and result.exit_code is None:
            self._write_err(printer.format_error(result.error, color) + "\n")
        if result.shell_status:
            self._write_err(f"[exit status {result.shell_status}]\n")
        for warning in result.warnings:
            self._write_err(warning + "\n")
        for note in result.notes:  # recompilations: dim, as the timing line
            self._write(printer.to_text([("hint", note)], color) + "\n")
        self._write(printer.format_timing(result, color, self._width()) + "\n")

    # -------------------------------------------------------------------------------- loop
    def _start_warm_up(self) -> None:
        """Import JAX and nets in the background once the first prompt is on screen."""
        if self.warm_up_thread is not None:
            return
        self.warm_up_thread = threading.Thread(target=self._warm_up, name="th-warm-up", daemon=True)
        self.warm_up_thread.start()

    def ask_exit(self) -> bool:
        """TREPL's question; Enter or y means yes, Ctrl-C or n means stay."""
        try:
            answer = self._question.prompt(EXIT_QUESTION)
        except KeyboardInterrupt:
            return False
        except EOFError:
            return True
        return answer.strip().lower() in ("", "y", "yes")

    def run(self) -> int:
        """Read, evaluate and print until the user leaves. Returns the exit status."""
        if self.config.banner:
            self._write(help_pages.BANNER)
        while True:
            try:
                text = self.session.prompt(pre_run=self._start_warm_up)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt: a fresh, empty line
            except EOFError:
                if self.ask_exit():
                    return 0
                continue
            try:
                if text.strip() in EXIT_WORDS:
                    if self.ask_exit():
                        return 0
                    continue
                result = self.evaluator.execute(text, self._write, self._write_err, self._show_line)
                self.show(result)
                if result.exit_code is not None:
                    return result.exit_code
            except KeyboardInterrupt:
                # Ctrl-C that arrived outside the user's code (say, while printing).
                self._write_err("\nKeyboardInterrupt\n")
            except Exception as exc:  # noqa: BLE001 - the printer's guards missed one: go on
                self._write_err(f"th: could not show the result: {guard.error_text(exc)}\n")


def repl(
    namespace: dict[str, Any] | None = None, color: bool | None = None, **app_parts: Any
) -> int:
    """Open the `th` shell on the caller's variables (TREPL's `repl()`).

    Args:
        namespace: the dict to work in; default: the caller's globals at module level, or a
            copy of the caller's globals and locals inside a function.
        color: force colour on or off (default: on a terminal unless NO_COLOR is set).
        **app_parts: `input`, `output`, `stdout` passed to `App` (tests drive it this way).

    Returns:
        The exit status the session ended with (0, or the code given to sys.exit).
    """
    if namespace is None:
        frame = sys._getframe(1)
        if frame.f_locals is frame.f_globals:
            namespace = frame.f_globals
        else:
            namespace = {**frame.f_globals, **frame.f_locals}
    if color is None:
        color = use_color(sys.stdout)
    evaluator = Evaluator(namespace)
    config = AppConfig(color=color, scheme=printer.scheme_from_env(), banner=False)
    return App(evaluator, config=config, **app_parts).run()
