"""The kernel side of stats(x), who(), free(name) and the recompilation line, through
jupyter_client against one running itorch kernel (shared by the module, in file order)."""

import re

import numpy as np

from .jupyter_helpers import execute, of_type, stream_text


def _ok(kc, code):
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    return outputs


def test_recompilation_line_names_the_argument_that_changed(kc):
    _ok(kc, "def forward(input, scale): return input * scale\nf = jax.jit(forward)")
    first = _ok(kc, "f(jnp.ones((4, 3)), 2.0).shape")
    assert "recompiled" not in stream_text(first)  # a first compilation is not a recompilation
    again = _ok(kc, "f(jnp.ones((5, 3)), 2.0).shape")
    assert "recompiled forward: input (4,3) -> (5,3)\n" in stream_text(again)
    same = _ok(kc, "f(jnp.zeros((5, 3)), 3.0).shape")  # same types: no compilation, no line
    assert "recompiled" not in stream_text(same)
    _ok(kc, "recompiles(False)")
    hidden = _ok(kc, "f(jnp.ones((6, 3), jnp.bfloat16), 2.0).shape")
    assert "recompiled" not in stream_text(hidden)
    listed = stream_text(_ok(kc, "recompiles(True); recompiles()"))
    assert listed.startswith("2 recompilation(s) this session; the line after a cell is on")
    # (JAX compares with the closest earlier call: either float32 shape may be named)
    assert re.search(r"recompiled forward: input float32\([45],3\) -> bfloat16\(6,3\)", listed)


def test_stats_of_an_array_with_nan_and_inf(kc):
    outputs = _ok(kc, "v = jnp.array([1.0, 2.0, 3.0, 4.0, jnp.nan, -jnp.inf])\nstats(v)")
    text = of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]
    values = np.array([1.0, 2.0, 3.0, 4.0])
    head, numbers, bad, hist = text.split("\n")[:4]
    assert head == "jax.Array of size 6, float32, 24 B, on cpu:0"
    found = dict(re.findall(r"(min|max|mean|std) (\S+)", numbers))
    assert float(found["mean"]) == values.mean() and float(found["max"]) == values.max()
    assert abs(float(found["std"]) - values.std()) < 1e-5 * values.std()
    assert bad.startswith("NaN 1  Inf 1")
    assert re.fullmatch(r"1 \|[ ▁-█]{16}\| 4", hist)
    shown = of_type(_ok(kc, "v"), "execute_result")[0]["content"]["data"]["text/plain"]
    assert shown.endswith("[jax.Array of size 6, float32, 24 B] NaN! Inf!")
    reply, _ = execute(kc, "v?")  # the statistics as the pager's page
    page = reply["payload"][0]["data"]["text/plain"]
    assert page.startswith("jax.Array of size 6, float32, 24 B, on cpu:0\n") and "NaN 1" in page
    refused = execute(kc, "stats([1, 2])")[0]
    assert refused["status"] == "error" and "expected a numpy or JAX array" in refused["evalue"]


def test_who_sorts_by_bytes_and_free_reports_what_it_released(kc):
    _ok(kc, "small = jnp.ones(10); big = jnp.ones((100, 100)); alias = small")
    _ok(kc, "big")  # now also in _RESULTS and _LAST
    table = stream_text(_ok(kc, "who()"))
    rows = [line.split()[0] for line in table.split("\n")[1:] if "jax.Array" in line]
    assert rows.index("big") < rows.index("small") and rows.index("big") < rows.index("v")
    assert "device cpu:0: no memory counters (its backend gives no memory_stats())" in table
    assert re.search(r"recompilations this session: [1-9]", table)
    freed = stream_text(_ok(kc, "free('big')")).split("\n")[0]  # then the timing line
    assert freed == (
        "free: unbound big and dropped 1 result(s) from _RESULTS; "
        "released 39.1 KiB of 39.1 KiB in arrays"
    )
    kept = stream_text(_ok(kc, "free('small')"))
    assert "released 0 B of 40 B in arrays" in kept and "still bound to alias" in kept
    reply = execute(kc, "free('nothing_here')")[0]
    assert reply["status"] == "error" and reply["evalue"] == (
        "free: no variable 'nothing_here' in the namespace"
    )
    assert "big" not in stream_text(_ok(kc, "who()"))
