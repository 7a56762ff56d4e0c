"""The terminal features of issue 22 through the real `th` in a pseudo-terminal (one session):
shape hints in the bottom toolbar, an image drawn in half blocks, the recompilation line, `x?`.

prompt_toolkit draws its bottom toolbar only once it knows how many rows lie below the cursor,
which it asks the terminal (a cursor position request, ESC [ 6 n). This session plays the
terminal and answers every request, as a real one does (the other pty tests set
PROMPT_TOOLKIT_NO_CPR instead, and so never see a toolbar).
"""

import os
import re
import shutil
import sys

import numpy as np
import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

PROMPT = "th>"
TIMING = r"\[\d+\.\d{4}s[^\]\r\n]*\]"
CPR = "\x1b[6n"
ROWS, COLUMNS = 40, 100


def expect(child, pattern, timeout=60):
    """child.expect(pattern), answering cursor position requests on the way; returns the text
    before the match (since the last request)."""
    while True:
        index = child.expect([pattern, re.escape(CPR)], timeout=timeout)
        if index == 0:
            return child.before
        child.send("\x1b[1;1R")  # the cursor is at the top left: all rows lie below it


def run(child, line):
    child.sendline(line)
    printed = expect(child, TIMING)
    expect(child, PROMPT)
    return printed


@pytest.fixture(scope="module")
def th():
    env = dict(os.environ, TERM="xterm", NO_COLOR="1")
    env.pop("PROMPT_TOOLKIT_NO_CPR", None)
    for key in ("TERM_PROGRAM", "KITTY_WINDOW_ID", "LC_TERMINAL", "TREPL_IMAGES"):
        env.pop(key, None)
    exe = shutil.which("th")
    command, argv = (exe, []) if exe else (sys.executable, ["-m", "trepl"])
    child = pexpect.spawn(
        command, argv, env=env, encoding="utf-8", timeout=60, dimensions=(ROWS, COLUMNS)
    )
    expect(child, PROMPT)
    yield child
    child.sendcontrol("d")
    expect(child, "Do you really want to exit")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()


def _clear_line(child):
    child.sendcontrol("c")  # drop the typed text
    expect(child, PROMPT)


def test_toolbar_shows_shape_signature_and_never_runs_a_property(th):
    run(th, "x = jnp.ones((2, 3))")
    # reading `trap.boom` would end the session with status 3
    run(th, "Trap = type('Trap', (), {'boom': property(lambda self: exit(3))})")
    run(th, "trap = Trap(); f = jax.jit(lambda a, scale=2: a * scale)")
    th.send("x")
    expect(th, re.escape("x: jax.Array (2, 3) float32 on cpu:0"))
    _clear_line(th)
    th.send("f(x, ")  # inside the call: the callable's signature
    expect(th, re.escape("f(a, scale=2)"))
    _clear_line(th)
    th.send("trap.boom")  # a property is named, not evaluated: the session goes on
    expect(th, re.escape("trap.boom: property (not evaluated)"))
    _clear_line(th)
    assert "7" in run(th, "3 + 4")


def _cells(row):
    """[(fg, bg)] of one half-block row: the colours in force at each `▀`."""
    cells, fg, bg = [], None, None
    for match in re.finditer(r"\x1b\[38;2;(\d+);(\d+);(\d+)m|\x1b\[48;2;(\d+);(\d+);(\d+)m|▀", row):
        if match.group(0) == "▀":
            cells.append((fg, bg))
        elif match.group(1):
            fg = tuple(int(v) for v in match.group(1, 2, 3))
        else:
            bg = tuple(int(v) for v in match.group(4, 5, 6))
    return cells


def test_image_is_drawn_in_half_blocks_readably(th):
    # A 28x28 "digit": a white vertical bar (columns 12-15, rows 4-23) on black.
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1.0
    run(th, "digit = np.zeros((28, 28), np.float32); digit[4:24, 12:16] = 1.0")
    printed = run(th, "itorch.image(digit)")
    rows = [line for line in printed.split("\r\n") if "▀" in line]
    assert len(rows) == 14  # two pixel rows per line of text
    pixels = np.zeros((28, 28))
    for y, row in enumerate(rows):
        cells = _cells(row)
        assert len(cells) == 28
        for x, (fg, bg) in enumerate(cells):
            pixels[2 * y, x] = fg[0] / 255
            pixels[2 * y + 1, x] = bg[0] / 255
    np.testing.assert_array_equal(pixels, digit)  # every pixel where it was, in its colour
    assert "itorch.image: wrote" not in printed


def test_recompilation_line_and_array_statistics(th):
    run(th, "f(jnp.ones(3))")
    printed = run(th, "f(jnp.ones(4))")
    assert "recompiled <lambda>: a (3) -> (4)" in printed
    run(th, "y = jnp.array([0.0, 1.0, jnp.nan])")
    th.sendline("y?")  # a page, as `? name`: no timing line
    page = expect(th, "NaN 1  Inf 0")
    assert "jax.Array of size 3, float32, 12 B, on cpu:0" in page
    assert re.search(r"min 0  max 1  mean 0\.5  std 0\.5\s", page)
    expect(th, PROMPT)
    assert "NaN!" in run(th, "y")
