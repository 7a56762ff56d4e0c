"""Pooling layers: outputs against nets.nn.functional, Torch7 sizes, ceil/floor, reprs, errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from nets.nn import functional as F  # noqa: N812
from nets.summary import infer_shape
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


# ---------------------------------------------------------------- issue 19: the rest of the family
# References: THNN's loops restated in NumPy on tiny shapes; PyTorch where installed (not on CI).


def torch7_pool_size(size, k, d, pad, dilation=1, ceil=False):
    """THNN's output size of a (dilated) max pooling, restated."""
    span = (size + 2 * pad - (dilation * (k - 1) + 1)) / d
    out = (math.ceil(span) if ceil else math.floor(span)) + 1
    if pad and (out - 1) * d >= size + pad:
        out -= 1
    return out


def max_pool_loops(x, kernel, stride, pad, dilation, ceil=False):
    """Max over the in-bounds taps of each window (padding never wins), any number of axes."""
    nd = len(kernel)
    spatial = x.shape[-nd:]
    out_size = [
        torch7_pool_size(spatial[a], kernel[a], stride[a], pad[a], dilation[a], ceil)
        for a in range(nd)
    ]
    out = np.full(x.shape[:-nd] + tuple(out_size), -np.inf)
    for pos in np.ndindex(*out_size):
        for tap in np.ndindex(*kernel):
            at = [pos[a] * stride[a] - pad[a] + tap[a] * dilation[a] for a in range(nd)]
            if all(0 <= at[a] < spatial[a] for a in range(nd)):
                index = (..., *pos)
                out[index] = np.maximum(out[index], x[(..., *at)])
    return out


def test_dilated_max_pooling_matches_loops_in_both_roundings():
    m = nn.SpatialDilatedMaxPooling(2, 3, 2, 1, 1, 1, 2, 1)
    assert (m.dW, m.dH, m.dilationW, m.dilationH) == (2, 1, 2, 1)
    x = rand(2, 2, 5, 6)
    for ceil in (False, True):
        m.ceil() if ceil else m.floor()
        want = max_pool_loops(x, (3, 2), (1, 2), (1, 1), (1, 2), ceil)
        y = m.forward(x)
        assert y.shape == m.outputShape(x.shape) == want.shape
        np.testing.assert_array_equal(y, want)  # a max: exact
        np.testing.assert_array_equal(m.forward(x[0]), want[0])
    assert nn.SpatialDilatedMaxPooling(3, 3).dW == 3  # the stride defaults to the kernel


def test_fractional_starts_are_thnns_intervals():
    u = np.array([0.0, 0.37, 0.99], np.float32)
    starts = np.asarray(F.fractional_starts(jnp.asarray(u), 10, 4, 3))
    for row, sample in zip(starts, u, strict=True):
        assert list(row) == thnn_intervals(sample, 10, 4, 3)
        assert row[0] == 0 and set(np.diff(row)) <= {2, 3}  # steps of floor/ceil(7/3)
    np.testing.assert_array_equal(F.fractional_starts(jnp.asarray(u), 5, 1, 2), [[3]] * 3)


def thnn_intervals(sample, size, out, pool):
    """THNN's generateIntervals, in float32 as THNN computes for float tensors."""
    if out == 1:
        return [size - pool]
    alpha = np.float32(size - pool) / np.float32(out - 1)
    starts = [int((np.float32(i) + sample) * alpha) - int(sample * alpha) for i in range(out - 1)]
    return [*starts, size - pool]


def fractional_loops(x, out_hw, pool_hw, samples):
    """THNN's SpatialFractionalMaxPooling_updateOutput_frame, per sample and plane."""
    n, c, h, w = x.shape
    out = np.zeros((n, c) + tuple(out_hw), x.dtype)
    for b, p in np.ndindex(n, c):
        rows = thnn_intervals(samples[b, p, 1], h, out_hw[0], pool_hw[0])
        cols = thnn_intervals(samples[b, p, 0], w, out_hw[1], pool_hw[1])
        for i, j in np.ndindex(*out_hw):
            window = x[b, p, rows[i] : rows[i] + pool_hw[0], cols[j] : cols[j] + pool_hw[1]]
            out[b, p, i, j] = window.max()
    return out


