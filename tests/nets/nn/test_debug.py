"""PrintSize, NaN and Profile: what they print and raise at every compiled pass."""

import jax.numpy as jnp
import numpy as np
import pytest
from jax.errors import JaxRuntimeError

from nets import nn
from nets._errors import ModuleError

X = np.arange(6, dtype=np.float32).reshape(2, 3)


def test_print_size_prints_input_and_gradient_sizes_every_pass(capfd):
    net = nn.Sequential(nn.PrintSize("probe"), nn.Linear(3, 2))
    for _ in range(2):
        y = net.forward(X)
        net.backward(X, jnp.ones_like(y))
    out = capfd.readouterr().out
    assert out.count("probe:input\n(2, 3)\n") == 2
    assert out.count("probe:gradOutput\n(2, 3)\n") == 2
    np.testing.assert_array_equal(y, net.modules[1].forward(X))  # the identity
    nn.PrintSize().forward([jnp.ones(2), jnp.ones((1, 2))])
    assert "PrintSize:input\n{(2,), (1, 2)}" in capfd.readouterr().out
    assert repr(nn.PrintSize()) == "nn.PrintSize"


def test_nan_raises_naming_the_module_and_the_place():
    m = nn.NaN(nn.Linear(3, 2), 7)
    assert repr(m) == "nn.NaN(7) @ nn.Linear(3 -> 2)"
    np.testing.assert_array_equal(m.forward(X), m.modules[0].forward(X))  # no NaN: as is
    bad = X.copy()
    bad[0, 1] = np.nan
    with pytest.raises(
        JaxRuntimeError, match=r"nn\.NaN\(7\) @ nn\.Linear\(3 -> 2\): NaN found in input"
    ):
        np.asarray(m.forward(bad))
    m.modules[0].weight = m.modules[0].weight.at[0, 0].set(jnp.nan)
    with pytest.raises(JaxRuntimeError, match=r"nn\.NaN\(7\) @ .*: NaN found in parameters"):
        np.asarray(m.forward(X))
    # NaN made inside the module (log of negatives), then NaN in a gradient arriving
    log = nn.NaN(nn.Log(), 8)
    with pytest.raises(JaxRuntimeError, match=r"nn\.NaN\(8\) @ nn\.Log: NaN found in output"):
        np.asarray(log.forward(-jnp.ones(3)))
    log.forward(jnp.ones(3))
    with pytest.raises(JaxRuntimeError, match=r"nn\.NaN\(8\) @ nn\.Log: NaN found in gradOutput"):
        np.asarray(log.backward(jnp.ones(3), jnp.full(3, jnp.nan)))
    # a gradient made NaN by the module itself: sqrt's at 0 is fine in Torch7, 0 * inf is not
    sq = nn.NaN(nn.Power(0.5), 9)
    sq.forward(jnp.zeros(3))
    with pytest.raises(JaxRuntimeError, match=r"nn\.NaN\(9\) @ nn\.Power: NaN found in gradInput"):
        np.asarray(sq.backward(jnp.zeros(3), jnp.zeros(3)))


def test_nan_ids_count_up_and_errors():
    a, b = nn.NaN(nn.Tanh()), nn.NaN(nn.Tanh())
    assert b.id == a.id + 1
    with pytest.raises(ModuleError, match=r"nn\.NaN: expected an nn\.Module to watch, got 3"):
        nn.NaN(3)


def test_profile_counts_and_reports_passes(capfd):
    m = nn.Profile(nn.Linear(3, 2), 2)
    assert repr(m) == "nn.Profile @ nn.Linear(3 -> 2)" and m.name == "nn.Linear"
    y = m.forward(X)
    m.backward(X, jnp.ones_like(y))
    assert (m.numFwds, m.numBwds) == (1, 1)
    assert m.summedFwdTime >= 0 and m.summedBwdTime >= 0
    m.forward(X)
    m.backward(X, jnp.ones_like(y))
    out = capfd.readouterr().out
    assert "nn.Linear took " in out and " seconds for 2 forward passes" in out
    assert " seconds for 2 backward passes" in out
    assert (m.numFwds, m.numBwds) == (0, 0)  # reset after each report, as Torch7
    other = nn.Profile(nn.Linear(3, 2), 2, "second")
    other.forward(X)
    assert (other.numFwds, m.numFwds) == (1, 0)  # its own counters, its own compiled code
    with pytest.raises(ModuleError, match=r"nn\.Profile: expected print_interval .* >= 1"):
        nn.Profile(nn.Tanh(), 0)
