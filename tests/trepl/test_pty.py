"""The real `th` program in a pseudo-terminal: type keys, read the screen."""

import os
import re
import shutil
import sys
import time

import pytest

pexpect = pytest.importorskip("pexpect")

# pexpect forks (then execs th at once); JAX warns about any fork in a process that loaded it.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

PROMPT = "th>"
TIMING = r"\[\d+\.\d{4}s[^\]\r\n]*\]"


def spawn_th(*args, color=False, **extra_env):
    env = dict(os.environ)
    # No terminal answers cursor-position requests here; NO_COLOR keeps the screen readable.
    env.update(PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", NO_COLOR="1", **extra_env)
    if color:
        del env["NO_COLOR"]
    exe = shutil.which("th")
    command, argv = (exe, list(args)) if exe else (sys.executable, ["-m", "trepl", *args])
    child = pexpect.spawn(
        command, argv, env=env, encoding="utf-8", timeout=60, dimensions=(30, 100)
    )
    child.expect(PROMPT)
    return child


def run(child, line):
    """Type a line and wait until it has run (its timing line) and the next prompt is up."""
    child.sendline(line)
    child.expect(TIMING)
    printed = child.before
    child.expect(PROMPT)
    return printed


def leave(child):
    child.sendcontrol("d")
    child.expect("Do you really want to exit")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_prompt_computation_timing_and_completion():
    child = spawn_th()
    child.sendline("x = jnp.ones((2, 3)) * 2")
    child.expect(TIMING)
    child.expect(PROMPT)
    child.sendline("x.sum()")
    child.expect(r"12\.\r\n")
    child.expect(r"\[jax.Array of size \(\), float32, 4 B\]")
    child.expect(TIMING)
    child.expect(PROMPT)
    # Tab completes the unique match on a lazily imported module; Enter then runs the line.
    child.send("nn.Sequenti\t")  # one match (nn.Sequencer shares "Sequen")
    child.expect("al")  # the completion landed (the first one may wait for nets to import)
    child.sendline(".__name__")
    child.expect("'Sequential'")
    child.expect(PROMPT)
    # Ctrl-C at the prompt throws the line away and the session goes on.
    child.send("this_is_not_defined")
    child.sendcontrol("c")
    child.expect(PROMPT)
    child.sendline("6 * 7")
    child.expect("42")
    assert "NameError" not in child.before
    child.expect(PROMPT)
    assert leave(child) == 0


def test_ctrl_c_interrupts_python_and_jitted_loops():
    child = spawn_th()
    run(child, "kept = 41")
    child.sendline("while True: pass")
    child.sendline("")
    time.sleep(1.0)
    child.sendcontrol("c")
    child.expect("KeyboardInterrupt")
    child.expect(PROMPT)
    child.sendline(
        "a = jnp.ones((400, 400)) / 400; "
        "f = jax.jit(lambda a, n: jax.lax.fori_loop(0, n, lambda i, b: b @ a, a)); "
        "f(a, 1).block_until_ready();"
    )
    child.expect(TIMING)
    child.expect(PROMPT)
    child.sendline("b = f(a, 10**7)")  # hours of work; th exits without waiting for it
    time.sleep(0.5)
    child.sendcontrol("c")
    child.expect("KeyboardInterrupt")
    child.expect("cannot cancel a running XLA program")
    child.expect(PROMPT)
    child.sendline("kept + 1")
    child.expect("42")
    child.expect(PROMPT)
    # The unfinished array was unbound; the shell still exits at once.
    assert "False" in run(child, "'b' in dir()")
    assert leave(child) == 0


def test_history_across_sessions_and_exit_question():
    first = spawn_th()
    first.sendline("history_marker = 314")
    first.expect(TIMING)
    first.expect(PROMPT)
    assert leave(first) == 0
    second = spawn_th()
    second.send("\x1b[A")  # Up: the previous session's line
    second.sendline("")
    second.expect(TIMING)
    second.expect(PROMPT)
    second.sendline("history_marker + 1")
    second.expect("315")
    second.expect(PROMPT)
    second.sendline("exit")
    second.expect("Do you really want to exit")
    second.sendline("n")
    second.expect(PROMPT)
    second.sendline("exit")
    second.expect("Do you really want to exit")
    second.sendline("")
    second.expect(pexpect.EOF)
    second.close()
    assert second.exitstatus == 0
    with open(os.environ["TREPL_HISTORY"]) as f:
        assert "history_marker = 314" in f.read()


def test_script_then_interactive_shell_with_startup_file(tmp_path, monkeypatch):
    script = tmp_path / "setup.py"
    script.write_text("from_script = 'ready'\n")
    startup = tmp_path / "startup.py"
    startup.write_text("from_startup = 'also'\n")
    monkeypatch.setenv("TREPLSTARTUP", str(startup))
    child = spawn_th("-i", str(script))
    child.sendline("from_script + from_startup")
    child.expect("'readyalso'")
    child.expect(PROMPT)
    assert leave(child) == 0


def test_bad_input_error_shows_the_users_line_and_the_message_in_red():
    child = spawn_th(color=True)
    run(child, "net = nn.Sequential().add(nn.SpatialConvolution(3, 6, 5, 5))")
    child.sendline("net.forward(jnp.ones((2, 1, 32, 32)))")
    child.expect(r"library frames? hidden: tb\(\) prints the full traceback")
    screen = child.before
    assert '<th-2>", line 1' in screen
    assert "module.py" not in screen and "containers.py" not in screen
    assert "For simplicity" not in screen
    assert "\x1b[1;31mnets._errors.ModuleError: (0) nn.SpatialConvolution(3 -> 6, 5x5): " in screen
    child.expect(PROMPT)
    child.sendline("tb()")  # the full traceback is one command away
    child.expect("nets/nn/containers.py")
    child.expect(PROMPT)
    assert leave(child) == 0


def test_a_cell_queued_behind_an_interrupted_computation_says_it_waits():
    child = spawn_th()
    run(
        child,
        "a = jnp.ones((400, 400)) / 400; "
        "f = jax.jit(lambda a, n: jax.lax.fori_loop(0, n, lambda i, b: b @ a, a)); "
        "f(a, 1).block_until_ready();",
    )
    child.sendline("b = f(a, 3000)")  # about 4 s of work
    time.sleep(0.5)
    child.sendcontrol("c")
    child.expect("Interrupted: unbound b")
    child.expect(PROMPT)
    child.sendline("jnp.ones(3).sum()")
    child.expect(r"\[waiting for the computation interrupted in cell \d+")
    child.expect(r"\[waited \d+\.\d s for the computation interrupted in cell \d+\]")
    child.expect(r"3\.")
    child.expect(PROMPT)
    assert leave(child) == 0


def test_first_impressions_banner_colours_shell_highlighting_timing_column():
    child = spawn_th(color=True, COLORFGBG="15;0")  # white on black: the dark scheme
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before)  # terminal modes, not text
    banner = [line for line in screen.split("\r\n") if "|  " in line]
    assert len(banner) == 5 and "th: Torch7-style" in banner[0]
    assert len({line.index("|") for line in banner}) == 1  # a straight column
    child.setwinsize(30, 160)
    time.sleep(1.5)  # the warm-up thread loads pygments: input is coloured from then on
    child.send("$ echo hello")
    child.expect(r"\$ \x1b\[0;36mecho\x1b\[0m hello")  # echo as a shell builtin, not Python
    child.sendline("")
    child.expect("hello")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect(r"\x1b\[36m1\x1b\[0m\r\n( *)\x1b\[2m\[\d\.\d{4}s\]")
    assert len(child.match.group(1)) + len("[0.0000s]") == 80  # not at column 160
    child.expect(PROMPT)
    child.sendline("? nn.SpatialMaxPooling")
    child.expect(r"kW: int, kH: int")  # annotations without their quotes
    child.expect(PROMPT)
    assert leave(child) == 0
    light = spawn_th("--colors", "light", color=True)
    light.sendline("1")
    light.expect(r"\x1b\[34m1\x1b\[0m")  # blue: cyan is faint on white
    light.expect(PROMPT)
    assert leave(light) == 0