def test_fractional_max_pooling_output_and_regions():
    x = rand(2, 3, 7, 6)
    samples = RNG.uniform(size=(2, 3, 2)).astype(np.float32)
    want = fractional_loops(x, (4, 3), (2, 3), samples)
    pool = jax.jit(F.fractional_max_pool2d, static_argnums=(1, 2))  # one compilation
    np.testing.assert_array_equal(pool(x, (4, 3), (2, 3), samples), want)

    m = nn.SpatialFractionalMaxPooling(3, 2, 3, 4)  # poolSizeW, poolSizeH, outW, outH
    assert (m.outW, m.outH, m.ratioW) == (3, 4, None)
    # evaluation: the layer's fixed regions, the same at every call
    m.evaluate()
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 3, 4, 3)
    np.testing.assert_array_equal(y, m.forward(x))
    # every output is the max of some 2x3 window of its plane
    windows = max_pool_loops(x, (2, 3), (1, 1), (0, 0), (1, 1))
    for b, p, i, j in np.ndindex(*y.shape):
        assert y[b, p, i, j] in windows[b, p]
    # training: new regions from the nets.manual_seed stream at each forward, reproducibly
    m.training()
    nets.manual_seed(5)
    first = [np.asarray(m.forward(x)) for _ in range(4)]
    assert any((a != first[0]).any() for a in first[1:])
    nets.manual_seed(5)
    np.testing.assert_array_equal(m.forward(x), first[0])
    m.fixPoolingRegions()
    np.testing.assert_array_equal(m.forward(x), y)  # the fixed regions, as in evaluation


@pytest.mark.parametrize("mode", ["training", "evaluate"])
def test_fractional_max_pooling_backward_sees_the_forward_regions(mode):
    m = getattr(nn.SpatialFractionalMaxPooling(2, 2, 3, 3), mode)()
    x = rand(1, 2, 6, 6)
    y = m.forward(x)
    # in evaluation mode backward runs the forward again: the fixed regions make it the same
    g = m.backward(x, np.ones(y.shape, np.float32))
    # the gradient of a max: 1 at each (distinct) picked input, summed where windows share it
    hits = np.zeros(x.shape)
    for b, p, i, j in np.ndindex(*y.shape):
        hits[b, p] += x[b, p] == y[b, p, i, j]
    np.testing.assert_array_equal(g, hits)


def test_fractional_max_pooling_ratios_print_and_errors():
    m = nn.SpatialFractionalMaxPooling(2, 2, 0.5, 0.75)
    assert (m.ratioW, m.ratioH, m.outW) == (0.5, 0.75, None)
    assert m.forward(rand(2, 9, 8)).shape == (2, 6, 4)  # floor(9*.75), floor(8*.5)
    assert repr(m) == "nn.SpatialFractionalMaxPooling(0.5x0.75, 2,2)"
    assert repr(nn.SpatialFractionalMaxPooling(3, 2, 4, 5)) == (
        "nn.SpatialFractionalMaxPooling(4x5, 3,2)"
    )
    with pytest.raises(
        ModuleError, match=r"expected poolSizeW \(the width of each window\) .* >= 2"
    ):
        nn.SpatialFractionalMaxPooling(1, 2, 3, 3)
    with pytest.raises(ModuleError, match=r"expected ratioW .* > 0 and <= 1, got -0.5"):
        nn.SpatialFractionalMaxPooling(2, 2, -0.5, 0.5)
    with pytest.raises(ModuleError, match=r"both sizes .* or both ratios in \(0, 1\), got 3, 0.5"):
        nn.SpatialFractionalMaxPooling(2, 2, 3, 0.5)
    with pytest.raises(
        ModuleError, match=r"poolSizeH \(3\) too large relative to the input's height \(5\)"
    ):
        nn.SpatialFractionalMaxPooling(2, 3, 2, 3).forward(rand(1, 5, 6))
    with pytest.raises(ModuleError, match=r"too small: given input size \(1x3x3\)"):
        nn.SpatialFractionalMaxPooling(2, 2, 0.2, 0.2).forward(rand(1, 3, 3))


