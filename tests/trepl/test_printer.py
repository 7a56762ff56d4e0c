"""Printer: arrays with Torch-like footers, depth-limited containers, timing line, colour."""

import jax.numpy as jnp
import numpy as np

from trepl import printer
from trepl.results import ErrorInfo, ExecResult, HelpInfo


def test_jax_array_values_and_footer():
    text = printer.render(jnp.arange(6, dtype=jnp.float32).reshape(2, 3))
    footer = "[jax.Array of size 2x3, float32, 24 B]"
    assert text.splitlines() == ["[[0. 1. 2.]", " [3. 4. 5.]]", footer]


def test_numpy_array_footer_and_scalar_shape():
    assert printer.render(np.zeros((), dtype=np.int64)).endswith(
        "[numpy.ndarray of size (), int64, 8 B]"
    )


def test_large_array_is_truncated_numpy_style():
    text = printer.render(jnp.zeros((2000,)))
    assert "..." in text and len(text.splitlines()) < 5
    assert text.endswith("[jax.Array of size 2000, float32, 7.8 KiB]")


def test_sharded_array_names_its_devices():
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = jax.devices()[:4]
    mesh = Mesh(np.array(devices), ("d",))
    x = jax.device_put(jnp.zeros(8), NamedSharding(mesh, PartitionSpec("d")))
    assert printer.array_footer(x).endswith(f"on sharded over {len(devices)} cpu devices]")


def test_nested_containers_depth_limit_and_arrays_inside():
    value = {"a": [1, [2, [3, [4]]]], "w": jnp.ones((2, 2))}
    assert printer.render(value, depth=3) == (
        "{'a': [1, [2, [...]]], 'w': jax.Array(2x2, float32)}"
    )
    assert printer.render((1,)) == "(1,)"


def test_long_container_breaks_lines_and_hides_excess():
    text = printer.render(list(range(150)), width=40)
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    assert lines[-2].strip() == "... (50 more),"


def test_colour_only_when_asked():
    plain = printer.render([1, "a", None])
    assert "\x1b[" not in plain
    coloured = printer.render([1, "a", None], color=True)
    assert "\x1b[36m1\x1b[0m" in coloured and "\x1b[32m'a'\x1b[0m" in coloured


def test_objects_use_their_repr():
    class Tree:
        def __repr__(self):
            return "nn.Sequential {\n  (1): nn.Identity\n}"

    assert printer.render(Tree()) == "nn.Sequential {\n  (1): nn.Identity\n}"


def test_timing_is_right_aligned_with_compile_apart():
    line = printer.format_timing(ExecResult(elapsed=0.0012), width=30)
    assert line == " " * 21 + "[0.0012s]"
    line = printer.format_timing(
        ExecResult(elapsed=0.5, compile_time=0.3, compile_count=2), width=50
    )
    assert line.endswith("[0.2000s + 0.3000s compile (2)]") and len(line) == 50


def test_error_message_line_in_red():
    lines = ["Traceback:", '  File "<th-1>", line 1', "ValueError: bad"]
    error = ErrorInfo("ValueError", "bad", lines)
    assert printer.format_error(error).splitlines()[-1] == "ValueError: bad"
    assert "\x1b[1;31mValueError: bad\x1b[0m" in printer.format_error(error, color=True)


def test_help_page_colour_keeps_text():
    info = HelpInfo(name="f", found=True, text="f(a)\ntype: function\n\nDoc.")
    assert printer.format_help(info) == info.text
    assert printer.format_help(info, color=True).startswith("\x1b[1mf(a)\x1b[0m")


def test_scheme_follows_colorfgbg():
    assert printer.scheme_from_env({"COLORFGBG": "0;15"}) == "light"
    assert printer.scheme_from_env({"COLORFGBG": "15;default;0"}) == "dark"
    assert printer.scheme_from_env({}) == "dark"
    assert "\x1b[34m1\x1b[0m" in printer.render(1, color="light")
    assert "\x1b[36m1\x1b[0m" in printer.render(1, color="dark")


def test_timing_stops_at_a_bounded_column():
    line = printer.format_timing(ExecResult(elapsed=0.0012), width=160)
    assert len(line) == printer.TIMING_COLUMN
