"""Completion on live objects: names, nested attributes, dict keys, paths in strings, jedi."""

import time

import pytest

from trepl.completer import Completer
from trepl.evaluator import Evaluator


class _Layer:
    """Stand-in with Torch-like fields, used only while nets.nn has no Linear yet."""

    def __init__(self):
        self.weight = [[0.0]]
        self.bias = [0.0]


def _linear():
    from nets import nn

    if hasattr(nn, "Linear"):
        return nn.Linear(3, 2)
    return _Layer()


@pytest.fixture
def ev():
    ev = Evaluator()
    ev.namespace["net"] = type("Net", (), {"modules": [_linear()]})()
    ev.namespace["cfg"] = {"learningRate": 0.1, "momentum": 0.9, 3: "three"}
    return ev


def _complete(ev, code, cursor=None):
    return ev.complete(code, len(code) if cursor is None else cursor)


def test_names_keywords_and_builtins(ev):
    ev.execute("my_variable = 1")
    found = _complete(ev, "my_va")
    assert found.matches == ["my_variable"] and (found.cursor_start, found.cursor_end) == (0, 5)
    assert "while" in _complete(ev, "whi").matches
    assert "isinstance" in _complete(ev, "isins").matches
    assert "_RESULTS" not in _complete(ev, "").matches  # private names only on request
    assert "_RESULTS" in _complete(ev, "_RE").matches


def test_attribute_of_lazily_loaded_module():
    from nets import nn

    ev = Evaluator()
    prefix = "Spa" if hasattr(nn, "SpatialConvolution") else "Seq"
    found = _complete(ev, f"x = nn.{prefix}")
    assert found.matches and all(m.startswith(prefix) for m in found.matches)
    assert found.cursor_start == len("x = nn.")
    assert "class" in found.types


def test_listing_attributes_does_not_run_properties():
    """A module's `output` after forward is computed when first read; tab must not read it."""
    import jax.numpy as jnp

    from nets import nn
    from tests.compile_events import compilations, named

    ev = Evaluator()
    net = nn.Sequential(nn.Linear(3, 2), nn.Tanh()).evaluate()
    net.forward(jnp.ones((4, 3)))
    ev.namespace["net"] = net
    with compilations() as compiled:
        found = _complete(ev, "net.modules[0].out")
    assert found.matches == ["output"] and found.types == ["property"]
    assert not named(compiled, "outputs")  # nothing ran
    with compilations() as compiled:
        found = _complete(ev, "net.modules[0].output.sha")  # completing *on* output reads it
    assert "shape" in found.matches
    assert named(compiled, "outputs")


def test_nested_attribute_through_index(ev):
    found = _complete(ev, "net.modules[0].wei")
    assert found.matches == ["weight"]
    assert found.cursor_start == len("net.modules[0].")


def test_attribute_chain_never_calls_anything(ev):
    ev.execute("calls = []\ndef f():\n    calls.append(1)\n    return 1")
    _complete(ev, "f().re")
    assert ev.namespace["calls"] == []


def test_dict_keys_quoted_and_unquoted(ev):
    found = _complete(ev, "cfg['le")
    assert found.matches == ["learningRate']"]
    assert found.cursor_start == len("cfg['")
    bare = _complete(ev, "cfg[")
    assert "'momentum']" in bare.matches and "3]" in bare.matches


def test_paths_inside_strings(ev, tmp_path):
    (tmp_path / "data_train.csv").write_text("")
    (tmp_path / "data_dir").mkdir()
    code = f"open('{tmp_path}/data_"
    found = _complete(ev, code)
    assert found.matches == ["data_dir/", "data_train.csv"]
    assert found.cursor_start == len(code) - len("data_")


def test_no_path_completion_after_string_is_closed(ev, tmp_path):
    found = _complete(ev, f"x = '{tmp_path}' + str(le")
    assert "len" in found.matches


def test_cursor_in_the_middle(ev):
    ev.execute("alpha_1 = 1")
    code = "alp + 1"
    found = ev.complete(code, 3)
    assert found.matches == ["alpha_1"] and found.cursor_end == 3


def test_import_statements_go_to_jedi(ev):
    found = _complete(ev, "import jso")
    assert "json" in found.matches


def test_call_result_attributes_go_to_jedi(ev):
    found = _complete(ev, "str(1).upp")
    assert found.matches == ["upper"]


def test_bad_cursor_is_a_clear_error():
    completer = Completer(dict)
    with pytest.raises(ValueError, match="cursor_pos 9 is outside the code"):
        completer.complete("abc", 9)


def test_after_dollar_or_bang_programs_then_paths(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("frobnicate", "frobulate"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "frobdata").write_text("not a program")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results.txt").write_text("")
    completer = Completer(dict)
    found = completer.complete("$ frob", 6)
    assert found.matches == ["frobnicate", "frobulate"] and found.cursor_start == 2
    assert completer.complete("!l", 2).matches[:3] == ["la", "ll", "lla"]  # TREPL's aliases
    found = completer.complete("$ frobnicate res", 16)
    assert found.matches == ["results.txt"] and found.cursor_start == 13
    assert completer.complete("$ cat b", 7).matches == ["bin/"]


LONG_INPUTS = ["a" * 40_000, "x = '" + "a" * 40_000, "d[" + "a" * 40_000, "a" * 40_000 + ".",
               "f(" * 20_000, "x = 1\n" * 20_000 + "x."]  # fmt: skip


@pytest.mark.parametrize("code", LONG_INPUTS, ids=lambda code: code[:8])
def test_long_input_completes_at_once(ev, code):
    """`'a' * 40000` took 12.4 s to complete: only the text near the cursor is looked at.
    (jedi is warmed first: its first completion loads its caches.)"""
    ev.complete("str(1).upp")
    start = time.perf_counter()
    found = ev.complete(code)
    assert time.perf_counter() - start < 3.0, code[:10]
    assert found.cursor_end == len(code)