def test_lp_pooling_is_the_window_p_norm():
    x = rand(2, 2, 5, 4)
    m = nn.SpatialLPPooling(2, 2, 2, 3, 1)  # dH defaults to kH
    assert (m.dW, m.dH) == (1, 3)
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 2, 1, 3)
    want = np.zeros(y.shape)
    for i, j in np.ndindex(1, 3):
        want[:, :, i, j] = np.sqrt(np.sum(x[:, :, 3 * i : 3 * i + 3, j : j + 2] ** 2, axis=(2, 3)))
    close(y, want, 2 * 3 + 1)  # a sum of kW*kH squares, then a square root
    close(m.forward(x[0]), want[0], 2 * 3 + 1)
    cube = nn.SpatialLPPooling(2, 3, 2, 2).forward(np.abs(x))
    want3 = np.sum(np.abs(x[:, :, :4, :4]).reshape(2, 2, 2, 2, 2, 2) ** 3, axis=(3, 5)) ** (1 / 3)
    close(cube, want3, 2 * 2 + 4)  # power, four terms, the root (a library pow)
    assert repr(m) == "nn.SpatialLPPooling(2, 2x3, 1,3)"
    with pytest.raises(ModuleError, match=r"LPPooling\(2, 2x3, 1,3\): expected 2 input planes"):
        m.forward(rand(3, 5, 4))
    with pytest.raises(ModuleError, match=r"expected pnorm \(the norm's exponent p\)"):
        nn.SpatialLPPooling(2, 0, 2, 2)


def test_temporal_max_pooling_over_frames():
    m = nn.TemporalMaxPooling(3, 2)
    x = rand(2, 7, 3)
    want = np.stack([x[:, 2 * t : 2 * t + 3].max(axis=1) for t in range(3)], axis=1)
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 3, 3)
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(m.forward(x[1]), want[1])
    assert nn.TemporalMaxPooling(2).dW == 2 and repr(m) == "nn.TemporalMaxPooling"
    with pytest.raises(
        ModuleError,
        match=r"at least kW=3 frames \(dim 0 of the input\), got 2 in input of shape \(2, 3\)",
    ):
        m.forward(rand(2, 3))
    with pytest.raises(ModuleError, match=r"TemporalMaxPooling: expected a 2D"):
        m.forward(rand(1, 2, 3, 4))


def test_volumetric_max_pooling_matches_loops_with_padding_and_ceil():
    m = nn.VolumetricMaxPooling(2, 3, 2, 1, 2, 2, 1, 1, 0)
    assert (m.dT, m.dW, m.dH) == (1, 2, 2)
    x = rand(2, 2, 3, 4, 5)
    for ceil in (False, True):
        m.ceil() if ceil else m.floor()
        want = max_pool_loops(x, (2, 2, 3), (1, 2, 2), (1, 0, 1), (1, 1, 1), ceil)
        y = m.forward(x)
        assert y.shape == m.outputShape(x.shape) == want.shape
        np.testing.assert_array_equal(y, want)
        np.testing.assert_array_equal(m.forward(x[1]), want[1])
    assert (nn.VolumetricMaxPooling(2, 3, 4).dW, nn.VolumetricMaxPooling(2, 3, 4).dH) == (3, 4)
    assert repr(m) == "nn.VolumetricMaxPooling(2x3x2, 1,2,2, 1,1,0)"
    assert repr(nn.VolumetricMaxPooling(2, 2, 2)) == "nn.VolumetricMaxPooling(2x2x2, 2,2,2)"
    with pytest.raises(ModuleError, match=r"pad should be at most half of the kernel size"):
        nn.VolumetricMaxPooling(2, 2, 2, 1, 1, 1, 2)
    with pytest.raises(ModuleError, match=r"too small: given input size \(2x1x4x4\)"):
        nn.VolumetricMaxPooling(2, 2, 2).forward(rand(2, 1, 4, 4))


def test_volumetric_average_pooling_defaults_and_mean():
    m = nn.VolumetricAveragePooling(2, 2, 1)  # strides default to the kernel here
    assert (m.dT, m.dW, m.dH) == (2, 2, 1)
    x = rand(2, 2, 4, 3, 5)
    want = x[:, :, :4, :, :4].reshape(2, 2, 2, 2, 3, 2, 2).mean(axis=(3, 6))
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 2, 2, 3, 2)
    close(y, want, 2 * 2 + 1)
    close(m.forward(x[0]), want[0], 2 * 2 + 1)
    assert repr(m) == "nn.VolumetricAveragePooling(2x2x1, 2,2,1)"
    with pytest.raises(ModuleError, match=r"expected a 4D \(C, T, H, W\) sample"):
        m.forward(rand(3, 4, 4))


