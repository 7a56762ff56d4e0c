"""`$ cmd`: aliases, streaming, exit status."""

import pytest

from trepl.shell import expand_aliases, run_shell


def test_trepl_aliases():
    assert expand_aliases("ll /tmp") == "ls -lhF /tmp"
    assert expand_aliases("la") == "ls -ahF"
    assert expand_aliases("lsof -i") == "lsof -i"


def test_output_streams_in_order_and_status_returns():
    chunks = []
    output, status = run_shell("echo one; echo two >&2; exit 5", chunks.append)
    assert output == "one\ntwo\n" and "".join(chunks) == output
    assert status == 5


def test_empty_command_is_rejected():
    with pytest.raises(ValueError, match=r"expected a shell command after '\$'"):
        run_shell("  ")
