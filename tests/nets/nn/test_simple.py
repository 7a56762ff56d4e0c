"""Simple layers: outputs against formulas, Torch7 shapes and reprs, initialisation, errors."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import assert_close

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, terms):
    assert_close(a, b, terms=terms)


# ----------------------------------------------------------------------------- Linear


def test_linear_output_batch_and_single():
    m = nn.Linear(4, 3)
    x = rand(5, 4)
    w, b = np.asarray(m.weight), np.asarray(m.bias)
    close(m.forward(x), x @ w.T + b, 4 + 1)  # 4 inputs and the bias
    close(m.forward(x[2]), x[2] @ w.T + b, 4 + 1)
    assert m.weight.shape == (3, 4) and m.bias.shape == (3,)
    assert m.gradWeight.shape == (3, 4) and m.gradBias.shape == (3,)


def test_linear_reset_is_torch_uniform_and_seeded():
    nets.manual_seed(5)
    a = nn.Linear(100, 50)
    nets.manual_seed(5)
    b = nn.Linear(100, 50)
    np.testing.assert_array_equal(a.weight, b.weight)
    bound = 1 / math.sqrt(100)
    w = np.asarray(a.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    a.reset(0.5)
    assert np.abs(np.asarray(a.weight)).max() <= 0.5 * math.sqrt(3)


def test_linear_without_bias():
    m = nn.Linear(3, 2, False)
    assert m.bias is None
    x = rand(4, 3)
    close(m.forward(x), x @ np.asarray(m.weight).T, 3)
    assert repr(m) == "nn.Linear(3 -> 2) without bias"
    assert len(m.parameters()[0]) == 1
    n = nn.Linear(3, 2)
    assert n.noBias() is n and n.bias is None and n.getParameters()[0].shape == (6,)


def test_linear_backward_gives_torch_gradients():
    m = nn.Linear(4, 3)
    x, g = rand(5, 4), rand(5, 3)
    m.zeroGradParameters()
    m.forward(x)
    gin = m.backward(x, g)
    close(gin, g @ np.asarray(m.weight), 3)  # over the 3 outputs
    close(m.gradWeight, g.T @ x, 5)  # over the batch of 5
    close(m.gradBias, g.sum(0), 5)


def test_linear_repr_and_errors():
    m = nn.Linear(400, 120)
    assert repr(m) == "nn.Linear(400 -> 120)"
    with pytest.raises(ModuleError, match=r"nn\.Linear\(400 -> 120\): expected input of size 400 "):
        m.forward(jnp.zeros((128, 256)))
    with pytest.raises(ModuleError, match=r"got \(2, 3, 400\)"):
        m.forward(jnp.zeros((2, 3, 400)))
    # the module stays usable after the error
    assert m.forward(jnp.zeros((2, 400))).shape == (2, 120)


# ------------------------------------------------------------------------ Identity, MulConstant


def test_identity_and_mulconstant():
    x = rand(2, 3)
    np.testing.assert_array_equal(nn.Identity().forward(x), x)
    m = nn.MulConstant(2.5)
    np.testing.assert_array_equal(m.forward(x), 2.5 * x)  # the same one float32 product
    np.testing.assert_array_equal(m.backward(x, np.ones_like(x)), np.full_like(x, 2.5))
    assert repr(m) == "nn.MulConstant" and repr(nn.Identity()) == "nn.Identity"
    with pytest.raises(ValueError, match="to be a finite number, got .2."):
        nn.MulConstant("2")


# ----------------------------------------------------------------------------- View, Reshape


@pytest.mark.parametrize(
    "sizes,shape,want",
    [
        ((400,), (8, 16, 5, 5), (8, 400)),
        ((400,), (16, 5, 5), (400,)),
        ((16, 25), (3, 400), (3, 16, 25)),
        ((-1, 5), (16, 5, 5), (80, 5)),
        ((4, -1), (2, 4, 6), (4, 12)),
    ],
)
def test_view_follows_torch_batch_rule(sizes, shape, want):
    x = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    y = nn.View(*sizes).forward(x)
    assert y.shape == want
    np.testing.assert_array_equal(np.ravel(y), np.ravel(x))


def test_view_keeps_a_batch_of_one():
    x = jnp.zeros((1, 16, 5, 5))
    assert nn.View(400).forward(x).shape == (1, 400)  # Torch7 gave (400,) here
    assert nn.View(16, 25).forward(jnp.zeros((1, 16, 25))).shape == (1, 16, 25)
    assert nn.View(400).forward(jnp.zeros((16, 5, 5))).shape == (400,)
    assert nn.View(400).setNumInputDims(3).forward(x).shape == (1, 400)
    assert nn.View(-1).setNumInputDims(3).forward(jnp.zeros((2, 3, 4, 5))).shape == (2, 60)


def test_view_repr_and_errors():
    assert repr(nn.View(16, 5, 5)) == "nn.View(16x5x5)"
    assert repr(nn.View((16, 25))) == "nn.View(16x25)"
    with pytest.raises(ModuleError, match=r"input view \(4x16x1x1\) and desired view \(400\)"):
        nn.View(400).forward(jnp.zeros((4, 16, 1, 1)))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.View(-1, -1)


def test_reshape_single_batch_and_forced_modes():
    assert nn.Reshape(2, 3).forward(jnp.zeros((6,))).shape == (2, 3)
    assert nn.Reshape(2, 3).forward(jnp.zeros((4, 6))).shape == (4, 2, 3)
    assert nn.Reshape(2, 3).forward(jnp.zeros((1, 6))).shape == (1, 2, 3)
    assert nn.Reshape(3, 2, True).forward(jnp.zeros((2, 6))).shape == (2, 3, 2)
    assert nn.Reshape(2, 3, batchMode=False).forward(jnp.zeros((1, 6))).shape == (2, 3)
    assert repr(nn.Reshape(2, 3)) == "nn.Reshape(2x3)"
    with pytest.raises(ModuleError, match=r"nn\.Reshape\(2x3\): expected 6 elements per sample"):
        nn.Reshape(2, 3).forward(jnp.zeros((4, 5)))


# ----------------------------------------------------------------------------- Dropout


def test_dropout_train_scales_and_eval_is_identity():
    nets.manual_seed(0)
    m = nn.Dropout(0.25)
    x = jnp.ones((100, 40))
    y = np.asarray(m.updateOutput(x))
    kept = y != 0
    close(y[kept], np.full(kept.sum(), 1 / 0.75), 1)  # 1 / 0.75 rounded to float32
    assert abs(kept.mean() - 0.75) < 0.03
    m.evaluate()
    np.testing.assert_array_equal(m.updateOutput(x), x)
    assert repr(m) == "nn.Dropout(0.250000)"


def test_dropout_is_reproducible_with_manual_seed():
    x = jnp.ones((10, 10))
    m = nn.Dropout(0.5)
    nets.manual_seed(3)
    ya = m.forward(x)  # compiled: the key is an argument, so no retrace below
    nets.manual_seed(3)
    np.testing.assert_array_equal(ya, m.forward(x))
    assert not np.array_equal(ya, m.forward(x))


def test_dropout_backward_uses_the_forward_mask():
    x = jnp.ones((10, 10))
    m = nn.Dropout(0.5)
    y = m.forward(x)
    g = m.backward(x, jnp.ones_like(x))
    np.testing.assert_array_equal(np.asarray(g) != 0, np.asarray(y) != 0)


def test_dropout_v1_scales_at_evaluation():
    m = nn.Dropout(0.2, True)
    y = np.asarray(m.updateOutput(jnp.ones((100, 40))))
    assert set(np.unique(y)) <= {0.0, 1.0}
    m.evaluate()
    close(m.updateOutput(jnp.ones((2, 2))), np.full((2, 2), 0.8), 1)  # 0.8 rounded to float32


def test_dropout_rejects_bad_p():
    with pytest.raises(ValueError, match=r"nn\.Dropout: illegal percentage, expected 0 <= p < 1"):
        nn.Dropout(1.0)
    with pytest.raises(ValueError, match="got -0.1"):
        nn.Dropout().setp(-0.1)


def test_spatial_dropout_drops_planes_and_scales_at_evaluation():
    nets.manual_seed(1)
    m = nn.SpatialDropout(0.5)
    x = jnp.ones((4, 20, 3, 3))
    y = np.asarray(m.updateOutput(x))
    per_plane = y.reshape(4, 20, 9)
    assert np.all((per_plane == 0).all(-1) | (per_plane == 1).all(-1))
    assert 0 < (per_plane == 0).all(-1).mean() < 1
    assert m.updateOutput(x[0]).shape == (20, 3, 3)
    m.evaluate()
    np.testing.assert_array_equal(m.updateOutput(x), 0.5 * np.ones((4, 20, 3, 3)))
    assert repr(m) == "nn.SpatialDropout(0.500000)"
    with pytest.raises(ModuleError, match=r"nn\.SpatialDropout\(0\.500000\): expected a 3D"):
        m.forward(jnp.zeros((4, 5)))


# ----------------------------------------------------------------------------- SpatialZeroPadding


def test_spatial_zero_padding_pads_crops_and_keeps_single_samples():
    x = rand(2, 3, 4, 5)
    m = nn.SpatialZeroPadding(1, 2, -1, 0)
    y = m.forward(x)
    want = np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 2)))[:, :, 1:, :]
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(m.forward(x[1]), want[1])
    assert repr(m) == "nn.SpatialZeroPadding(l=1, r=2, t=-1, b=0)"
    assert nn.SpatialZeroPadding(2).forward(x).shape == (2, 3, 8, 9)


def test_spatial_zero_padding_too_much_crop_is_an_error():
    with pytest.raises(ModuleError, match=r"too small: given input size \(3x4x5\)"):
        nn.SpatialZeroPadding(0, 0, -2, -2).forward(jnp.zeros((3, 4, 5)))


# ---------------------------------------------------------------- issue 19: LinearWeightNorm,
# PartialLinear

# layers whose gradients this part checks with nn.Jacobian (read by test_jacobian's
# completeness check)
FINITE_DIFFERENCES = {"LinearWeightNorm", "PartialLinear"}


def test_linear_weight_norm_formula_gradients_and_conversions(tmp_path):
    rng = np.random.default_rng(41)
    m = nn.LinearWeightNorm(4, 3)
    m.g = rng.uniform(0.5, 2, (3, 1)).astype(np.float32)
    v, g, b = (np.asarray(a, np.float64) for a in (m.v, m.g, m.bias))
    w = g * v / np.linalg.norm(v, axis=1, keepdims=True)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    assert_close(m.forward(x), x @ w.T + b, terms=4 + 4 + 2)  # the norm, the dot, the bias
    assert_close(m.forward(x[1]), x[1] @ w.T + b, terms=4 + 4 + 2)
    assert_close(m.updateWeightMatrix(), w, terms=4 + 2)
    fresh = nn.LinearWeightNorm(4, 3)  # g starts as v's row norms: the weight is v
    assert_close(fresh.updateWeightMatrix(), fresh.v, terms=4 + 2)
    for shape in [(2, 4), (4,)]:
        errors = nn.Jacobian.testAll(m, np.zeros(shape))
        assert set(errors) == {"input", "v", "g", "bias"} and max(errors.values()) < 1e-6, errors
    assert m.gradV.shape == (3, 4) and m.gradG.shape == (3, 1)
    lin = m.toLinear()
    assert_close(lin.forward(x), m.forward(x), terms=4 + 4 + 2)
    back = nn.LinearWeightNorm.fromLinear(lin)
    assert_close(back.forward(x), lin.forward(x), terms=4 + 4 + 2)
    assert repr(m) == "nn.LinearWeightNorm(4 -> 3)"
    assert repr(nn.LinearWeightNorm(4, 3, False)) == "nn.LinearWeightNorm(4 -> 3) without bias"
    with pytest.raises(ModuleError, match=r"nn\.LinearWeightNorm: expected eps .* >= 0"):
        nn.LinearWeightNorm(4, 3, True, -1)
    with pytest.raises(ModuleError, match=r"expected input of size 4 in the last dimension"):
        m.forward(np.zeros((2, 5), np.float32))
    with pytest.raises(ModuleError, match=r"expected a weight of shape \(3, 4\), got \(4, 3\)"):
        m.initFromWeight(np.zeros((4, 3)))
    nets.save(tmp_path / "wn.nets", m)
    np.testing.assert_array_equal(nets.load(tmp_path / "wn.nets").forward(x), m.forward(x))


def test_partial_linear_computes_the_chosen_outputs(tmp_path):
    rng = np.random.default_rng(42)
    m = nn.PartialLinear(4, 5)
    m.bias = rng.standard_normal((1, 5)).astype(np.float32)
    w, b = np.asarray(m.weight, np.float64), np.asarray(m.bias, np.float64)[0]
    x = rng.standard_normal((2, 4)).astype(np.float32)
    assert_close(m.forward(x), x @ w.T + b, terms=4 + 1)
    m.setPartition(np.array([3, 0]))
    assert_close(m.forward(x), x @ w[[3, 0]].T + b[[3, 0]], terms=4 + 1)
    assert_close(m.forward(x[0]), x[0] @ w[[3, 0]].T + b[[3, 0]], terms=4 + 1)
    m.zeroGradParameters()
    m.forward(x)
    m.backward(x, np.ones((2, 2), np.float32))
    grad_w = np.asarray(m.gradWeight)
    assert np.all(grad_w[[1, 2, 4]] == 0)  # rows outside the partition get no gradient
    assert_close(grad_w[3], x.sum(0), terms=2)
    errors = nn.Jacobian.testAll(m, np.zeros((2, 4)))
    assert max(errors.values()) < 1e-6, errors
    assert m.resetPartition().forward(x).shape == (2, 5)
    assert repr(m) == "nn.PartialLinear(4 -> 5)"
    with pytest.raises(ModuleError, match=r"expected a non-empty list of output indices in \[0, 5"):
        m.setPartition([5])
    m.setPartition([4, 1])
    nets.save(tmp_path / "pl.nets", m)
    back = nets.load(tmp_path / "pl.nets")
    assert back.partition == (4, 1)
    np.testing.assert_array_equal(back.forward(x), m.forward(x))