def test_new_poolings_survive_a_checkpoint(tmp_path):
    net = nn.Sequential()
    net.add(nn.SpatialDilatedMaxPooling(2, 2, 1, 1, 1, 1, 2, 2).ceil())
    net.add(nn.SpatialFractionalMaxPooling(2, 2, 0.5, 0.5).fixPoolingRegions())
    net.add(nn.SpatialLPPooling(2, 3, 1, 1))
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net) and back.modules[0].ceil_mode
    assert back.modules[1].seed == net.modules[1].seed and back.modules[1].newRandomPool
    x = np.abs(rand(2, 8, 8))
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    vol = nn.Sequential().add(nn.VolumetricMaxPooling(2, 2, 2, 1, 1, 1).ceil())
    vol.add(nn.VolumetricAveragePooling(1, 2, 2))
    tem = nn.TemporalMaxPooling(2, 1)
    for m, x in [(vol, rand(1, 3, 5, 5)), (tem, rand(4, 2))]:
        nets.save(tmp_path / "m.nets", m)
        back = nets.load(tmp_path / "m.nets")
        np.testing.assert_array_equal(back.forward(x), m.forward(x))


def test_new_poolings_against_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional

    def check(m, x, op, terms=1):
        y = m.forward(x)
        g = rand(*y.shape)
        gin = m.backward(x, g)
        xt = torch.tensor(x, requires_grad=True)
        yt = op(xt)
        yt.backward(torch.tensor(g))
        close(y, yt.detach().numpy(), terms)
        close(gin, xt.grad.numpy(), terms * 4)  # a few windows overlap at each input

    check(
        nn.SpatialDilatedMaxPooling(2, 3, 2, 1, 1, 1, 2, 1).ceil(),
        rand(2, 2, 5, 6),
        lambda x: tf.max_pool2d(x, (3, 2), (1, 2), (1, 1), (1, 2), ceil_mode=True),
    )
    check(
        nn.SpatialLPPooling(2, 2, 2, 2, 1, 2),
        rand(2, 2, 5, 4),
        lambda x: tf.lp_pool2d(x, 2, 2, (2, 1)),
        5,
    )
    check(
        nn.TemporalMaxPooling(3, 2),
        rand(2, 7, 3),
        lambda x: tf.max_pool1d(x.transpose(1, 2), 3, 2).transpose(1, 2),
    )
    check(
        nn.VolumetricMaxPooling(2, 3, 2, 1, 2, 2, 1, 1, 0).ceil(),
        rand(2, 2, 3, 4, 5),
        lambda x: tf.max_pool3d(x, (2, 2, 3), (1, 2, 2), (1, 0, 1), ceil_mode=True),
    )
    check(
        nn.VolumetricAveragePooling(2, 2, 1),
        rand(2, 2, 4, 3, 5),
        lambda x: tf.avg_pool3d(x, (2, 1, 2)),
        5,
    )
    frac = nn.SpatialFractionalMaxPooling(2, 3, 4, 3).evaluate()
    x = rand(2, 3, 7, 6)
    samples = RNG.uniform(size=(2, 3, 2)).astype(np.float32)
    want = tf.fractional_max_pool2d(
        torch.tensor(x), (3, 2), output_size=(3, 4), _random_samples=torch.tensor(samples)
    )
    np.testing.assert_array_equal(F.fractional_max_pool2d(x, (3, 4), (3, 2), samples), want.numpy())
    assert frac.forward(x).shape == want.shape


# ------------------------------------------------ issue 19: adaptive max, temporal sub-sampling,
# dilated volumetric max and feature Lp pooling


