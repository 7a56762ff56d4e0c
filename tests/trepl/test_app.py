"""The terminal app driven through prompt_toolkit's pipe input (keys in, text out)."""

import io
import threading
import time

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from trepl.app import App, AppConfig
from trepl.evaluator import Evaluator

ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"
UP = "\x1b[A"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def run_app(keys: str | list, evaluator=None, history_file=""):
    """Type `keys` into a fresh App, then leave (Ctrl-D, yes); return (status, printed text).

    A list of key chunks is typed with a pause between chunks, as a person would. An item may
    also be a predicate on the line being edited: typing waits (up to 10 s) until it holds, since
    completion runs as a background task that a key typed at once after Tab would overtake.
    """
    evaluator = evaluator or Evaluator()
    out = io.StringIO()
    chunks = [keys] if isinstance(keys, str) else list(keys)
    chunks[-1] += CTRL_D + "y" + ENTER
    with create_pipe_input() as pipe:
        config = AppConfig(color=False, banner=False, history_file=history_file)
        app = App(evaluator, input=pipe, output=DummyOutput(), stdout=out, config=config)

        def typist():
            for chunk in chunks:
                if callable(chunk):
                    deadline = time.monotonic() + 10
                    while not chunk(app.session.default_buffer.text):
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.02)
                    continue
                pipe.send_text(chunk)
                time.sleep(0.3)

        threading.Thread(target=typist, daemon=True).start()
        status = app.run()
    return status, out.getvalue()


def test_value_and_timing_line():
    status, text = run_app("6 * 7" + ENTER)
    lines = text.splitlines()
    assert status == 0
    assert lines[0] == "42"
    assert lines[1].strip().startswith("[") and lines[1].strip().endswith("s]")


def test_semicolon_hides_value_but_times_it():
    _, text = run_app("6 * 7;" + ENTER)
    assert "42" not in text and text.strip().endswith("s]")


def test_block_continues_until_blank_line():
    # Enter after the header auto-indents; a blank line ends the block.
    _, text = run_app("for i in range(2):" + ENTER + "print(i * 10)" + ENTER + ENTER)
    assert text.splitlines()[:2] == ["0", "10"]


def test_ctrl_c_clears_the_line():
    _, text = run_app("undefined_name" + CTRL_C + "1 + 1" + ENTER)
    assert "NameError" not in text and text.splitlines()[0] == "2"


def test_bracketed_paste_runs_as_one_cell():
    ev = Evaluator()
    _, text = run_app(PASTE_START + "a = 1\nb = a + 1\nb * 10" + PASTE_END + ENTER, ev)
    assert text.splitlines()[0] == "20" and ev.execution_count == 1


def test_tab_completes_a_name():
    ev = Evaluator()
    ev.namespace["my_long_name"] = 5
    _, text = run_app(["my_lo\t", lambda line: line == "my_long_name", ENTER], ev)
    assert text.splitlines()[0] == "5"


def test_tab_at_line_start_indents():
    _, text = run_app("if True:" + ENTER + "\tx = 3" + ENTER + ENTER + "x" + ENTER)
    assert "3" in text.splitlines()


def test_exit_question_no_then_exit_word_yes():
    _, text = run_app("exit" + ENTER + "n" + ENTER + "5" + ENTER)
    assert text.splitlines()[0] == "5"  # 'n' kept the session


def test_sys_exit_in_a_cell_ends_with_its_status():
    status, _ = run_app("import sys; sys.exit(7)" + ENTER)
    assert status == 7


def test_error_is_printed_and_session_goes_on():
    _, text = run_app("1/0" + ENTER + "3" + ENTER)
    assert "ZeroDivisionError: division by zero" in text
    assert "3" in text.splitlines()


def test_help_page_is_printed():
    _, text = run_app("? len" + ENTER)
    assert text.startswith("len(obj, /)")


def test_history_persists_across_sessions(tmp_path):
    history = str(tmp_path / "hist")
    run_app("40 + 2" + ENTER, history_file=history)
    _, text = run_app(UP + ENTER, history_file=history)
    assert text.splitlines()[0] == "42"


@pytest.mark.parametrize("word", ["exit()", "quit"])
def test_exit_words(word):
    with create_pipe_input() as pipe:
        pipe.send_text(word + ENTER + ENTER)
        out = io.StringIO()
        config = AppConfig(color=False, banner=True, history_file="")
        status = App(Evaluator(), input=pipe, output=DummyOutput(), stdout=out, config=config).run()
    assert status == 0 and "? for help" in out.getvalue()


def test_repl_runs_on_the_callers_variables():
    from trepl import repl

    def program():
        local_value = 20  # noqa: F841 - read by repl() through the caller's frame
        with create_pipe_input() as pipe:
            pipe.send_text("local_value + 1" + ENTER + CTRL_D + "y" + ENTER)
            out = io.StringIO()
            status = repl(color=False, input=pipe, output=DummyOutput(), stdout=out)
        return status, out.getvalue()

    status, text = program()
    assert status == 0 and text.splitlines()[0] == "21"


def test_ctrl_r_enter_takes_the_found_line_and_ctrl_d_still_leaves():
    """Enter in a Ctrl-R search used to act on the search field and leave the search open, so
    neither Enter nor Ctrl-D got out of it."""
    status, text = run_app(["271 + 0" + ENTER, "5" + ENTER, "\x12" + "271", ENTER, ENTER])
    assert status == 0  # run_app's Ctrl-D, y reached the exit question
    assert [line for line in text.splitlines() if not line.startswith(" ")] == ["271", "5", "271"]
