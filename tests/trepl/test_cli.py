"""The `th` command without a terminal: script mode, -e, -l, -g, piped stdin, --doctor, -h."""

import os
import subprocess
import sys

import pytest

from trepl.cli import create_parser


def th(*args, stdin="", cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "trepl", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
    )


def test_script_mode_gets_argv_and_main(tmp_path):
    script = tmp_path / "run.py"
    script.write_text("import sys\nprint(__name__, sys.argv[1:])\n")
    done = th(str(script), "a", "--flag")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "__main__ ['a', '--flag']\n"


def test_script_error_exits_1_with_a_short_traceback(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("x = 1\nraise ValueError('broken input')\n")
    done = th(str(script))
    assert done.returncode == 1
    assert f'File "{script}", line 2' in done.stderr
    assert done.stderr.rstrip().endswith("ValueError: broken input")
    assert "evaluator.py" not in done.stderr


EXITS = [("sys.exit(4)", 4, ""), ("sys.exit('no')", 1, "no")]


@pytest.mark.parametrize(("code", "status", "err"), EXITS)
def test_script_exit_status(tmp_path, code, status, err):
    script = tmp_path / "exit.py"
    script.write_text(f"import sys\n{code}\n")
    done = th(str(script))
    assert done.returncode == status and done.stderr.strip() == err


def test_statement_and_preloaded_module():
    done = th("-l", "json", "-e", "print(json.dumps([6 * 7]))")
    assert done.returncode == 0 and done.stdout == "[42]\n"
    failed = th("-e", "1/0")
    assert failed.returncode == 1 and "ZeroDivisionError" in failed.stderr


def test_bad_module_for_l_fails_clearly():
    done = th("-l", "no_such_module_xyz", "-e", "pass")
    assert done.returncode == 1 and "No module named 'no_such_module_xyz'" in done.stderr


def test_piped_stdin_runs_as_a_script():
    done = th(stdin="x = 6 * 7\nprint(x)\nx\n")
    assert done.returncode == 0 and done.stdout == "42\n"  # no prompt, no auto-print
    failed = th(stdin="raise KeyError('k')\n")
    assert failed.returncode == 1 and "KeyError: 'k'" in failed.stderr


def test_global_monitoring():
    done = th("-g", "-e", "def f():\n    global leaked\n    leaked = 1\nf()")
    assert "th -g: new global variable 'leaked'" in done.stderr


def test_missing_script():
    done = th("nowhere.py")
    assert done.returncode == 2 and "cannot open script 'nowhere.py'" in done.stderr


def test_doctor_reports_the_install():
    done = th("--doctor")
    assert done.returncode == 0
    out = done.stdout
    assert "jax backend: cpu" in out and "jax x64 mode: off" in out
    assert "bind 127.0.0.1: ok" in out and "history file:" in out
    assert "itorch kernelspec:" in out and "startup file:" in out
    assert "glibc huge pages for XLA's buffers:" in out
    from nets import native

    expected = "oneDNN" if native.load() else "XLA's (native oneDNN kernels unavailable:"
    assert f"convolutions on the CPU: {expected}" in out


def test_doctor_says_when_native_convolutions_are_off():
    done = th("--doctor", env={"NETS_NATIVE": "0"})
    assert "convolutions on the CPU: XLA's (native oneDNN kernels unavailable: turned off" in (
        done.stdout
    )


def test_parser_options():
    args = create_parser().parse_args(["-i", "-g", "--no-color", "s.py", "x", "-e"])
    assert args.interactive and args.monitor_globals and args.no_color
    assert args.script == "s.py" and args.args == ["x", "-e"]
    assert "usage: th" in create_parser().format_help()


def test_version_prints_treples_version():
    done = th("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("th (trepl) ") and done.stdout.count("\n") == 1
