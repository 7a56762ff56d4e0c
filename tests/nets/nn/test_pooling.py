"""Pooling layers: outputs against nets.nn.functional, Torch7 sizes, ceil/floor, reprs, errors."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from nets.nn import functional as F  # noqa: N812
from tests.tolerance import assert_close

RNG = np.random.default_rng(3)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, terms):
    assert_close(a, b, terms=terms)


def test_max_pooling_defaults_stride_to_kernel_and_ceil_floor_chain():
    m = nn.SpatialMaxPooling(2, 2)
    assert (m.dW, m.dH, m.padW, m.padH) == (2, 2, 0, 0)
    x = rand(2, 3, 7, 5)
    np.testing.assert_array_equal(m.updateOutput(x), F.max_pool2d(x, (2, 2), (2, 2)))  # a max
    assert m.updateOutput(x).shape == (2, 3, 3, 2)
    assert m.ceil() is m and m.ceil_mode
    y = m.updateOutput(x)
    assert y.shape == m.outputShape(x.shape) == (2, 3, 4, 3)
    np.testing.assert_array_equal(y, F.max_pool2d(x, (2, 2), (2, 2), ceil_mode=True))
    np.testing.assert_array_equal(m.updateOutput(x[1]), y[1])
    assert m.floor() is m and not m.ceil_mode


def test_max_pooling_ceil_mode_recompiles_under_forward():
    m = nn.SpatialMaxPooling(3, 3, 2, 2)
    x = jnp.zeros((1, 1, 6, 6))
    assert m.forward(x).shape == (1, 1, 2, 2)
    assert m.ceil().forward(x).shape == (1, 1, 3, 3)


def test_average_pooling_torch_defaults_and_padding_count():
    m = nn.SpatialAveragePooling(3, 3)
    assert (m.dW, m.dH) == (1, 1) and m.count_include_pad
    x = rand(2, 2, 5, 6)
    close(m.updateOutput(x), F.avg_pool2d(x, (3, 3), (1, 1)), 9 + 1)  # a 3x3 sum, a division
    m = nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1).ceil()
    close(m.updateOutput(x), F.avg_pool2d(x, (3, 3), (2, 2), (1, 1), True, True), 9 + 1)
    assert m.setCountExcludePad() is m
    close(m.updateOutput(x[0]), F.avg_pool2d(x, (3, 3), (2, 2), (1, 1), True, False)[0], 9 + 1)
    ones = jnp.ones((1, 2, 2))
    corner = nn.SpatialAveragePooling(3, 3, 1, 1, 1, 1).updateOutput(ones)[0, 0, 0]
    close(corner, 4 / 9, 2)  # 4 ones (exact) over 9: one or two roundings
    corner = nn.SpatialAveragePooling(3, 3, 1, 1, 1, 1, count_include_pad=False)
    np.testing.assert_array_equal(corner.updateOutput(ones)[0, 0, 0], 1.0)  # 4 / 4: exact


def test_pooling_reprs_as_torch():
    assert repr(nn.SpatialMaxPooling(2, 2, 2, 2)) == "nn.SpatialMaxPooling(2x2, 2,2)"
    assert repr(nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1)) == "nn.SpatialMaxPooling(3x3, 2,2, 1,1)"
    assert repr(nn.SpatialAveragePooling(5, 5, 3, 3)) == "nn.SpatialAveragePooling(5x5, 3,3)"
    assert repr(nn.SpatialAdaptiveAveragePooling(6, 6)) == "nn.SpatialAdaptiveAveragePooling"
    assert repr(nn.SpatialSubSampling(6, 2, 2, 2, 2)) == "nn.SpatialSubSampling"


def test_pooling_errors():
    with pytest.raises(ValueError, match="pad should be at most half of the kernel size"):
        nn.SpatialMaxPooling(2, 2, 2, 2, 2, 2)
    m = nn.SpatialMaxPooling(4, 4, 4, 4)
    with pytest.raises(
        ModuleError,
        match=r"SpatialMaxPooling\(4x4, 4,4\): input is too small: given input size \(3x3x3\)",
    ):
        m.forward(jnp.zeros((3, 3, 3)))
    with pytest.raises(ModuleError, match=r"expected a 3D .* got \(2, 3, 4, 5, 6\)"):
        m.forward(jnp.zeros((2, 3, 4, 5, 6)))


def test_adaptive_average_pooling_takes_w_then_h():
    m = nn.SpatialAdaptiveAveragePooling(2, 3)
    x = rand(2, 4, 7, 5)
    y = m.updateOutput(x)
    assert y.shape == m.outputShape(x.shape) == (2, 4, 3, 2)
    # windows of at most 3 rows (7 into 3) by 3 columns (5 into 2): 9 terms and a division
    close(y, F.adaptive_avg_pool2d(x, (3, 2)), 9 + 1)
    close(m.updateOutput(x[0]), y[0], 9 + 1)
    with pytest.raises(ValueError, match=r"expected W \(the output width\) to be an integer >= 1"):
        nn.SpatialAdaptiveAveragePooling(0, 2)


def test_subsampling_output_init_and_errors():
    nets.manual_seed(2)
    m = nn.SpatialSubSampling(3, 2, 2, 2, 2)
    assert m.weight.shape == (3,) and m.bias.shape == (3,)
    assert np.abs(np.asarray(m.weight)).max() <= 1 / math.sqrt(4)
    x = rand(2, 3, 6, 5)
    y = m.updateOutput(x)
    close(y, F.subsampling(x, m.weight, m.bias, (2, 2), (2, 2)), 4 + 2)  # 2x2, weight, bias
    assert y.shape == m.outputShape(x.shape) == (2, 3, 3, 2)
    close(m.updateOutput(x[0]), y[0], 4 + 2)
    with pytest.raises(ModuleError, match="expected 3 input planes"):
        m.updateOutput(jnp.zeros((2, 6, 6)))