def test_spatial_adaptive_max_pooling_against_loops():
    x = rand(2, 2, 5, 7)
    y = np.asarray(nn.SpatialAdaptiveMaxPooling(3, 2).forward(x))  # W = 3, H = 2
    assert y.shape == (2, 2, 2, 3)
    for i, j in np.ndindex(2, 3):
        r0, r1 = (i * 5) // 2, -((-(i + 1) * 5) // 2)
        c0, c1 = (j * 7) // 3, -((-(j + 1) * 7) // 3)
        np.testing.assert_array_equal(y[..., i, j], x[..., r0:r1, c0:c1].max((-2, -1)))
    np.testing.assert_array_equal(nn.SpatialAdaptiveMaxPooling(3, 2).forward(x[1]), y[1])


def test_temporal_subsampling_against_loops():
    m = nn.TemporalSubSampling(3, 2, 2)
    x = rand(2, 5, 3)
    w, b = np.asarray(m.weight, np.float64), np.asarray(m.bias, np.float64)
    want = np.stack([b + w * x[:, 2 * t : 2 * t + 2].sum(1) for t in range(2)], 1)
    close(m.forward(x), want, 2 + 2)  # a window sum of 2, the product and the bias
    close(m.forward(x[0]), want[0], 2 + 2)
    assert np.abs(w).max() <= 1 / math.sqrt(2)


def test_volumetric_dilated_max_pooling_against_loops():
    m = nn.VolumetricDilatedMaxPooling(2, 2, 1, 1, 1, 1, 0, 1, 0, 2, 1, 1)
    x = rand(1, 2, 4, 3, 3)
    y = np.asarray(m.forward(x))
    xp = np.pad(x, [(0, 0), (0, 0), (0, 0), (0, 0), (1, 1)], constant_values=-np.inf)
    want = np.full((1, 2, 2, 3, 4), -np.inf, np.float32)  # T: 4 - 2 - 1 + 1, W: 3 + 2 - 2 + 1
    for t, h, w in np.ndindex(2, 3, 4):
        window = xp[:, :, [t, t + 2], h, w : w + 2]
        want[:, :, t, h, w] = window.max((-2, -1))
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(m.forward(x[0]), want[0])


def test_feature_lp_pooling_against_loops():
    x = rand(2, 5, 3) ** 2 + 0.5  # positive: fractional powers
    for p in (2, 1.5):
        m = nn.FeatureLPPooling(3, 2, p, True)
        want = np.stack(
            [(x[:, 2 * f : 2 * f + 3].astype(np.float64) ** p).sum(1) ** (1 / p) for f in range(2)],
            1,
        )
        close(m.forward(x), want, 3 + 8)  # a sum of 3 and two library powers
        single = nn.FeatureLPPooling(3, 2, p, False)
        close(single.forward(x[1]), want[1], 3 + 8)


# (builder of batch mode, batch input shape): one sample is the shape without its first axis
MORE_POOLING = [
    (lambda batch: nn.SpatialAdaptiveMaxPooling(2, 2), (1, 1, 3, 3)),
    (lambda batch: nn.TemporalSubSampling(2, 2, 1), (2, 3, 2)),
    (
        lambda batch: nn.VolumetricDilatedMaxPooling(2, 1, 2, 1, 1, 1, 0, 0, 1, 2, 1, 1),
        (1, 1, 3, 2, 2),
    ),
    (lambda batch: nn.FeatureLPPooling(2, 1, 2, batch), (2, 3, 2)),
    (lambda batch: nn.TemporalDynamicKMaxPooling(2), (2, 4, 2)),
    (lambda batch: nn.VolumetricFractionalMaxPooling(2, 2, 2, 2, 2, 2), (1, 1, 4, 4, 4)),
]


@pytest.mark.parametrize("form", ["batch", "single"])
def test_more_pooling_gradients_match_finite_differences(form):
    batch = form == "batch"
    for build, shape in MORE_POOLING:
        m = build(batch)
        errors = nn.Jacobian.testAll(m, np.zeros(shape if batch else shape[1:]), 0.5, 2.0)
        assert max(errors.values()) < 1e-6, (m, errors)


