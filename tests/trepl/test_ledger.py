"""The memory ledger: who() sorted by bytes with device memory, free(name), the _RESULTS warning."""

import pytest

from trepl import ledger
from trepl.evaluator import Evaluator


@pytest.fixture
def ev():
    return Evaluator()


def test_who_sorts_by_bytes_and_adds_the_ledger(ev):
    ev.execute("a = np.zeros(10, np.float32); b = np.zeros(1000, np.float32); c = 'text'")
    ev.execute("b")
    out = ev.execute("who()").stdout.split("\n")
    names = [line.split()[0] for line in out[1:4]]
    assert names == ["b", "a", "c"]  # the largest array first, then what holds none
    assert "_RESULTS: 1 result(s) holding 3.9 KiB of arrays" in out
    assert "recompilations this session: 0 (recompiles() lists them)" in out
    jax = pytest.importorskip("jax")
    if jax.devices()[0].memory_stats() is None:
        assert "device cpu:0: no memory counters (its backend gives no memory_stats())" in out


def test_free_releases_and_says_what_is_still_held(ev):
    ev.execute("x = jnp.ones((50, 20)); y = jnp.ones(10); alias = y")
    ev.execute("x")
    assert ev.namespace["_LAST"] is ev.namespace["x"]
    out = ev.execute("free('x')").stdout
    assert out == (
        "free: unbound x and dropped 1 result(s) from _RESULTS; released 3.9 KiB of 3.9 KiB "
        "in arrays\n"
    )
    assert "x" not in ev.namespace and ev.namespace["_LAST"] is None
    assert ev.namespace["_RESULTS"] == [] and ev.namespace["_RESULTS"].total_bytes == 0
    out = ev.execute("free('y')").stdout
    assert "released 0 B of 40 B in arrays" in out and "(still bound to alias)" in out


def test_a_preloaded_name_rebound_to_an_array_can_be_freed(ev):
    ev.execute("stats = np.ones(4)")
    assert "released 32 B of 32 B" in ev.execute("free('stats')").stdout


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("free()", "expected one or more variable names as strings"),
        ("free(3)", "expected a variable name as a string (free('x')), got int"),
        ("free('missing')", "free: no variable 'missing' in the namespace"),
        ("free('jnp')", "free: 'jnp' is one of the shell's own names, not yours"),
        ("free('_RESULTS')", "free: '_RESULTS' is one of the shell's own names, not yours"),
    ],
)
def test_free_refuses_with_a_reason(ev, call, message):
    ev.execute("np.ones(3)")  # _RESULTS holds an array: still the shell's
    result = ev.execute(call)
    assert message in result.error.evalue
    assert "jnp" in ev.namespace and "_RESULTS" in ev.namespace


def test_results_warning_fires_once_past_the_share(ev, monkeypatch):
    monkeypatch.setattr(ledger, "WARN_FLOOR", 0)
    limit, what = ledger.memory_limit()
    monkeypatch.setattr(ledger, "WARN_SHARE", 1000 / limit)  # 1000 bytes of that memory
    assert ev.execute("np.zeros(100, np.float32)").warnings == []  # 400 B
    first = ev.execute("np.zeros(200, np.float32)").warnings  # 1200 B held in all
    assert len(first) == 1 and first[0].startswith("warning: _RESULTS holds 1.2 KiB of arrays")
    assert f"of {what}" in first[0] and "free('name') or setresults" in first[0]
    assert ev.execute("np.zeros(1, np.float32)").warnings == []  # said once
    ev.execute("_RESULTS.clear()")
    ev.execute("setresults(1)")
    assert ev.execute("np.zeros(300, np.float32)").warnings != []  # fell below, crossed again


def test_objects_that_raise_on_inspection_do_not_stop_free(capsys):
    class Hostile:
        @property
        def __class__(self):
            raise RuntimeError("inspected")

    import numpy as np

    from trepl import stats

    ns = {"h": Hostile(), "z": np.ones(8), "_RESULTS": [], "_LAST": None}
    free = ledger.Free(ns, set())
    free("z")
    assert "released 64 B of 64 B" in capsys.readouterr().out
    assert not stats.is_array(ns["h"])
    free("h")  # holds no arrays: nothing released, and no error
    assert "released 0 B of 0 B in arrays\n" in capsys.readouterr().out