def test_ctrl_r_then_enter_takes_the_line_and_completion_after_dollar():
    child = spawn_th()
    run(child, "271 + 0")
    run(child, "5")
    child.sendcontrol("r")
    child.send("271")
    time.sleep(0.5)
    child.send("\r")  # Enter takes the line found ...
    time.sleep(0.3)
    child.send("\r")  # ... and Enter runs it
    child.expect(TIMING)
    child.expect(PROMPT)
    assert "272" in run(child, "_LAST + 1")  # 271 + 0 ran again (the value before was 5)
    child.send("$ ech\t")
    child.expect("echo")
    child.sendline(" from-dollar")
    child.expect("from-dollar\r\n")
    child.expect(PROMPT)
    # (not "tre": an editable install leaves trepl.egg-info/ beside trepl/, two completions)
    child.send("!ls kern\t")
    child.expect("kernel/")
    child.sendline("")
    child.expect("kernelspec.py")
    child.expect(PROMPT)
    assert leave(child) == 0


def test_ipython_habits_timeit_await_debug_and_results():
    child = spawn_th()
    run(child, "f = jax.jit(lambda x: (x @ x).sum()); x = jnp.ones((64, 64))")
    child.sendline("%timeit f(x)")
    child.expect(r"per call \(median of 7 runs, [\d,]+ calls? each, device work included\); ")
    child.expect(r"first call .* compiling \(1 program\)")
    child.expect(PROMPT)
    child.sendline("import asyncio; await asyncio.sleep(0.01, result='awaited')")
    child.expect("'awaited'")
    child.expect(PROMPT)
    child.sendline("def g(v):\n    return 1 / v\n")
    child.expect(PROMPT)
    child.sendline("g(0)")
    child.expect("ZeroDivisionError")
    child.expect(PROMPT)
    child.sendline("debug()")
    child.expect(r"\(Pdb\)")
    child.sendline("p v")
    child.expect(r"\r\n0\r\n")
    child.sendline("q")
    child.expect(PROMPT)
    child.sendline("%time g(1)")
    child.expect("UsageError: %time is an IPython magic that th does not have")
    child.expect(PROMPT)
    run(child, "setresults(2)")
    run(child, "'a'")
    run(child, "'b'")
    assert "['a', 'b']" in run(child, "_RESULTS")
    assert leave(child) == 0


def test_progress_bar_redraws_one_line():
    child = spawn_th()
    run(child, "from nets.engine import ProgressBar")
    run(child, "bar = ProgressBar(3, 'epoch', min_interval=0)")
    child.sendline("[bar.update(loss=0.5) for i in range(3)]; bar.close()")
    child.expect(r"\repoch \[=+> *\] 1/3 ")
    child.expect(r"\repoch \[=+> *\] 2/3 ")
    child.expect(r"\repoch \[=+\] 3/3 [^\r\n]*loss 0\.5000\x1b\[K\r\n")
    child.expect(TIMING)
    child.expect(PROMPT)
    assert leave(child) == 0