def test_more_pooling_printed_forms_errors_checkpoint(tmp_path):
    assert repr(nn.SpatialAdaptiveMaxPooling(3, 2)) == "nn.SpatialAdaptiveMaxPooling"
    m = nn.VolumetricDilatedMaxPooling(2, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2, 2)
    assert repr(m) == "nn.VolumetricDilatedMaxPooling(2x2x2, 1,1,1, 1,1,1, 2,2,2)"
    assert repr(nn.FeatureLPPooling(2, 1, 2, True)) == "nn.FeatureLPPooling(w2 s1 power 2 batch 1"
    with pytest.raises(ModuleError, match=r"nn\.FeatureLPPooling: expected width <= 16, got 17"):
        nn.FeatureLPPooling(17, 1, 2, True)
    with pytest.raises(ModuleError, match=r"expected stride <= 4, got 5"):
        nn.FeatureLPPooling(2, 5, 2, True)
    with pytest.raises(ModuleError, match=r"expected an input of 2 to 4 dimensions for batch mode"):
        nn.FeatureLPPooling(2, 1, 2, True).forward(jnp.zeros(3))
    with pytest.raises(ModuleError, match=r"expected at least width = 3 features \(dim 0"):
        nn.FeatureLPPooling(3, 1, 2, False).forward(jnp.zeros((2, 4)))
    with pytest.raises(ModuleError, match=r"nn\.TemporalSubSampling: expected frames of size 3"):
        nn.TemporalSubSampling(3, 2).forward(jnp.zeros((4, 2)))
    with pytest.raises(ModuleError, match=r"input sequence smaller than kernel size"):
        nn.TemporalSubSampling(3, 5).forward(jnp.zeros((4, 3)))
    with pytest.raises(ModuleError, match=r"expected dilationT .* >= 1, got 0"):
        nn.VolumetricDilatedMaxPooling(2, 2, 2, 1, 1, 1, 0, 0, 0, 0)
    with pytest.raises(ModuleError, match=r"input is too small"):  # windows span 3 inputs
        nn.VolumetricDilatedMaxPooling(2, 2, 2, 1, 1, 1, 0, 0, 0, 2, 2, 2).forward(
            jnp.zeros((1, 1, 2, 2, 2))
        )
    with pytest.raises(ModuleError, match=r"expected a 3D \(C, H, W\) sample or a 4D"):
        nn.SpatialAdaptiveMaxPooling(2, 2).forward(jnp.zeros((2, 2)))
    net = nn.Sequential(
        nn.VolumetricDilatedMaxPooling(1, 2, 2, 1, 1, 1, 0, 0, 0, 1, 1, 1),
        nn.View(-1, 2, 2),
        nn.SpatialAdaptiveMaxPooling(1, 1),
        nn.View(2, 2),
        nn.TemporalSubSampling(2, 1),
        nn.FeatureLPPooling(2, 1, 2, False),
    )
    x = rand(2, 2, 3, 3) ** 2
    want = net.forward(x)
    nets.save(tmp_path / "pool.nets", net)
    back = nets.load(tmp_path / "pool.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(x), want)


def test_temporal_dynamic_k_max_pooling_keeps_the_top_k_in_time_order():
    x = rand(2, 6, 3)
    m = nn.TemporalDynamicKMaxPooling(2, 0.5)  # k = max(2, ceil(0.5 * 6)) = 3
    y = np.asarray(m.forward(x))
    assert y.shape == (2, 3, 3)
    for n, f in np.ndindex(2, 3):
        top = np.sort(np.argsort(-x[n, :, f], kind="stable")[:3])
        np.testing.assert_array_equal(y[n, :, f], x[n, top, f])
    np.testing.assert_array_equal(m.forward(x[1]), y[1])
    assert nn.TemporalDynamicKMaxPooling(4).forward(x).shape == (2, 4, 3)
    # gradients: MORE_POOLING
    with pytest.raises(ModuleError, match=r"input sequence length \(6\) too small for the desired"):
        nn.TemporalDynamicKMaxPooling(7).forward(x)
    with pytest.raises(ModuleError, match=r"expected factor .* >= 0, got -1"):
        nn.TemporalDynamicKMaxPooling(1, -1)


def test_volumetric_fractional_max_pooling_against_loops(tmp_path):
    m = nn.VolumetricFractionalMaxPooling(2, 3, 2, 3, 2, 4).evaluate()  # T, W, H; outT, outW, outH
    x = rand(2, 2, 5, 6, 5)
    y = np.asarray(m.forward(x))
    assert y.shape == m.outputShape(x.shape) == (2, 2, 3, 4, 2)
    samples = np.asarray(jax.random.uniform(jax.random.key(m.seed), (2, 2, 3)), np.float32)
    for b, p in np.ndindex(2, 2):
        ts = thnn_intervals(samples[b, p, 0], 5, 3, 2)  # Torch7's order: time, width, height
        ws = thnn_intervals(samples[b, p, 1], 5, 2, 3)
        hs = thnn_intervals(samples[b, p, 2], 6, 4, 2)
        for i, j, k in np.ndindex(3, 4, 2):
            window = x[b, p, ts[i] : ts[i] + 2, hs[j] : hs[j] + 2, ws[k] : ws[k] + 3]
            assert y[b, p, i, j, k] == window.max()
    assert m.forward(x[0]).shape == (2, 3, 4, 2)
    ratio = nn.VolumetricFractionalMaxPooling(2, 2, 2, 0.5, 0.5, 0.75)
    assert ratio.forward(x).shape == (
        2,
        2,
        2,
        4,
        2,
    )  # floor(5 * 0.5), floor(6 * 0.75), floor(5 * 0.5)
    m.training()
    a, b = np.asarray(m.forward(x)), np.asarray(m.forward(x))
    assert not np.array_equal(a, b)  # training: new regions at each forward
    m.fixPoolingRegions()
    np.testing.assert_array_equal(m.forward(x), y)
    # gradients: MORE_POOLING
    assert repr(m) == "nn.VolumetricFractionalMaxPooling(3x2x4, 2,3,2)"
    assert repr(ratio) == "nn.VolumetricFractionalMaxPooling(0.5x0.5x0.75, 2,2,2)"
    with pytest.raises(
        ModuleError, match=r"expected three sizes \(integers >= 1\) or three ratios"
    ):
        nn.VolumetricFractionalMaxPooling(2, 2, 2, 3, 0.5, 2)
    with pytest.raises(ModuleError, match=r"expected poolSizeT .* >= 2, got 1"):
        nn.VolumetricFractionalMaxPooling(1, 2, 2, 2, 2, 2)
    with pytest.raises(
        ModuleError, match=r"poolSizeT \(2\) too large relative to the input's size"
    ):
        nn.VolumetricFractionalMaxPooling(2, 2, 2, 3, 2, 2).forward(jnp.zeros((1, 4, 5, 5)))
    nets.save(tmp_path / "vf.nets", m)
    back = nets.load(tmp_path / "vf.nets")
    assert back.seed == m.seed
    np.testing.assert_array_equal(back.evaluate().forward(x), y)


# ------------------------------------------------ issue 19: max unpooling with its pooling partner

# layers whose gradients this part checks with nn.Jacobian (read by test_jacobian's completeness
# check)
FINITE_DIFFERENCES = {"SpatialMaxUnpooling", "VolumetricMaxUnpooling"}


def unpool_loops(y, x, kernel, pad):
    """THNN's MaxUnpooling: each value of `y` goes to the first maximum of its pooling window
    over `x` (the window at ``o*k - pad``, clipped to the input), zeros elsewhere."""
    out = np.zeros(x.shape, np.float64)
    for idx in np.ndindex(*y.shape):
        lead, pos = idx[:2], idx[2:]
        lo = [max(o * k - p, 0) for o, k, p in zip(pos, kernel, pad, strict=True)]
        hi = [
            min(o * k - p + k, s) for o, k, p, s in zip(pos, kernel, pad, x.shape[2:], strict=True)
        ]
        window = x[lead + tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))]
        first = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
        out[lead + tuple(a + f for a, f in zip(lo, first, strict=True))] = y[idx]
    return out


