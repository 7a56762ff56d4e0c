"""Parsing TREPL's prefixes and suffixes."""

from trepl.commands import Command, parse


def test_help_forms():
    assert parse("? nn.Linear") == Command("help", "nn.Linear", detail=0)
    assert parse("?? nn.Linear") == Command("help", "nn.Linear", detail=1)
    assert parse("jnp.zeros?") == Command("help", "jnp.zeros", detail=0)
    assert parse("jnp.zeros??") == Command("help", "jnp.zeros", detail=1)
    assert parse("  ?  ") == Command("selfhelp")


def test_shell_and_empty():
    assert parse("$ ls -la") == Command("shell", "ls -la")
    assert parse("   \n ") == Command("empty")


def test_code_and_semicolon():
    assert parse("x = 1;") == Command("code", "x = 1;", silent=True)
    assert parse("f(';')") == Command("code", "f(';')", silent=False)
    assert parse("x;  # done") == Command("code", "x;  # done", silent=True)


def test_multi_line_cells_are_always_code():
    cell = "x = 1\n? y"
    assert parse(cell).kind == "code"
    assert parse("a = 'is this?'").kind == "code"


def test_ipython_habits():
    assert parse("!ls -la") == Command("shell", "ls -la")
    assert parse("%timeit f(x)") == Command("magic", "f(x)", magic="timeit")
    assert parse("%tb") == Command("magic", "", magic="tb")
    assert parse("x = 5 % 3").kind == "code"
    assert parse("%timeit f(x)\ny = 1").kind == "code"  # magics are one-line cells
