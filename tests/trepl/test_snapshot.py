"""save_session / load_session through the evaluator, on real files: what comes back, what is
listed as not saved, and the one-line refusals of bad snapshots."""

import numpy as np

from trepl.evaluator import Evaluator


def run(ev, code):
    result = ev.execute(code)
    assert result.error is None, (code, result.error)
    return result.value


SESSION = [
    "x = jnp.arange(6.0).reshape(2, 3)",
    "counts = np.array([3, 1, 2], np.int64)",
    "net = nn.Sequential().add(nn.Linear(3, 2)).add(nn.Tanh())",
    "first = net.modules[0]",
    "cfg = {'lr': 0.1, 'sizes': (1, 2), 'w': jnp.ones(2), 'tags': ['a', None]}",
    "f = lambda a: a",
    "import os",
    "import threading; g = threading.Lock()",
]


def test_snapshot_round_trip_in_a_new_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ev = Evaluator()
    for line in SESSION:
        run(ev, line)
    report = run(ev, "save_session('run1')")
    text = repr(report)
    assert text.startswith("saved run1.session: 2 array(s) (counts, x), 2 module(s) (first, net)")
    assert "not saved: f: code (a function)" in text and "not saved: os: a module" in text
    assert "not saved: g: a lock" in text and "not saved: threading: a module" in text
    assert (tmp_path / "run1.session").is_file()
    assert not list(tmp_path.glob(".run1.session.*"))  # the atomic write's temporary is gone

    fresh = Evaluator()
    report = run(fresh, "load_session('run1')")
    assert report.history == SESSION
    ns = fresh.namespace
    np.testing.assert_array_equal(np.asarray(ns["x"]), np.arange(6.0).reshape(2, 3))
    assert type(ns["counts"]) is np.ndarray and ns["counts"].dtype == np.int64
    assert run(fresh, "type(x).__module__").startswith("jax")
    assert run(fresh, "first is net.modules[0]")  # one module under two names stays one
    np.testing.assert_array_equal(
        np.asarray(run(fresh, "net.forward(x)")), np.asarray(run(ev, "net.forward(x)"))
    )
    assert run(fresh, "cfg['sizes'], cfg['tags'], cfg['lr']") == ((1, 2), ["a", None], 0.1)
    np.testing.assert_array_equal(np.asarray(ns["cfg"]["w"]), np.ones(2))
    assert "f" not in ns and "g" not in ns


def test_own_module_class_loads_once_defined_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = (
        "class Twice(nn.Module):\n"
        "    def updateOutput(self, input):\n"
        "        self.output = input * 2\n"
        "        return self.output\n"
    )
    ev = Evaluator()
    run(ev, source)
    run(ev, "double = Twice()")
    assert "Twice" in repr(run(ev, "save_session('own')"))  # the class itself: not saved
    fresh = Evaluator()
    error = fresh.execute("load_session('own')").error
    assert error.ename == "SnapshotError" and "own.session" in error.evalue
    assert "outside the nets package" in error.evalue
    run(fresh, source)
    run(fresh, "load_session('own')")
    assert run(fresh, "float(double.forward(jnp.ones(1))[0])") == 2.0


def test_bad_snapshots_are_refused_naming_file_and_what(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ev = Evaluator()
    run(ev, "x = jnp.ones(4)")
    run(ev, "save_session('good')")
    data = bytearray((tmp_path / "good.session").read_bytes())
    data[-3] ^= 0xFF  # inside x's bytes
    (tmp_path / "flipped.session").write_bytes(bytes(data))
    (tmp_path / "junk.session").write_bytes(b"not a snapshot at all")
    run(ev, "nets.save('plain.nets', nn.Linear(2, 2))")
    cases = {
        "load_session('flipped')": "flipped.session cannot be read: load: flipped.session is "
        "corrupt: array 'extra:name:x' fails its checksum",
        "load_session('junk')": "junk.session cannot be read: load: junk.session is not a nets "
        "checkpoint",
        "load_session('plain.nets')": "plain.nets is a nets checkpoint but not a session snapshot",
        "load_session('missing')": "no snapshot at missing.session",
        "save_session(3)": "expected a snapshot name such as 'run1', got 3",
    }
    for code, message in cases.items():
        result = ev.execute(code)
        assert result.error is not None and message in result.error.evalue, (code, result.error)
    assert run(ev, "float(x.sum())") == 4.0  # the session goes on
