"""Criterions: values against NumPy formulas, sizeAverage, gradients, target checks, reprs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(6)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, terms):
    # the criterions compute in float32 (and return Python floats)
    assert_close(a, b, terms=terms, dtype=np.float32)


LOGP = np.log(np.abs(rand(4, 3)) + 0.1)
T = np.array([0, 2, 2, 1])
W = np.array([1.0, 2.0, 0.5], np.float32)


def test_class_nll_batch_single_weights_and_size_average():
    picked = LOGP[np.arange(4), T]
    c = nn.ClassNLLCriterion()
    out = c.forward(LOGP, T)
    assert isinstance(out, float) and c.output == out
    close(out, -picked.mean(), 4 + 1)  # a sum over the batch of 4 and a division
    close(nn.ClassNLLCriterion(None, False).forward(LOGP, T), -picked.sum(), 4)
    weighted = -(W[T] * picked).sum() / W[T].sum()
    close(nn.ClassNLLCriterion(W).forward(LOGP, T), weighted, path_terms(1, 4, 4, 1))
    np.testing.assert_array_equal(c.forward(LOGP[1], 2), -LOGP[1, 2])  # one value: exact
    np.testing.assert_array_equal(c.forward(LOGP[1], np.array([2.0])), -LOGP[1, 2])


def test_class_nll_gradient_is_weighted_one_hot():
    c = nn.ClassNLLCriterion(W)
    g = np.asarray(c.backward(LOGP, T))
    want = np.zeros((4, 3))
    want[np.arange(4), T] = -W[T] / W[T].sum()
    np.testing.assert_array_equal(g, want)  # weights 1, 2 and 0.5 are dyadic: exact
    assert c.gradInput is not None and c.gradInput.shape == (4, 3)


def test_cross_entropy_equals_log_softmax_then_nll():
    x = rand(4, 3)
    lsm = np.asarray(jax.nn.log_softmax(x, axis=1))
    # log-softmax over 3 classes, then the (weighted) mean over the batch of 4
    terms = path_terms(1, ELEMENTWISE, 3, ELEMENTWISE, 1, 4, 4, 1)
    close(nn.CrossEntropyCriterion().forward(x, T), -lsm[np.arange(4), T].mean(), terms)
    close(nn.CrossEntropyCriterion(W).forward(x, T), nn.ClassNLLCriterion(W).forward(lsm, T), terms)
    assert repr(nn.CrossEntropyCriterion()) == "nn.CrossEntropyCriterion"


@pytest.mark.parametrize("size_average", [True, False])
def test_regression_criterions(size_average):
    x, t = rand(3, 4), rand(3, 4)
    z = np.abs(x - t)
    red = np.mean if size_average else np.sum
    terms = path_terms(3, x.size, 1)  # the difference, square and halving; the sum; the mean
    close(nn.MSECriterion(size_average).forward(x, t), red(z**2), terms)
    close(nn.AbsCriterion(size_average).forward(x, t), red(z), terms)
    sl1 = np.where(z < 1, 0.5 * z**2, z - 0.5)
    close(nn.SmoothL1Criterion(size_average).forward(x, t), red(sl1), terms)
    n = x.size if size_average else 1
    close(nn.MSECriterion(size_average).backward(x, t), 2 * (x - t) / n, 3)


def test_bce_weights_and_gradient():
    p = 1 / (1 + np.exp(-rand(3, 4)))
    t = (RNG.random((3, 4)) > 0.5).astype(np.float32)
    w = np.abs(rand(4)) + 0.1
    terms = t * np.log(p + 1e-12) + (1 - t) * np.log(1 - p + 1e-12)
    # per element: 1 - p, + 1e-12, two logs, two products and a sum; then the (weighted) mean
    n = path_terms(4, 2 * ELEMENTWISE, 3, 1)
    close(nn.BCECriterion().forward(p, t), -terms.mean(), path_terms(n, p.size, 1))
    close(nn.BCECriterion(w, False).forward(p, t), -(terms * w).sum(), path_terms(n, 1, p.size))
    g = nn.BCECriterion().backward(p, t)
    # 1 - p is exact or rounds relative to 1 - p >= 1/2; two divisions, a difference, the mean
    close(g, -(t / p - (1 - t) / (1 - p)) / p.size, 6)
    close(nn.BCECriterion(w).forward(p[0], t[0]), -(terms[0] * w).mean(), path_terms(n, 1, 4, 1))


def test_targets_out_of_range_or_not_integers_are_clear_errors():
    c = nn.ClassNLLCriterion()
    with pytest.raises(
        ModuleError,
        match=r"nn\.ClassNLLCriterion: expected class indices in \[0, 3\), got 3 at position 1 "
        r"\(targets are 0-based",
    ):
        c.forward(LOGP, np.array([0, 3, 1, 1]))
    with pytest.raises(ModuleError, match=r"got -1 at position 0"):
        c.forward(LOGP, np.array([-1, 0, 1, 1]))
    with pytest.raises(ModuleError, match="expected integer class indices"):
        c.forward(LOGP, np.array([0.5, 0, 1, 1]))
    with pytest.raises(ModuleError, match=r"expected a target of shape \(4,\) .* got \(3,\)"):
        c.backward(LOGP, np.array([0, 1, 1]))
    with pytest.raises(ModuleError, match=r"expected input \(N, nClasses\)"):
        c.forward(jnp.zeros((2, 3, 4)), np.array([0, 1]))
    with pytest.raises(ModuleError, match="weights has 2 entries but the input has 3 classes"):
        nn.ClassNLLCriterion(np.ones(2)).forward(LOGP, T)


def test_shape_mismatch_errors():
    with pytest.raises(ModuleError, match=r"nn\.MSECriterion: expected a target with as many"):
        nn.MSECriterion().forward(jnp.zeros((2, 3)), jnp.zeros((2, 4)))
    with pytest.raises(ModuleError, match=r"BCECriterion: weights has 3 entries"):
        nn.BCECriterion(np.ones(3)).forward(jnp.full((2, 4), 0.5), jnp.zeros((2, 4)))
    with pytest.raises(ValueError, match="weights should be a 1-D array"):
        nn.ClassNLLCriterion(np.ones((2, 2)))


def test_size_average_change_takes_effect_and_clone_is_independent():
    x, t = rand(2, 3), rand(2, 3)
    c = nn.MSECriterion()
    mean = c.forward(x, t)
    c.sizeAverage = False
    terms = path_terms(2, 6, 2)  # the difference and square, the sum of 6, the mean and * 6
    close(c.forward(x, t), mean * 6, terms)
    d = c.clone()
    d.sizeAverage = True
    np.testing.assert_array_equal(d.forward(x, t), mean)  # the same computation
    close(c.forward(x, t), mean * 6, terms)


def test_pure_call_works_under_jit_and_grad():
    c = nn.ClassNLLCriterion(W)
    f = jax.jit(jax.grad(lambda x: c.call(x, jnp.asarray(T))))
    np.testing.assert_array_equal(f(jnp.asarray(LOGP)), c.backward(LOGP, T))  # dyadic weights


def test_cuda_without_gpu_names_devices():
    with pytest.raises(Exception, match="JAX sees no such device"):
        nn.ClassNLLCriterion(W).cuda()
    assert nn.MSECriterion().cpu().forward(jnp.ones(2), jnp.zeros(2)) == 1.0


def test_weighted_mse_weights_the_target_per_sample_or_element():
    x, t = rand(3, 4), rand(3, 4)
    w = np.abs(rand(4)) + 0.5
    c = nn.WeightedMSECriterion(w)
    close(c.forward(x, t), ((x - t * w) ** 2).mean(), path_terms(3, 12, 1))
    close(c.backward(x, t), 2 * (x - t * w) / 12, 4)  # THNN's MSE gradient against t * w
    full = nn.WeightedMSECriterion(np.tile(w, (3, 1)))
    close(full.forward(x, t), c.forward(x, t), path_terms(3, 12, 1))
    assert "weight" in dict(c.split()[1]) and not c.split()[0]  # a buffer, never trained
    with pytest.raises(ModuleError, match=r"expected weights of the input's shape \(3, 4\)"):
        nn.WeightedMSECriterion(np.ones(3)).forward(x, t)


def test_spatial_auto_crop_mse_crops_the_target_around_its_centre():
    x, big = rand(2, 1, 3, 4), rand(2, 1, 6, 7)
    crop = big[:, :, 1:4, 1:5]  # rows floor((6 - 3) / 2) = 1.., columns floor((7 - 4) / 2) = 1..
    c = nn.SpatialAutoCropMSECriterion()
    close(c.forward(x, big), ((x - crop) ** 2).mean(), path_terms(3, 24, 1))
    close(c.forward(x[0], big[0]), ((x[0] - crop[0]) ** 2).mean(), path_terms(3, 12, 1))
    with pytest.raises(ModuleError, match=r"at least as tall and wide as the input \(2, 1, 3, 4\)"):
        c.forward(x, big[:, :, :2])


def test_l1_cost_and_distance_ratio():
    x = np.array([[0.5, -2.0], [0.0, 1.5]], np.float32)
    close(nn.L1Cost().forward(x), 4.0, 4)
    np.testing.assert_array_equal(nn.L1Cost().backward(x), np.sign(x))  # 0 at 0, as THNN
    d, e = np.abs(rand(5)), np.abs(rand(5))
    c = nn.DistanceRatioCriterion()
    ex, ey = np.exp(-d.astype(np.float64)), np.exp(-e.astype(np.float64))
    close(
        c.forward([d, e]),
        (-np.log(ex / (ex + ey))).mean(),
        path_terms(3 * ELEMENTWISE, 5, 1),
    )
    gx, gy = c.backward([d, e])
    close(gx, (1 - ex / (ex + ey)) / 5, 3 * ELEMENTWISE)  # Torch7's dLoss/dX and dLoss/dY
    close(gy, -ey / (ex + ey) / 5, 3 * ELEMENTWISE)
    with pytest.raises(ModuleError, match=r"expected a table of two distances \{X, Y\}"):
        c.forward(d)
