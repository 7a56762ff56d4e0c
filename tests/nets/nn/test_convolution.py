"""Convolution layers: outputs against nets.nn.functional, Torch7 init, tables, reprs, errors."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from nets.nn import functional as F  # noqa: N812
from tests.tolerance import assert_close

RNG = np.random.default_rng(2)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, terms):
    assert_close(a, b, terms=terms)


def test_spatial_convolution_output_batch_and_single():
    m = nn.SpatialConvolution(3, 4, 3, 2, 2, 1, 1, 0)
    assert m.weight.shape == (4, 3, 2, 3) and m.bias.shape == (4,)
    assert (m.padW, m.padH) == (1, 0)
    x = rand(2, 3, 6, 7)
    want = F.conv2d(x, m.weight, m.bias, stride=(1, 2), padding=(0, 1))
    y = m.updateOutput(x)
    close(y, want, 3 * 2 * 3 + 1)  # nIn*kH*kW taps and the bias
    assert y.shape == m.outputShape(x.shape) == (2, 4, 5, 4)
    close(m.updateOutput(x[1]), want[1], 3 * 2 * 3 + 1)


def test_spatial_convolution_pad_h_defaults_to_pad_w_and_init_is_torch_uniform():
    nets.manual_seed(0)
    m = nn.SpatialConvolution(6, 16, 5, 5, 1, 1, 2)
    assert m.padH == 2
    bound = 1 / math.sqrt(5 * 5 * 6)
    w = np.abs(np.asarray(m.weight))
    assert w.max() <= bound and w.max() > 0.9 * bound


def test_grouped_convolution_is_two_towers():
    m = nn.SpatialConvolution(4, 6, 3, 3, groups=2)
    assert m.weight.shape == (6, 2, 3, 3)
    x = rand(1, 4, 5, 5)
    w, b = np.asarray(m.weight), np.asarray(m.bias)
    top = F.conv2d(x[:, :2], w[:3], b[:3])
    bottom = F.conv2d(x[:, 2:], w[3:], b[3:])
    close(m.updateOutput(x), np.concatenate([top, bottom], axis=1), 2 * 3 * 3 + 1)  # per group
    assert repr(m) == "nn.SpatialConvolution(4 -> 6, 3x3, groups=2)"
    with pytest.raises(ValueError, match=r"divisible by groups \(4\)"):
        nn.SpatialConvolution(6, 8, 3, 3, groups=4)


def test_spatial_convolution_reprs_as_torch():
    assert repr(nn.SpatialConvolution(3, 6, 5, 5)) == "nn.SpatialConvolution(3 -> 6, 5x5)"
    assert (
        repr(nn.SpatialConvolution(3, 6, 5, 3, 2, 2)) == "nn.SpatialConvolution(3 -> 6, 5x3, 2,2)"
    )
    assert (
        repr(nn.SpatialConvolution(3, 64, 3, 3, 1, 1, 1, 1))
        == "nn.SpatialConvolution(3 -> 64, 3x3, 1,1, 1,1)"
    )


def test_spatial_convolution_errors_name_planes_and_sizes():
    m = nn.SpatialConvolution(3, 6, 5, 5)
    with pytest.raises(ModuleError, match=r"\(3 -> 6, 5x5\): expected 3 input planes .* got 4"):
        m.forward(jnp.zeros((2, 4, 32, 32)))
    with pytest.raises(ModuleError, match=r"expected a 3D \(C, H, W\) sample or a 4D"):
        m.forward(jnp.zeros((3, 32)))
    with pytest.raises(
        ModuleError,
        match=r"too small: given input size \(3x4x4\), calculated output size \(6x0x0\)",
    ):
        m.forward(jnp.zeros((3, 4, 4)))


def test_tables():
    np.testing.assert_array_equal(nn.tables.full(2, 2), [[0, 0], [1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(nn.tables.oneToOne(3), [[0, 0], [1, 1], [2, 2]])
    nets.manual_seed(0)
    t = nn.tables.random(6, 4, 3)
    assert t.shape == (12, 2)
    np.testing.assert_array_equal(t[:, 1], np.repeat(np.arange(4), 3))
    for o in range(4):
        assert len(set(t[t[:, 1] == o, 0])) == 3  # distinct inputs per output
    # inputs are dealt from permutations in chunks: the first two outputs use all six
    assert sorted(t[:6, 0]) == list(range(6))
    with pytest.raises(ValueError, match=r"0 < nto <= nin \(2\)"):
        nn.tables.random(2, 3, 5)


def test_spatial_convolution_map_matches_functional_and_fan_in_init():
    table = np.array([[0, 0], [1, 0], [2, 0], [1, 1]])
    nets.manual_seed(1)
    m = nn.SpatialConvolutionMap(table, 3, 2, 1, 2)
    assert (m.nInputPlane, m.nOutputPlane) == (3, 2)
    assert m.weight.shape == (4, 2, 3) and m.bias.shape == (2,)
    # output 0 has three inputs, output 1 one: Torch7's per-plane bounds
    w = np.abs(np.asarray(m.weight))
    assert w[:3].max() <= 1 / math.sqrt(6 * 3) and w[3].max() <= 1 / math.sqrt(6)
    x = rand(2, 3, 7, 6)
    want = F.conv2d_map(x, m.weight, m.bias, table, stride=(2, 1))
    close(m.updateOutput(x), want, 3 * 2 * 3 + 1)  # at most 3 inputs of 2x3 taps, and the bias
    close(m.updateOutput(x[0]), want[0], 3 * 2 * 3 + 1)
    assert m.outputShape(x.shape) == want.shape
    assert repr(m) == "nn.SpatialConvolutionMap"


def test_spatial_convolution_map_full_table_equals_dense_convolution():
    m = nn.SpatialConvolutionMap(nn.tables.full(2, 3), 3, 3)
    x = rand(1, 2, 5, 5)
    # full table rows are ordered (output, input): reshape to the dense OIHW kernel
    dense = np.asarray(m.weight).reshape(3, 2, 3, 3)
    close(m.updateOutput(x), F.conv2d(x, dense, m.bias), 2 * 3 * 3 + 1)


def test_spatial_convolution_map_errors():
    with pytest.raises(ValueError, match=r"table of shape \(nConn, 2\), got shape \(3,\)"):
        nn.SpatialConvolutionMap(np.array([0, 1, 2]), 3, 3)
    with pytest.raises(ValueError, match="non-negative integer"):
        nn.SpatialConvolutionMap(np.array([[0, -1]]), 3, 3)
    m = nn.SpatialConvolutionMap(nn.tables.oneToOne(2), 3, 3)
    with pytest.raises(ModuleError, match=r"SpatialConvolutionMap: expected 2 input planes"):
        m.updateOutput(jnp.zeros((3, 5, 5)))


def test_no_bias_and_integer_images():
    m = nn.SpatialConvolution(3, 4, 3, 3).noBias()
    assert m.bias is None and len(m.parameters()[0]) == 1
    assert repr(m) == "nn.SpatialConvolution(3 -> 4, 3x3) without bias"
    x = np.full((1, 3, 5, 5), 2, np.uint8)
    y = m.forward(x)  # uint8 images are taken as floats
    assert y.dtype == jnp.float32
    close(y, F.conv2d(x.astype(np.float32), m.weight, None), 3 * 3 * 3)
