"""GradientReversal and L1Penalty: identity forward, Torch7's hand-written gradients, also
inside compiled training steps and a user's jax.grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError

RNG = np.random.default_rng(19)
X = RNG.standard_normal((2, 3)).astype(np.float32)


@pytest.mark.parametrize("x", [X, X[0]], ids=["batch", "single"])
def test_gradient_reversal_flips_and_scales_the_gradient(x):
    m = nn.GradientReversal(0.5)
    np.testing.assert_array_equal(m.forward(x), x)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(m.backward(x, g), -0.5 * g)  # one product: exact
    m.setLambda(2)  # a new hyper-parameter: the next pass compiles anew
    m.forward(x)
    np.testing.assert_array_equal(m.backward(x, g), -2 * g)


def test_gradient_reversal_inside_a_network_and_jax_grad():
    lin = nn.Linear(3, 1)
    net = nn.Sequential(nn.GradientReversal(), lin)
    params, buffers = net.split()

    def loss(x):
        return net.call(params, buffers, x)[0].sum()

    g = jax.grad(loss)(jnp.asarray(X))
    # d/dx of w.x is w; reversed: -w for every row (a negation: exact)
    np.testing.assert_array_equal(g, -np.tile(np.asarray(lin.weight), (2, 1)))
    net.zeroGradParameters()
    net.forward(X)
    net.backward(X, jnp.ones((2, 1)))
    np.testing.assert_array_equal(lin.gradWeight, X.sum(0, keepdims=True))  # layers above: as is


@pytest.mark.parametrize("x", [X, X[0]], ids=["batch", "single"])
def test_l1_penalty_adds_the_sign_to_the_gradient(x):
    m = nn.L1Penalty(0.3)
    np.testing.assert_array_equal(m.forward(x), x)
    g = np.ones(x.shape, np.float32)
    np.testing.assert_array_equal(m.backward(x, g), np.float32(0.3) * np.sign(x) + g)
    m = nn.L1Penalty(0.3, True, False)  # size-averaged, without the incoming gradient
    np.testing.assert_array_equal(m.backward(x, g), np.float32(0.3 / x.size) * np.sign(x))
    np.testing.assert_allclose(float(m.penalty(x)), 0.3 / x.size * np.abs(x).sum(), rtol=1e-6)


def test_gradient_layers_reprs_and_errors():
    assert repr(nn.GradientReversal()) == "nn.GradientReversal"
    assert getattr(nn.GradientReversal(), "lambda") == 1.0
    with pytest.raises(ModuleError, match=r"nn\.L1Penalty: expected l1weight .* finite number"):
        nn.L1Penalty("0.1")
    with pytest.raises(ModuleError, match=r"nn\.GradientReversal: expected an array, got a table"):
        nn.GradientReversal().forward([X])


def test_zero_grad_passes_values_and_stops_the_gradient():
    """ZeroGrad: the identity forward on an array or a table; zero gradients, so only the other
    path of a residual sum reaches the input."""
    m = nn.ZeroGrad()
    np.testing.assert_array_equal(m.forward(X), X)
    np.testing.assert_array_equal(m.backward(X, jnp.ones_like(X)), np.zeros_like(X))
    table = [X, X[0]]
    out = m.forward(table)
    np.testing.assert_array_equal(out[1], X[0])
    g = m.backward(table, [jnp.ones_like(X), jnp.ones(3)])
    assert [np.abs(np.asarray(a)).max() for a in g] == [0, 0]
    net = nn.Sequential(nn.ConcatTable(nn.ZeroGrad(), nn.MulConstant(3.0)), nn.CAddTable())
    np.testing.assert_array_equal(net.forward(X[0]), 4 * X[0])
    np.testing.assert_array_equal(net.backward(X[0], jnp.ones(3)), [3.0, 3.0, 3.0])
    assert repr(nn.ZeroGrad()) == "nn.ZeroGrad"
