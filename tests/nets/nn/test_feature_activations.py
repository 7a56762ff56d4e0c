"""CReLU, GatedLinearUnit and Maxout: formulas against numpy, batch and single sample, finite
differences, printed forms, bad arguments and inputs, a checkpoint round trip."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(23)
X = RNG.standard_normal((3, 4)).astype(np.float32)
X64 = X.astype(np.float64)
FD_TOL = 1e-6  # float64 central differences with Torch7's step (see test_jacobian)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_crelu_joins_both_halves_along_the_feature_dim():
    want = np.concatenate([np.maximum(X64, 0), np.maximum(-X64, 0)], axis=1)
    np.testing.assert_array_equal(nn.CReLU(1).forward(X), want)  # selections: exact
    np.testing.assert_array_equal(nn.CReLU(1).forward(X[2]), want[2])
    x3 = RNG.standard_normal((2, 2, 3)).astype(np.float32)  # (C, H, W): the planes double
    y = nn.CReLU(3).forward(x3)
    np.testing.assert_array_equal(y, np.concatenate([np.maximum(x3, 0), np.maximum(-x3, 0)]))


def test_gated_linear_unit_halves_the_chosen_dim():
    terms = path_terms(ELEMENTWISE, 2)  # a library exp, a division, a product
    assert_close(nn.GatedLinearUnit().forward(X), X64[:, :2] * _sigmoid(X64[:, 2:]), terms=terms)
    assert_close(nn.GatedLinearUnit().forward(X[0]), X64[0, :2] * _sigmoid(X64[0, 2:]), terms=terms)
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    assert_close(
        nn.GatedLinearUnit(0).forward(x), x[:2] * _sigmoid(x[2:].astype(float)), terms=terms
    )


def test_maxout_is_the_max_of_linear_pieces():
    m = nn.Maxout(4, 3, 2)
    w, b = np.asarray(m.weight, np.float64), np.asarray(m.bias, np.float64)
    pieces = (X64 @ w.T + b).reshape(3, 2, 3)  # View(maxoutNumber, outputSize)
    assert_close(m.forward(X), pieces.max(1), terms=4 + 1)  # a dot of 4 and the bias
    assert_close(m.forward(X[1]), pieces[1].max(0), terms=4 + 1)
    assert m.weight.shape == (6, 4) and np.abs(w).max() <= 0.5  # Linear's 1/sqrt(inputSize)


FEATURE_ACTIVATIONS = [
    lambda: nn.CReLU(1),
    lambda: nn.GatedLinearUnit(),
    lambda: nn.Maxout(4, 3, 2),
    lambda: nn.TanhShrink(),
]


@pytest.mark.parametrize("form", ["batch", "single"])
def test_feature_activation_gradients_match_finite_differences(form):
    shape, dim = ((2, 4), 1) if form == "batch" else ((4,), 0)
    m = nn.Concat(dim, *(build() for build in FEATURE_ACTIVATIONS))
    errors = nn.Jacobian.testAll(m, np.zeros(shape))
    assert set(errors) == {"input", "2.weight", "2.bias"}
    assert max(errors.values()) < FD_TOL, errors


def test_printed_forms_and_errors():
    assert repr(nn.CReLU(3)) == "nn.CReLU()"
    assert repr(nn.GatedLinearUnit()) == "nn.GatedLinearUnit"
    assert repr(nn.Maxout(4, 3, 2)) == "nn.Maxout(4 -> 3, 2 pieces)"
    with pytest.raises(ModuleError, match=r"nn\.CReLU: expected nInputDims .* integer >= 1, got 0"):
        nn.CReLU(0)
    with pytest.raises(
        ModuleError, match=r"nn\.CReLU\(\): expected a sample of 3 dimensions or a batch of them"
    ):
        nn.CReLU(3).forward(X)
    with pytest.raises(
        ModuleError, match=r"nn\.GatedLinearUnit: expected an even size in dim 1 of the input"
    ):
        nn.GatedLinearUnit().forward(jnp.zeros((2, 3)))
    with pytest.raises(ModuleError, match=r"nn\.GatedLinearUnit: expected an array of at least 1"):
        nn.GatedLinearUnit().forward(jnp.float32(1))
    with pytest.raises(ModuleError, match=r"nn\.Maxout: expected maxoutNumber .* >= 1, got 0"):
        nn.Maxout(4, 3, 0)
    with pytest.raises(ModuleError, match=r"nn\.Maxout: expected no preprocess module"):
        nn.Maxout(4, 3, 2, nn.ReLU())
    with pytest.raises(ModuleError, match=r"expected input \(N, 4\) or \(4,\), got \(2, 5\)"):
        nn.Maxout(4, 3, 2).forward(jnp.zeros((2, 5)))


def test_feature_activations_survive_a_checkpoint(tmp_path):
    net = nn.Sequential(nn.Maxout(4, 6, 2), nn.GatedLinearUnit(1), nn.CReLU(1), nn.TanhShrink())
    want = net.forward(X)
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(X), want)
