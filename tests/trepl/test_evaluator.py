"""Evaluator: auto-print rules, `;`, `$`, `?`, _RESULTS/_LAST, errors, is_complete, interrupts."""

import _thread
import os
import threading
import time

import pytest

from trepl.evaluator import Evaluator
from trepl.namespace import LazyModule


@pytest.fixture
def ev():
    return Evaluator()


def test_expression_value_is_shown_and_stored(ev):
    result = ev.execute("1 + 2")
    assert result.ok and result.show and result.value == 3
    assert ev.namespace["_LAST"] == 3 and ev.namespace["_RESULTS"] == [3]
    assert result.elapsed > 0


def test_statements_and_none_are_not_shown(ev):
    assert not ev.execute("a = 5").show
    assert not ev.execute("None").show
    result = ev.execute("a * 2")
    assert result.value == 10 and result.show
    assert ev.namespace["_RESULTS"] == [10]  # the statement and None left no result


def test_trailing_semicolon_hides_but_keeps_the_result(ev):
    result = ev.execute("40 + 2;")
    assert result.value == 42 and not result.show
    assert ev.namespace["_LAST"] == 42
    # A ';' inside a string or a comment is not a trailing semicolon.
    assert ev.execute("'a;'").show
    assert ev.execute("7  # x;").show


def test_multi_line_cell_prints_its_last_expression(ev):
    result = ev.execute("def f(x):\n    return x * 3\n\nf(4)")
    assert result.value == 12 and result.show


def test_printed_text_streams_to_callback_and_is_collected(ev):
    seen = []
    result = ev.execute("for i in range(3):\n    print(i)", on_stdout=seen.append)
    assert "".join(seen) == "0\n1\n2\n"
    assert result.stdout == "0\n1\n2\n"
    errs = []
    result = ev.execute("import sys; sys.stderr.write('oops')", on_stderr=errs.append)
    assert errs == ["oops"] and result.stderr == "oops"


def test_callback_that_prints_does_not_recurse(ev, capsys):
    result = ev.execute("print('x')", on_stdout=print)
    assert result.stdout == "x\n"
    assert "x" in capsys.readouterr().out


def test_error_is_reported_with_user_frames_only_and_session_goes_on(ev):
    result = ev.execute("def g():\n    return 1 / 0\ng()")
    assert not result.ok
    assert result.error.ename == "ZeroDivisionError"
    text = "\n".join(result.error.traceback)
    assert "return 1 / 0" in text  # the user's own line is quoted
    assert "evaluator.py" not in text  # no frames from the shell itself
    assert text.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert ev.execute("2 + 2").value == 4


def test_syntax_error_is_an_error_result(ev):
    result = ev.execute("1 +* 2")
    assert result.error.ename == "SyntaxError"
    assert "invalid syntax" in result.error.traceback[-1]


def test_system_exit_sets_exit_code(ev):
    assert ev.execute("import sys; sys.exit(3)").exit_code == 3
    assert ev.execute("raise SystemExit").exit_code == 0


def test_shell_command_output_status_and_results(ev, tmp_path):
    (tmp_path / "afile.txt").write_text("x")
    chunks = []
    result = ev.execute(f"$ ls {tmp_path}", on_stdout=chunks.append)
    assert "afile.txt" in result.value and "".join(chunks) == result.value
    assert result.shell_status == 0 and not result.show
    assert ev.namespace["_LAST"] == result.value
    failed = ev.execute("$ echo bad; exit 4")
    assert failed.shell_status == 4 and failed.value == "bad\n"


def test_empty_shell_command_is_a_clear_error(ev):
    result = ev.execute("$")
    assert result.error.ename == "ValueError"
    assert "expected a shell command" in result.error.evalue


def test_help_cells(ev):
    result = ev.execute("? len")
    assert result.help.found and "Return the number of items" in result.help.doc
    suffix = ev.execute("len?")
    assert suffix.help.name == "len"
    ev.execute("def mine(a, b=2):\n    'Add.'\n    return a + b")
    source = ev.execute("?? mine")
    assert source.help.signature == "(a, b=2)"
    assert "return a + b" in source.help.source
    page = ev.execute("?")
    assert "_RESULTS" in page.help.text and "$ cmd" in page.help.text
    missing = ev.execute("? no_such_thing")
    assert not missing.help.found and "no such name" in missing.help.text


def test_is_complete_answers(ev):
    assert ev.is_complete("1 + 1").status == "complete"
    opened = ev.is_complete("for i in range(3):")
    assert opened.status == "incomplete" and opened.indent == "    "
    assert ev.is_complete("for i in range(3):\n    print(i)").status == "incomplete"
    assert ev.is_complete("for i in range(3):\n    print(i)\n").status == "complete"
    assert ev.is_complete("x = (1,\n").status == "incomplete"
    assert ev.is_complete("1 +* 2").status == "invalid"
    assert ev.is_complete("? len").status == "complete"
    assert ev.is_complete("$ ls").status == "complete"


def test_preloaded_names_are_lazy_until_used(ev):
    assert isinstance(ev.namespace["jnp"], LazyModule) or "jax" in __import__("sys").modules
    result = ev.execute("jnp.arange(3).sum()")
    assert int(result.value) == 3
    import jax.numpy

    assert ev.namespace["jnp"] is jax.numpy  # the stand-in was swapped for the module


def test_failed_preload_names_the_module_when_used():
    ev = Evaluator()
    ev.namespace["broken"] = LazyModule("broken", "no_such_module_xyz")
    result = ev.execute("broken.thing")
    assert result.error.ename == "ModuleNotFoundError"
    assert "preloaded name 'broken': could not import 'no_such_module_xyz'" in result.error.evalue


