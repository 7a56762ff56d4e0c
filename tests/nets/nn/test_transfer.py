"""Transfer functions: formulas, Torch7's feature dim for the SoftMax family, finite
differences, RReLU's random slopes, reprs, errors, PyTorch as an oracle where installed."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(4)


def close(a, b, terms):
    assert_close(a, b, terms=terms)


X = RNG.standard_normal((3, 4)).astype(np.float32)

POINTWISE = [
    (nn.ReLU(), np.maximum(X, 0)),
    (nn.LeakyReLU(), np.where(X > 0, X, 0.01 * X)),
    (nn.LeakyReLU(0.2), np.where(X > 0, X, 0.2 * X)),
    (nn.ELU(), np.where(X > 0, X, np.expm1(X))),
    (nn.ELU(0.5), np.where(X > 0, X, 0.5 * np.expm1(X))),
    (nn.Tanh(), np.tanh(X)),
    (nn.Sigmoid(), 1 / (1 + np.exp(-X))),
]


@pytest.mark.parametrize("module,want", POINTWISE, ids=lambda v: repr(v)[:20])
def test_pointwise_transfer_batch_and_single(module, want):
    terms = path_terms(ELEMENTWISE, 2)  # a library exp or tanh and at most two roundings
    close(module.updateOutput(X), want, terms)
    close(module.updateOutput(X[1]), want[1], terms)


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 5), 1), ((4, 2, 3), 0), ((2, 4, 2, 3), 1)])
def test_softmax_family_uses_torch_feature_dim(shape, axis):
    x = RNG.standard_normal(shape).astype(np.float32)
    # x - max, exp, a sum over the feature dim, the division (or a log and a subtraction)
    terms = path_terms(1, ELEMENTWISE, shape[axis], 1, ELEMENTWISE)
    close(nn.SoftMax().updateOutput(x), softmax_ref(x, axis), terms)
    close(nn.LogSoftMax().updateOutput(x), np.log(softmax_ref(x, axis)), terms)


def test_log_softmax_forward_backward_compiled():
    m = nn.LogSoftMax()
    x = jnp.asarray(X)
    y = m.forward(x)
    g = m.backward(x, jnp.ones_like(y))
    # d/dx sum_j log softmax(x)_j = 1 - C * softmax(x)
    # the forward's path over 4 features, the backward's sum over 4 and its product and difference
    close(g, 1 - 4 * softmax_ref(X, 1), path_terms(1, ELEMENTWISE, 4, 1, ELEMENTWISE, 4, 2))


def test_transfer_reprs_as_torch():
    assert repr(nn.ReLU()) == "nn.ReLU"
    assert repr(nn.LeakyReLU()) == "nn.LeakyReLU(0.01)"
    assert repr(nn.ELU()) == "nn.ELU (alpha:1.000000)"
    assert repr(nn.LogSoftMax()) == "nn.LogSoftMax"


def test_softmax_rejects_five_dims():
    with pytest.raises(ModuleError, match=r"nn\.SoftMax: expected a 1D .* got \(1, 2, 3, 4, 5\)"):
        nn.SoftMax().forward(jnp.zeros((1, 2, 3, 4, 5)))


# ---------------------------------------------------------------- issue 19: the rest of transfer

# Finite differences in float64 (nn.Jacobian, Torch7's step 1e-6): see tests/nets/nn/test_jacobian.
FD_TOL = 1e-6


def _softplus(x, beta=1.0):
    return np.where(beta * x > 20, x, np.log1p(np.exp(beta * x)) / beta)


# name: (builder, formula of the input)
FORMULAS = {
    "PReLU": (lambda: nn.PReLU(), lambda x: np.where(x > 0, x, 0.25 * x)),
    "RReLU-eval": (
        lambda: nn.RReLU(0.1, 0.3).evaluate(),
        lambda x: np.where(x <= 0, x * 0.2, x),
    ),
    "SoftPlus": (lambda: nn.SoftPlus(), _softplus),
    "SoftPlus-beta": (lambda: nn.SoftPlus(30), lambda x: _softplus(x, 30.0)),
    "SoftSign": (lambda: nn.SoftSign(), lambda x: x / (1 + np.abs(x))),
    "SoftShrink": (
        lambda: nn.SoftShrink(0.3),
        lambda x: np.where(x > 0.3, x - 0.3, np.where(x < -0.3, x + 0.3, 0)),
    ),
    "HardShrink": (lambda: nn.HardShrink(), lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    "Threshold": (lambda: nn.Threshold(0.2, -3), lambda x: np.where(x > 0.2, x, -3)),
    "HardTanh": (lambda: nn.HardTanh(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7)),
    "ReLU6": (lambda: nn.ReLU6(), lambda x: np.clip(x, 0, 6)),  # on 6 X, below
    "LogSigmoid": (lambda: nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    "SoftMin": (lambda: nn.SoftMin(), lambda x: softmax_ref(-x, x.ndim - 1)),
    "TanhShrink": (lambda: nn.TanhShrink(), lambda x: x - np.tanh(x)),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_new_transfer_functions_against_formulas_batch_and_single(name):
    build, formula = FORMULAS[name]
    m = build()
    x = X * 6 if name == "ReLU6" else X
    want = formula(np.asarray(x, np.float64))
    # a library exp/log and a few roundings, plus the sum over 4 features for SoftMin
    terms = path_terms(ELEMENTWISE, 4, ELEMENTWISE, 2)
    close(m.updateOutput(x), want, terms)
    close(m.updateOutput(x[1]), want[1], terms)


ELEMENTWISE_LAYERS = [
    lambda: nn.PReLU(),
    lambda: nn.PReLU(3),
    lambda: nn.RReLU(),  # training: the pure call's fixed key draws the same slopes each time
    lambda: nn.RReLU().evaluate(),
    lambda: nn.SoftPlus(2),
    lambda: nn.SoftSign(),
    lambda: nn.SoftShrink(),
    lambda: nn.HardShrink(),
    lambda: nn.Threshold(0.1, 2),
    lambda: nn.HardTanh(),
    lambda: nn.ReLU6(),
    lambda: nn.LogSigmoid(),
    lambda: nn.SoftMin(),
    lambda: nn.TanhShrink(),
]


def _side_by_side(builders, dim):
    """One module holding every layer side by side (nn.Concat), so that one compiled
    finite-difference check covers them all: the Jacobian is checked element by element."""
    return nn.Concat(dim, *(b() for b in builders))


@pytest.mark.parametrize("form", ["batch", "single"])
def test_new_transfer_gradients_match_finite_differences(form):
    shape, dim = ((2, 3), 1) if form == "batch" else ((3,), 0)
    m = _side_by_side(ELEMENTWISE_LAYERS, dim)
    # inputs in [-8, 8] reach ReLU6's upper kink and HardTanh's flat parts
    errors = nn.Jacobian.testAll(m, np.zeros(shape), -8, 8)
    assert set(errors) == {"input", "0.weight", "1.weight"}
    assert max(errors.values()) < FD_TOL, errors
    spatial = nn.Concat(dim, nn.SpatialSoftMax(), nn.SpatialLogSoftMax())
    errors = nn.Jacobian.testAll(spatial, np.zeros((1, 3, 2, 2) if form == "batch" else (3, 2, 2)))
    assert errors["input"] < FD_TOL, errors


def test_spatial_softmax_is_per_pixel_over_planes():
    x = RNG.standard_normal((2, 3, 2, 2)).astype(np.float32)
    terms = path_terms(1, ELEMENTWISE, 3, 1, ELEMENTWISE)
    close(nn.SpatialSoftMax().forward(x), softmax_ref(x, 1), terms)
    close(nn.SpatialLogSoftMax().forward(x[0]), np.log(softmax_ref(x[0], 0)), terms)


def test_prelu_per_channel_weight_and_its_gradient():
    m = nn.PReLU(2)
    assert m.weight.shape == (2,) and np.all(np.asarray(m.weight) == 0.25)
    m.weight = jnp.array([0.1, 2.0])
    x = jnp.array([[-1.0, -1.0], [3.0, -2.0]])
    want = np.float32([[0.1, 2.0], [1, 2]]) * np.float32([[-1, -1], [3, -2]])  # one product each
    np.testing.assert_array_equal(m.forward(x), want)
    m.zeroGradParameters()
    m.backward(x, jnp.ones_like(x))
    # d/da_c sum = sum of the negative inputs of channel c
    np.testing.assert_array_equal(m.gradWeight, [-1.0, -3.0])


def test_rrelu_draws_slopes_in_training_and_averages_in_evaluation():
    nets.manual_seed(3)
    m = nn.RReLU(0.1, 0.3)
    x = -jnp.ones((200,))
    y = np.asarray(m.forward(x))
    slopes = -y
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    # backward multiplies by the same slopes as the forward pass drew
    g = np.asarray(m.backward(x, jnp.ones_like(x)))
    np.testing.assert_array_equal(g, slopes)
    assert not np.array_equal(np.asarray(m.forward(x)), y)  # fresh draws at the next pass
    m.evaluate()
    assert_close(m.forward(x), np.full(200, -0.2), terms=2)


def test_threshold_and_hardtanh_zero_gradient_at_their_kinks():
    x = jnp.array([0.2, 0.3, -1.0, 1.0, 0.0])
    g = nn.Threshold(0.2, 5).backward(x, jnp.ones(5))
    np.testing.assert_array_equal(g, [0, 1, 0, 1, 0])  # x <= th: gradient 0
    g = nn.HardTanh().backward(x, jnp.ones(5))
    np.testing.assert_array_equal(g, [1, 1, 0, 0, 1])  # at min and max: 0, as THNN


def test_new_transfer_reprs_as_torch():
    assert repr(nn.RReLU()) == "nn.RReLU (l:0.125000, u:0.333333)"
    assert repr(nn.PReLU()) == "nn.PReLU"
    assert repr(nn.SoftPlus()) == "nn.SoftPlus"
    assert repr(nn.HardTanh()) == "nn.HardTanh"
    assert getattr(nn.SoftShrink(), "lambda") == 0.5


def test_new_transfer_constructor_and_input_errors():
    with pytest.raises(ModuleError, match=r"nn\.HardTanh: expected max_value .* > -1, got -2"):
        nn.HardTanh(-1, -2)
    with pytest.raises(ModuleError, match=r"nn\.RReLU: expected u .* >= 0.5, got 0.1"):
        nn.RReLU(0.5, 0.1)
    with pytest.raises(ModuleError, match=r"nn\.Threshold: in-place processing requires value"):
        nn.Threshold(0, 1, True)
    with pytest.raises(ModuleError, match=r"nn\.PReLU: expected nOutputPlane .* integer >= 0"):
        nn.PReLU(-1)
    with pytest.raises(ModuleError, match=r"nn\.SoftPlus: expected beta .* > 0, got 0"):
        nn.SoftPlus(0)
    with pytest.raises(
        ModuleError, match=r"nn\.ReLU6: expected inplace \(the in-place flag\) to be a"
    ):
        nn.ReLU6("yes")
    with pytest.raises(ModuleError, match=r"nn\.PReLU: expected 3 channels in dim 1 of the input"):
        nn.PReLU(3).forward(jnp.zeros((2, 4)))
    net = nn.Sequential(nn.Identity(), nn.SoftSign())
    with pytest.raises(ModuleError, match=r"\(1\) nn\.SoftSign: expected an array, got a table"):
        net.forward([jnp.zeros(2)])


def test_new_transfer_against_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x64 = RNG.standard_normal((3, 5))
    pairs = [
        (nn.SoftPlus(2), lambda t: tf.softplus(t, beta=2, threshold=20)),
        (nn.SoftShrink(0.4), lambda t: tf.softshrink(t, 0.4)),
        (nn.HardShrink(0.4), lambda t: tf.hardshrink(t, 0.4)),
        (nn.HardTanh(-0.3, 0.6), lambda t: tf.hardtanh(t, -0.3, 0.6)),
        (nn.LogSigmoid(), tf.logsigmoid),
        (nn.SoftSign(), tf.softsign),
        (nn.SoftMin(), lambda t: tf.softmin(t, 1)),
        (nn.Threshold(0.1, -2), lambda t: tf.threshold(t, 0.1, -2)),
    ]
    for m, ref in pairs:
        t = torch.tensor(x64, requires_grad=True)
        out = ref(t)
        out.backward(torch.ones_like(out))
        x = jnp.asarray(x64, jnp.float32)
        terms = path_terms(ELEMENTWISE, 5, ELEMENTWISE, 2)
        assert_close(m.forward(x), out.detach().numpy(), terms=terms, err_msg=repr(m))
        g = m.backward(x, jnp.ones((3, 5)))
        assert_close(g, t.grad.numpy(), terms=terms, err_msg=repr(m))
