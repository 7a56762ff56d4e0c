"""`th` survives hostile objects, a bad history file and scripts written for python (issue 18),
seen as the user sees it: the shell through a pseudo-terminal, scripts as a subprocess.

One shell serves the whole SHELL_CASES table, with every hostile object of SETUP in its
namespace from the start. Each row: (case, input line, expected outcome, words the screen must
show). Outcomes: "clear error" (a short message naming the object's type and what failed),
"recovered" (the normal answer, hostile objects notwithstanding), "refused" (a clear error for
input that cannot work). After every row a marker command must still run, and the shell must
finally leave with status 0: zero sessions ended.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

import pytest

from tests.trepl.test_pty import PROMPT, TIMING, leave, run, spawn_th

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

SETUP = [
    "B = type('B', (), {'__repr__': lambda s: 1/0}); br = B()",
    "X = type('X', (), {'__repr__': lambda s: __import__('sys').exit(3)})",
    "Q = type('Q', (), {'__repr__': lambda s: exit(5)})",
    "R = type('R', (), {'__repr__': lambda s: repr(s)})",
    "N = type('N', (), {'__repr__': lambda s: 5})",
    "E = type('E', (Exception,), {'__str__': lambda s: 1/0})",
    "G = type('G', (), {'__getattribute__': lambda s, n: 1/0}); g = G()",
    "A = type('A', (), {'__getattr__': lambda s, n: 1/0}); a = A()",
    "D = type('D', (), {'__doc__': property(lambda s: 1/0)}); d = D()",
    "import weakref; C = type('C', (), {}); c = C(); p = weakref.proxy(c); del c",
    "deadproxy_only = weakref.proxy(C())",
    "import pickle",
    "def sq(x): return x * x",
    "P = type('P', (), {'boom': property(lambda s: __import__('sys').exit(4))}); pp = P()",
]

SHELL_CASES = [
    ("repr raises", "br", "clear error",
     "<B object: repr() failed: ZeroDivisionError: division by zero>"),
    ("repr raises inside a list", "[br, 1]", "clear error",
     "[<B object: repr() failed: ZeroDivisionError: division by zero>, 1]"),
    ("repr raises as a dict key", "{br: 'v'}", "clear error",
     "{<B object: repr() failed: ZeroDivisionError: division by zero>: 'v'}"),
    ("repr calls sys.exit()", "X()", "clear error", "<X object: repr() failed: SystemExit: 3>"),
    ("repr calls exit()", "Q()", "clear error", "<Q object: repr() failed: SystemExit: 5>"),
    ("repr recurses", "R()", "clear error", "<R object: repr() failed: RecursionError:"),
    ("repr returns an int", "N()", "clear error",
     "<N object: repr() failed: TypeError: __repr__ returned non-string (type int)>"),
    ("exception whose str() raises", "raise E()", "clear error", "E: <exception str() failed>"),
    ("a cell after all of them", "1 + 1", "recovered", "2"),
    ("the dead proxy shown", "p", "recovered", "<weakproxy at"),
    ("the raising __getattribute__ shown", "g", "recovered", "G object at"),
    ("jax with them around", "jnp.ones(3).sum()", "recovered", "3."),
    ("who() lists them", "who()", "recovered", "ProxyType"),
    ("? on a raising __getattribute__", "? g.x", "clear error",
     "? g.x: looking it up failed: ZeroDivisionError: division by zero"),
    ("? on a raising __getattr__", "? a.x", "clear error",
     "? a.x: looking it up failed: ZeroDivisionError: division by zero"),
    ("? on a raising __doc__", "? d", "clear error",
     "<D object: reading __doc__ failed: ZeroDivisionError: division by zero>"),
    ("? on a raising __repr__", "? br", "clear error",
     "value: <B object: repr() failed: ZeroDivisionError: division by zero>"),
    ("? on the dead proxy", "? p", "recovered", "type: ProxyType"),
    ("? on a property calling sys.exit()", "? pp.boom", "clear error",
     "? pp.boom: looking it up failed: SystemExit: 4"),
    ("pickle a function of the shell's __main__", "pickle.loads(pickle.dumps(sq))(7)",
     "recovered", "49"),
    ("a name that is not a string", "globals()[1] = 2; who()", "recovered", "variable(s)"),
]  # fmt: skip

MARK = "print('end-' + 'of-case')"  # the screen shows end-of-case only when it ran


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    home = tmp_path_factory.mktemp("robust-th")
    child = spawn_th(TREPL_HISTORY=str(home / "history"))
    for line in SETUP:
        screen = run(child, line)
        assert "Error" not in screen, (line, screen)
    yield child
    assert leave(child) == 0  # zero sessions ended: the shell leaves as asked, status 0


def _screen(child, line: str) -> str:
    """Type `line`, then the marker; return what the screen showed between them."""
    child.sendline(line)
    child.sendline(MARK)
    child.expect("end-of-case")
    shown = child.before
    child.expect(TIMING)
    child.expect(PROMPT)
    return shown.replace("\r\n", "\n")


@pytest.mark.parametrize(("case", "line", "outcome", "words"), SHELL_CASES, ids=lambda v: v)
def test_shell_case(shell, case, line, outcome, words):
    shown = _screen(shell, line)
    assert words in shown, (case, shown)
    assert "Traceback" not in shown or line.startswith("raise"), (case, shown)


# (case, typed before Tab, what Tab must draw or None, typed after, outcome, words shown)
TAB_CASES = [
    ("Tab on a raising __repr__'s attributes", "br.__cla", "ss__", ".__name__", "recovered",
     "'B'"),
    ("Tab on the name of a dead proxy", "deadprox", "y_only", "", "recovered", "<weakproxy at"),
    ("Tab on a raising __getattribute__", "g.__cl", None, "", "recovered", "ZeroDivisionError"),
    ("Tab among the dead proxy and friends", "isinst", "ance", "(p, int)", "recovered",
     "ReferenceError: weakly-referenced object no longer exists"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "before", "drawn", "after", "outcome", "words"), TAB_CASES, ids=lambda v: v
)
def test_tab_case(shell, case, before, drawn, after, outcome, words):
    shell.send(before + "\t")
    if drawn is not None:
        shell.expect(re.escape(drawn))
    else:
        time.sleep(1.0)  # whatever completion does, give it time to do it
    shown = _screen(shell, after)
    assert words in shown, (case, shown)


def test_del_recovers(shell):
    """Last in the shell's table: deleting the hostile objects works, and so does the next cell."""
    shown = _screen(shell, "del p, g, br; sorted({'p', 'g', 'br'} & set(globals()))")
    assert "[]" in shown, shown