def test_spatial_max_unpooling_puts_values_back_at_the_maxima(tmp_path):
    x = rand(2, 2, 5, 6)
    x[0, 0, 0, 1:3] = 3.0  # a tie inside one window (columns 1-2): the first wins, as THNN
    pool = nn.SpatialMaxPooling(2, 3, 2, 3, 1, 1)
    net = nn.Sequential(pool, nn.Tanh(), nn.SpatialMaxUnpooling(pool))
    y = np.asarray(net.forward(x))
    pooled = np.tanh(np.asarray(pool.forward(x), np.float64))
    want = unpool_loops(pooled, x, (3, 2), (1, 1))
    assert_close(y, want, terms=4)  # a library tanh
    assert y[0, 0, 0, 1] != 0 and y[0, 0, 0, 2] == 0
    assert_close(net.forward(x[1]), want[1], terms=4)
    assert nets.nn.binding.handoffs() is None and "_handoff" not in pool.__dict__
    # d output / d input: through the pooled values only (the positions are constants)
    errors = nn.Jacobian.testAll(net, np.zeros((1, 1, 4, 4)))
    assert errors["input"] < 1e-6, errors
    # Torch7's eager order works too: the pooling, then the unpooling
    unpool = nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(2, 2))
    p = unpool.pooling.updateOutput(x)
    np.testing.assert_array_equal(
        unpool.updateOutput(p), unpool_loops(np.asarray(p, np.float64), x, (2, 2), (0, 0))
    )
    assert repr(net.modules[2]) == (
        "nn.SpatialMaxUnpooling associated to nn.SpatialMaxPooling(2x3, 2,3, 1,1)"
    )
    nets.save(tmp_path / "unpool.nets", net)
    back = nets.load(tmp_path / "unpool.nets")
    # the unpooling's reference comes back as a copy of the pooling module, with its key
    assert back.modules[2].pooling.handoffKey == back.modules[0].handoffKey == pool.handoffKey
    np.testing.assert_array_equal(back.forward(x), y)
    # a pooling module that is not the partner (equal settings, another key) is not used
    other = nn.SpatialMaxPooling(2, 3, 2, 3, 1, 1)
    with pytest.raises(ModuleError, match=r"has not run in this pass"):
        nn.Sequential(other, nn.SpatialMaxUnpooling(pool)).forward(x)


