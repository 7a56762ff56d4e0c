"""Errors as the user first sees them: a nets error shows the user's frames and the message."""

import pytest

from trepl import printer
from trepl.evaluator import Evaluator

NET = "net = nn.Sequential().add(nn.SpatialConvolution(3, 6, 5, 5)).add(nn.ReLU())"
BAD_INPUT = "net.forward(jnp.ones((2, 1, 32, 32)))"


@pytest.fixture
def ev():
    evaluator = Evaluator()
    assert evaluator.execute(NET).ok
    return evaluator


def test_nets_error_shows_only_user_frames_and_the_message(ev):
    error = ev.execute(BAD_INPUT).error
    assert error.ename == "ModuleError"
    text = printer.format_error(error)
    assert BAD_INPUT in text  # the user's line is quoted
    assert "nets/nn" not in text and "module.py" not in text
    assert "For simplicity, JAX has removed" not in text
    assert "expected 3 input planes (dim 1 of the input), got 1" in text.splitlines()[-2]
    assert text.splitlines()[-1].startswith(f"({error.hidden_frames} library frames hidden")
    assert error.hidden_frames >= 3
    # The full traceback keeps everything for tb().
    assert any("nets/nn/" in line for line in error.full_traceback)


def test_message_line_is_red_even_with_notes(ev):
    error = ev.execute(BAD_INPUT).error
    coloured = printer.format_error(error, color=True)
    message = next(line for line in coloured.splitlines() if "ModuleError" in line)
    assert message.startswith("\x1b[1;31m")
    assert "\x1b[1;31m" not in coloured.splitlines()[-1]  # the hint is dim, not red


def test_tb_prints_the_full_traceback_of_the_last_error(ev):
    ev.execute(BAD_INPUT)
    result = ev.execute("tb()")
    assert "nets/nn/containers.py" in result.stdout
    assert "ModuleError" in result.stdout
    assert Evaluator().execute("tb()").stdout == "tb(): no error yet in this session\n"


def test_error_in_a_users_layer_keeps_the_users_frames(ev):
    ev.execute(
        "class Bad(nn.Module):\n"
        "    def updateOutput(self, input):\n"
        "        raise ValueError('my layer failed')\n"
    )
    error = ev.execute("nn.Sequential().add(Bad()).forward(jnp.ones(3))").error
    text = printer.format_error(error)
    assert "my layer failed" in text
    assert "raise ValueError('my layer failed')" in text  # the user's own frame stays


def test_other_errors_keep_their_frames_but_lose_the_jax_note():
    ev = Evaluator()
    error = ev.execute("jnp.ones(3) @ jnp.ones(4)").error
    text = printer.format_error(error)
    assert "TypeError" in text and "For simplicity" not in text
    assert error.hidden_frames == 0