# ------------------------------------------------------------------------------ history file
def _unwritable_file(tmp_path):
    if os.geteuid() == 0:  # root writes through file modes: /proc/version refuses even root
        return "/proc/version", "Errno"
    path = tmp_path / "history"
    path.write_text("")
    path.chmod(0o444)
    return str(path), "Permission denied"


HISTORY_CASES = [
    ("a directory", lambda tmp: (str(tmp), "it is a directory")),
    ("a missing folder", lambda tmp: (str(tmp / "no" / "such" / "history"), "does not exist")),
    ("a read-only file", _unwritable_file),
]


@pytest.mark.parametrize(("case", "make"), HISTORY_CASES, ids=lambda v: v)
def test_unwritable_history_warns_once_and_keeps_every_command(tmp_path, case, make):
    path, reason = make(tmp_path)
    child = spawn_th(TREPL_HISTORY=path)
    start = child.before
    assert "cannot write the history file" in start and reason in start, start
    assert "42" in run(child, "6 * 7")  # the first command is not lost
    assert "8" in run(child, "2 ** 3")
    assert leave(child) == 0
    everything = start + child.before
    assert "Unhandled exception" not in everything
    assert start.count("cannot write the history file") == 1


# ----------------------------------------------------------------------------------- scripts
def _th(script, *args, tmp_path, source: bytes | str, **kwargs):
    path = tmp_path / script
    path.write_bytes(source if isinstance(source, bytes) else textwrap.dedent(source).encode())
    command = [sys.executable, "-m", "trepl", str(path), *args]
    return subprocess.run(command, capture_output=True, timeout=120, cwd=tmp_path, **kwargs)


MULTIPROCESSING = """
    import multiprocessing as mp
    import sys

    def square(x):
        return x * x

    if __name__ == "__main__":
        with mp.get_context(sys.argv[1]).Pool(2) as pool:
            print(sys.argv[1], pool.map(square, [1, 2, 3]))
"""
SCRIPT_CASES = [
    ("latin-1 source", (), b"# -*- coding: latin-1 -*-\nprint('caf\xe9', len('caf\xe9'))\n",
     "recovered", "café 4"),
    ("undeclared latin-1 source", (), b"print('caf\xe9')\n", "refused",
     "as Python source: SyntaxError: invalid or missing encoding declaration"),
    ("sys.stdout.buffer", (), "import sys\nprint('a', flush=True)\n"
     "sys.stdout.buffer.write(b'caf\\xc3\\xa9\\n')\nsys.stdout.buffer.flush()\nprint('b')\n",
     "recovered", "a\ncafé\nb\n"),
    ("subprocess writes to sys.stdout", (), "import subprocess, sys\nprint('a', flush=True)\n"
     "subprocess.run(['echo', 'child'], stdout=sys.stdout, check=True)\nprint('b')\n",
     "recovered", "a\nchild\nb\n"),
    ("multiprocessing, fork", ("fork",), MULTIPROCESSING, "recovered", "fork [1, 4, 9]"),
    ("multiprocessing, spawn", ("spawn",), MULTIPROCESSING, "recovered", "spawn [1, 4, 9]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "args", "source", "outcome", "words"), SCRIPT_CASES, ids=lambda v: str(v)[:30]
)
def test_script_behaves_as_under_python(tmp_path, case, args, source, outcome, words):
    done = _th("script.py", *args, tmp_path=tmp_path, source=source)
    if outcome == "refused":
        assert done.returncode == 1 and words in done.stderr.decode(), done
        assert "Traceback" not in done.stderr.decode()
    else:
        assert done.returncode == 0, done.stderr.decode()
        assert words in done.stdout.decode(), done


def _peak_rss_mib(command: list[str], cwd) -> float:
    """Peak RSS of `command`, run as the only child of a fresh interpreter."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, timeout=120, cwd=cwd
    )
    assert done.returncode == 0, done.stderr.decode()
    return int(done.stdout) / 1024


def test_printing_a_lot_costs_no_memory(tmp_path):
    """A script printing 20 MB under th costs about what an empty script does (th kept a copy
    of everything printed: 788 MB for a 790 MB script)."""
    (tmp_path / "quiet.py").write_text("line = 'x' * 99\n")
    (tmp_path / "loud.py").write_text(
        "line = 'x' * 99\nfor _ in range(400_000):\n    print(line)\n"
    )
    th = [sys.executable, "-m", "trepl"]
    quiet = _peak_rss_mib([*th, "quiet.py"], tmp_path)
    loud = _peak_rss_mib([*th, "loud.py"], tmp_path)
    assert loud - quiet < 12, f"printing 20 MB raised th's peak RSS by {loud - quiet:.0f} MiB"