def test_who_lists_user_arrays(ev):
    ev.execute("import numpy\nm = numpy.zeros((2, 3), dtype='float32')\nk = 1")
    out = ev.execute("who()").stdout
    assert "m" in out and "2x3" in out and "float32" in out and "24 B" in out
    assert "jnp" not in out.split()  # preloaded names only with who(True)
    assert "jnp" in ev.execute("who(True)").stdout


def test_import_copies_public_names(ev):
    names = ev.execute("import_('json')").value
    assert "dumps" in names and ev.namespace["dumps"]("a") == '"a"'
    with pytest.raises(TypeError, match="expected a module name as a string"):
        ev.namespace["import_"](3)


def test_setprintlevel_validates(ev):
    ev.execute("setprintlevel(5)")
    assert ev.print_level == 5
    result = ev.execute("setprintlevel(0)")
    assert "expected a positive int, got 0" in result.error.evalue


def test_monitor_globals_warns_on_new_names(ev):
    ev.monitor_globals = True
    result = ev.execute("fresh = 1")
    assert result.warnings == ["th -g: new global variable 'fresh'"]
    assert ev.execute("fresh = 2").warnings == []


def test_timing_counts_new_compilations(ev):
    ev.execute("import jax")
    result = ev.execute("jax.jit(lambda v: v * 2 + 1)(jnp.ones(7))")
    assert result.compile_count >= 1 and 0 < result.compile_time <= result.elapsed
    again = ev.execute("jax.jit(lambda v: v * 2 + 1)")  # building a jit compiles nothing
    assert again.compile_count == 0 and again.compile_time == 0.0


def _interrupt_soon(delay: float) -> threading.Timer:
    timer = threading.Timer(delay, _thread.interrupt_main)
    timer.start()
    return timer


def test_ctrl_c_in_python_loop_keeps_namespace(ev):
    ev.execute("kept = 1")
    _interrupt_soon(0.3)
    result = ev.execute("n = 0\nwhile True:\n    n += 1")
    assert result.error.ename == "KeyboardInterrupt"
    assert ev.namespace["kept"] == 1 and ev.namespace["n"] > 0
    assert ev.execute("kept + 1").value == 2


def test_ctrl_c_while_waiting_for_jax_unbinds_the_unfinished_array(ev):
    # A jitted loop, compiled first (n is traced), then run long enough to be interrupted.
    ev.execute(
        "x = jnp.ones((500, 500)) / 500\n"
        "f = jax.jit(lambda x, n: jax.lax.fori_loop(0, n, lambda i, a: a @ x, x))\n"
        "f(x, 1).block_until_ready()\n"
        "y = 'before'"
    )

    def interrupt_once_dispatched():
        # Ctrl-C while the evaluator waits for y: right after the call returned, not before.
        import jax

        while not isinstance(ev.namespace.get("y"), jax.Array):
            time.sleep(0.001)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_dispatched, daemon=True).start()
    result = ev.execute("y = f(x, 60)")
    assert result.error.ename == "KeyboardInterrupt"
    assert ev.namespace["y"] == "before"  # the binding to the unfinished array was undone
    assert any("cannot cancel a running XLA program" in w for w in result.warnings)
    assert ev.abandoned_work


def test_run_file_is_script_mode(ev, tmp_path):
    script = tmp_path / "s.py"
    script.write_text("value = 6 * 7\nvalue\n")
    result = ev.run_file(str(script))
    assert result.ok and not result.show and ev.namespace["value"] == 42
    assert ev.namespace["__file__"] == os.path.abspath(script)


def test_ctrl_c_stops_a_shell_command(ev):
    import signal

    main = threading.main_thread().ident
    # A real SIGINT (as the terminal sends), so the blocking read of the pipe is interrupted.
    threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT)).start()
    result = ev.execute("$ echo started; sleep 20; echo never")
    assert result.error.ename == "KeyboardInterrupt"
    assert ev.execute("1 + 1").value == 2


def test_cells_do_not_inherit_the_evaluators_future_imports(ev):
    """evaluator.py has `from __future__ import annotations`; a cell must not get it."""
    ev.execute("def f(x: int) -> int:\n    return x")
    assert ev.execute("f.__annotations__").value == {"x": int, "return": int}


def test_top_level_await_is_complete_input(ev):
    assert ev.is_complete("await asyncio.sleep(1)").status == "complete"
    assert ev.is_complete("async with lock:").status == "incomplete"


def test_timeit_magic_takes_ipythons_number_and_repeat(ev):
    result = ev.execute("%timeit -n 3 -r 2 sum(range(10))")
    assert (result.value.calls, result.value.runs) == (3, 2)
    assert ev.execute("%timeit sum(range(10))").value.runs == 7


def test_output_kept_for_the_result_is_bounded():
    """A cell's printed text reaches the callback whole; the copy kept in the result holds only
    its head and tail (a script printing 790 MB kept all of it)."""
    from trepl.evaluator import KEEP_HEAD, KEEP_TAIL

    ev = Evaluator()
    seen = []
    result = ev.execute(
        "for i in range(30_000): print(f'{i:09d}')", on_stdout=lambda t: seen.append(len(t))
    )
    printed = 30_000 * 10
    assert sum(seen) == printed
    assert result.stdout.startswith("000000000\n000000001\n")
    assert result.stdout.endswith("000029998\n000029999\n")
    left_out = printed - KEEP_HEAD - KEEP_TAIL
    assert f"[... {left_out:,} characters not kept ...]" in result.stdout
    assert len(result.stdout) < KEEP_HEAD + KEEP_TAIL + 100