def test_volumetric_max_unpooling_and_unpooling_errors():
    x = rand(1, 2, 4, 3, 4)
    pool = nn.VolumetricMaxPooling(2, 2, 2).ceil()
    net = nn.Sequential(pool, nn.VolumetricMaxUnpooling(pool))
    want = unpool_loops(np.asarray(pool.forward(x), np.float64), x, (2, 2, 2), (0, 0, 0))
    np.testing.assert_array_equal(net.forward(x), want)
    np.testing.assert_array_equal(net.forward(x[0]), want[0])
    errors = nn.Jacobian.testAll(net, np.zeros((2, 2, 2, 2)))
    assert errors["input"] < 1e-6, errors
    with pytest.raises(ModuleError, match=r"expected an nn\.SpatialMaxPooling as poolingModule"):
        nn.SpatialMaxUnpooling(nn.SpatialAveragePooling(2, 2))
    with pytest.raises(ModuleError, match=r"kernel to equal its stride, got kW=3 and dW=2"):
        nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(3, 3, 2, 2))
    with pytest.raises(ModuleError, match=r"kT=2 and dT=1"):
        nn.VolumetricMaxUnpooling(nn.VolumetricMaxPooling(2, 2, 2, 1, 2, 2))
    lone = nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(2, 2))
    with pytest.raises(ModuleError, match=r"its nn\.SpatialMaxPooling\(2x2, 2,2\) has not run in"):
        lone.forward(jnp.zeros((1, 1, 2, 2)))
    with pytest.raises(ModuleError, match=r"that module has not seen an input yet"):
        lone.outputShape((1, 1, 2, 2))
    # shape inference (nets.summary) follows the pooling's input, odd sizes included
    pool = nn.SpatialMaxPooling(2, 2).ceil()
    seg = nn.Sequential(pool, nn.SpatialConvolution(1, 1, 3, 3, 1, 1, 1, 1))
    seg.add(nn.SpatialMaxUnpooling(pool))
    assert infer_shape(seg, (2, 1, 5, 7)) == (2, 1, 5, 7)
    assert "SpatialMaxUnpooling" in str(nets.summary(seg, (2, 1, 5, 7)))
    pool = nn.SpatialMaxPooling(2, 2)
    bad = nn.Sequential(pool, nn.Padding(2, 1), nn.SpatialMaxUnpooling(pool))
    with pytest.raises(ModuleError, match=r"expected an input of the pooling's output shape"):
        bad.forward(jnp.zeros((1, 1, 4, 4)))
