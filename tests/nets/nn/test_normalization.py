"""Normalization layers: BN running statistics in training/evaluation, LRN, reprs, errors."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from nets.nn import functional as F  # noqa: N812
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(5)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, terms, scale=None):
    assert_close(a, b, terms=terms, scale=scale)


def test_batch_norm_torch_init_and_repr():
    nets.manual_seed(0)
    m = nn.BatchNormalization(10)
    w = np.asarray(m.weight)
    assert (w >= 0).all() and (w < 1).all() and w.std() > 0
    np.testing.assert_array_equal(m.bias, np.zeros(10))
    np.testing.assert_array_equal(m.running_mean, np.zeros(10))
    np.testing.assert_array_equal(m.running_var, np.ones(10))
    assert repr(m) == "nn.BatchNormalization (2D) (10)"
    assert repr(nn.SpatialBatchNormalization(16)) == "nn.SpatialBatchNormalization (4D) (16)"
    assert (m.eps, m.momentum, m.affine) == (1e-5, 0.1, True)


def test_batch_norm_training_updates_running_stats_through_forward():
    m = nn.BatchNormalization(3, 1e-3, 0.2)
    x = rand(6, 3) * 2 + 1
    y = m.forward(x)
    want, mean, var = F.batch_norm(
        x, jnp.zeros(3), jnp.ones(3), m.weight, m.bias, train=True, momentum=0.2, eps=1e-3
    )
    # per feature: a mean and a variance over the batch of 6, then sub, + eps, sqrt, div, *w, +b
    close(y, want, path_terms(6, 6, 6))
    close(m.running_mean, mean, path_terms(6, 2))  # the mean, and the momentum's product and sum
    close(m.running_var, var, path_terms(6, 6, 3))  # the mean, squares, the n/(n-1) correction
    close(m.running_mean, 0.2 * x.mean(0), path_terms(6, 2))
    close(m.running_var, 0.8 + 0.2 * x.var(0, ddof=1), path_terms(6, 6, 3))


def test_batch_norm_evaluation_uses_and_keeps_running_stats():
    m = nn.SpatialBatchNormalization(2)
    m.running_mean = jnp.array([1.0, -1.0])
    m.running_var = jnp.array([4.0, 0.25])
    m.evaluate()
    x = rand(3, 2, 2, 2)
    y = m.forward(x)
    w = np.asarray(m.weight).reshape(1, 2, 1, 1)
    want = (x - np.array([1.0, -1.0]).reshape(1, 2, 1, 1)) / np.sqrt(
        np.array([4.0, 0.25]).reshape(1, 2, 1, 1) + 1e-5
    )
    close(y, want * w, 6)  # sub, + eps, sqrt, div, * w, + bias (0)
    np.testing.assert_array_equal(m.running_mean, [1.0, -1.0])
    close(m.forward(x[0]), np.asarray(y)[0], 6)


def test_spatial_batch_norm_single_sample_in_training_and_no_affine():
    m = nn.SpatialBatchNormalization(3, affine=False)
    assert m.weight is None and m.parameters()[0] == []
    x = rand(3, 4, 4)
    y = np.asarray(m.updateOutput(x))
    # per plane: mean and variance over 16 pixels, normalized (4 operations), then numpy's mean
    # (and variance) over the 16 again; mean |y| <= sqrt(mean y**2) <= 1: scale 1
    terms = path_terms(16, 16, 4, 16, 16)
    close(y.mean(axis=(1, 2)), np.zeros(3), terms, scale=1.0)
    v = x.var(axis=(1, 2))
    close(y.var(axis=(1, 2)), v / (v + 1e-5), terms)  # the eps keeps it just below 1


def test_batch_norm_errors():
    m = nn.BatchNormalization(4)
    with pytest.raises(
        ModuleError, match=r"\(2D\) \(4\): expected a \(N, 4\) batch .* got \(2, 5\)"
    ):
        m.forward(jnp.zeros((2, 5)))
    with pytest.raises(ModuleError, match="training mode needs more than one value per feature"):
        m.forward(jnp.zeros((4,)))
    m.evaluate()
    assert m.forward(jnp.zeros((4,))).shape == (4,)
    with pytest.raises(ModuleError, match=r"expected 3 input planes .* got 2"):
        nn.SpatialBatchNormalization(3).forward(jnp.zeros((1, 2, 3, 3)))


def test_cross_map_lrn_torch_defaults_and_output():
    m = nn.SpatialCrossMapLRN()
    assert (m.size, m.alpha, m.beta, m.k) == (5, 1e-4, 0.75, 1.0)
    m = nn.SpatialCrossMapLRN(3, 0.5, 0.6, 2)
    x = rand(2, 4, 3, 3)
    want = F.cross_map_lrn(x, 3, 0.5, 0.6, 2.0)
    # squares summed over 3 maps, * alpha / size, + k, ** beta (exp and log), a division
    terms = path_terms(1, 3, 2, 1, 2 * ELEMENTWISE, 1)
    close(m.updateOutput(x), want, terms)
    close(m.updateOutput(x[1]), want[1], terms)
    assert repr(m) == "nn.SpatialCrossMapLRN"
    with pytest.raises(ModuleError, match=r"SpatialCrossMapLRN: expected a 3D"):
        m.updateOutput(jnp.zeros((4, 3)))
