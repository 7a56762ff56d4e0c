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


# ---------------------------------------------------------------- issue 19: the rest of the family
# Each layer against Torch7's formula written as explicit loops in NumPy (float64, tiny shapes),
# and, where PyTorch is installed (not on CI), against its equivalent op, gradients included.


def full_conv_loops(x, w, b, stride, pad, adj):
    """THNN's col2im: every input pixel scatters weight[i, o] into the output."""
    n, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    oh = (h - 1) * stride[0] - 2 * pad[0] + kh + adj[0]
    ow = (wd - 1) * stride[1] - 2 * pad[1] + kw + adj[1]
    out = np.zeros((n, c_out, oh, ow)) + b.reshape(1, -1, 1, 1)
    for y, xx, i, j in np.ndindex(h, wd, kh, kw):
        oy, ox = y * stride[0] - pad[0] + i, xx * stride[1] - pad[1] + j
        if 0 <= oy < oh and 0 <= ox < ow:
            out[:, :, oy, ox] += np.einsum("ni,io->no", x[:, :, y, xx], w[:, :, i, j])
    return out


def conv_loops(x, w, b, stride, pad, dilation):
    """Cross-correlation over any number of spatial axes, zero padding, dilated taps."""
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    kernel = w.shape[2:]
    out_size = [
        (xp.shape[2 + a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1 for a in range(nd)
    ]
    out = np.zeros((x.shape[0], w.shape[0], *out_size)) + b.reshape((1, -1) + (1,) * nd)
    for pos in np.ndindex(*out_size):
        for tap in np.ndindex(*kernel):
            at = tuple(pos[a] * stride[a] + tap[a] * dilation[a] for a in range(nd))
            patch = xp[(slice(None), slice(None), *at)]  # (N, nIn)
            out[(slice(None), slice(None), *pos)] += patch @ w[(slice(None), slice(None), *tap)].T
    return out


def f64(m):
    return [np.asarray(a, np.float64) for a in (m.weight, m.bias)]


def test_full_convolution_is_torch7_scatter_with_adj_batch_and_single():
    m = nn.SpatialFullConvolution(2, 3, 3, 2, 2, 3, 1, 0, 1, 2)
    assert m.weight.shape == (2, 3, 2, 3)  # Torch7: nInputPlane x nOutputPlane x kH x kW
    x = rand(2, 2, 3, 4)
    want = full_conv_loops(x.astype(np.float64), *f64(m), (3, 2), (0, 1), (2, 1))
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 3, (3 - 1) * 3 + 2 + 2, (4 - 1) * 2 - 2 + 3 + 1)
    # each output sums at most ceil(kH/dH)*ceil(kW/dW)*nIn products, and the bias
    close(y, want, 1 * 2 * 2 + 1)
    close(m.forward(x[1]), want[1], 1 * 2 * 2 + 1)


def test_full_convolution_takes_adj_from_a_target_table():
    m = nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1)
    x = rand(1, 2, 4, 4)
    for size, adj in [(7, 0), (8, 1)]:
        target = np.zeros((1, 5, size, 15 - size), np.float32)  # only its last two sizes count
        y = m.forward([x, target])
        want = F.full_conv2d(x, m.weight, m.bias, (2, 2), (1, 1), (adj, 1 - adj))
        assert y.shape == (1, 3, size, 15 - size)
        np.testing.assert_array_equal(y, want)
        grad_x, grad_target = m.backward([x, target], np.ones(y.shape, np.float32))
        assert grad_x.shape == x.shape
        np.testing.assert_array_equal(grad_target, np.zeros(target.shape))
    assert m.forward([x[0], np.zeros((8, 8))]).shape == (3, 8, 8)
    with pytest.raises(ModuleError, match=r"expected an array or a table \{input, target\}"):
        m.forward([x, x, x])
    with pytest.raises(ModuleError, match=r"the target of the output's size\) to have at least 2"):
        m.forward([x, np.zeros(8)])


def test_full_convolution_is_the_input_gradient_of_convolution():
    """The transpose relation, checked without any reference: <conv(x), g> = <x, full(g)>."""
    conv = nn.SpatialConvolution(3, 2, 3, 3, 2, 2, 1, 1).noBias()
    full = nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1, 1, 1).noBias()
    full.weight = conv.weight  # (nOut of conv, nIn of conv) is (nIn of full, nOut of full)
    x, g = rand(1, 3, 6, 6), rand(1, 2, 3, 3)
    assert full.forward(g).shape == x.shape  # adj 1 recovers the even size
    lhs = np.sum(np.asarray(conv.forward(x), np.float64) * g)
    rhs = np.sum(np.asarray(full.forward(g), np.float64) * x)
    # float32 sums of 3*3*3 (conv) and 2*2*2 (full) products per output; each x meets at most
    # 2*2 windows of each of the 2 output planes
    bound = np.sum(np.abs(x)) * np.max(np.abs(conv.weight)) * np.max(np.abs(g)) * 2 * 2 * 2
    assert_close(lhs, rhs, terms=3 * 9 + 2 * 4, scale=float(bound), dtype=np.float32)


def test_dilated_convolution_matches_loops():
    m = nn.SpatialDilatedConvolution(2, 3, 2, 3, 1, 2, 1, 1, 2, 1)
    assert (m.padH, m.dilationW, m.dilationH) == (1, 2, 1)
    x = rand(2, 2, 5, 6)
    want = conv_loops(x.astype(np.float64), *f64(m), (2, 1), (1, 1), (1, 2))
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == want.shape
    close(y, want, 2 * 3 * 2 + 1)
    close(m.forward(x[0]), want[0], 2 * 3 * 2 + 1)
    m.evaluate()  # compiled inference hands SpatialConvolution's weights over in XLA's layout
    close(m.forward(x), want, 2 * 3 * 2 + 1)


def test_temporal_convolution_matches_torch7_frame_windows():
    m = nn.TemporalConvolution(3, 2, 2, 2)
    assert m.weight.shape == (2, 2 * 3) and m.bias.shape == (2,)
    x = rand(2, 5, 3)
    w, b = f64(m)
    want = np.array(
        [[w @ np.concatenate([x[n, 2 * t], x[n, 2 * t + 1]]) + b for t in range(2)] for n in (0, 1)]
    )
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 2, 2)
    close(y, want, 2 * 3 + 1)
    close(m.forward(x[1]), want[1], 2 * 3 + 1)


def test_volumetric_convolution_matches_loops_and_pad_defaults():
    m = nn.VolumetricConvolution(2, 3, 2, 3, 1, 1, 2, 1, 1)
    assert (m.padT, m.padW, m.padH) == (1, 1, 1)  # padW defaults to padT, padH to padW
    assert m.weight.shape == (3, 2, 2, 1, 3)  # nOut, nIn, kT, kH, kW
    x = rand(2, 2, 3, 2, 4)
    want = conv_loops(x.astype(np.float64), *f64(m), (1, 1, 2), (1, 1, 1), (1, 1, 1))
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == want.shape
    close(y, want, 2 * 2 * 3 + 1)
    close(m.forward(x[0]), want[0], 2 * 2 * 3 + 1)


def test_new_convolutions_init_as_torch7():
    nets.manual_seed(3)
    for m, fan_in in [
        (nn.SpatialFullConvolution(4, 2, 3, 2), 4 * 3 * 2),
        (nn.SpatialDilatedConvolution(4, 2, 3, 2), 4 * 3 * 2),
        (nn.TemporalConvolution(5, 2, 3), 5 * 3),
        (nn.VolumetricConvolution(2, 3, 2, 2, 3), 2 * 2 * 2 * 3),
    ]:
        w = np.abs(np.asarray(m.weight))
        assert w.max() <= 1 / math.sqrt(fan_in) and w.max() > 0.7 / math.sqrt(fan_in), m


def test_new_convolutions_print_as_torch7():
    assert repr(nn.SpatialFullConvolution(3, 6, 5, 5)) == "nn.SpatialFullConvolution(3 -> 6, 5x5)"
    assert (
        repr(nn.SpatialFullConvolution(3, 6, 4, 3, 2, 2, 1, 0, 1, 0))
        == "nn.SpatialFullConvolution(3 -> 6, 4x3, 2,2, 1,0, 1,0)"
    )
    assert (
        repr(nn.SpatialFullConvolution(3, 6, 4, 4).noBias())
        == "nn.SpatialFullConvolution(3 -> 6, 4x4) without bias"
    )
    assert (
        repr(nn.SpatialDilatedConvolution(3, 6, 3, 3, 1, 1, 2, 2, 2, 2))
        == "nn.SpatialDilatedConvolution(3 -> 6, 3x3, 1,1, 2,2, 2,2)"
    )
    assert (
        repr(nn.SpatialDilatedConvolution(3, 6, 3, 3))
        == "nn.SpatialDilatedConvolution(3 -> 6, 3x3, 1,1)"
    )
    assert repr(nn.TemporalConvolution(3, 6, 2)) == "nn.TemporalConvolution"
    assert (
        repr(nn.VolumetricConvolution(3, 6, 2, 3, 4)) == "nn.VolumetricConvolution(3 -> 6, 2x3x4)"
    )
    assert (
        repr(nn.VolumetricConvolution(3, 6, 2, 3, 4, 1, 2, 1, 1))
        == "nn.VolumetricConvolution(3 -> 6, 2x3x4, 1,2,1, 1,1,1)"
    )


def test_new_convolutions_refuse_bad_arguments():
    with pytest.raises(
        ModuleError, match=r"expected adjW < dW and adjH < dH, got adjW=2 with dW=2"
    ):
        nn.SpatialFullConvolution(2, 2, 3, 3, 2, 2, 0, 0, 2, 0)
    with pytest.raises(ModuleError, match=r"adjH=1 with dH=1"):
        nn.SpatialFullConvolution(2, 2, 3, 3, 1, 1, 0, 0, 0, 1)
    with pytest.raises(ModuleError, match=r"dilationW \(the spacing of the kernel's columns\)"):
        nn.SpatialDilatedConvolution(2, 2, 3, 3, 1, 1, 0, 0, 0)
    with pytest.raises(ModuleError, match=r"TemporalConvolution: expected kW .* got 0"):
        nn.TemporalConvolution(2, 2, 0)
    with pytest.raises(ModuleError, match=r"VolumetricConvolution: expected padT .* >= 0, got -1"):
        nn.VolumetricConvolution(2, 2, 1, 1, 1, 1, 1, 1, -1)


def test_new_convolutions_refuse_bad_inputs_naming_the_module():
    full = nn.SpatialFullConvolution(2, 3, 3, 3, 1, 1, 2, 2)
    with pytest.raises(
        ModuleError, match=r"SpatialFullConvolution\(2 -> 3.*expected 2 input planes"
    ):
        full.forward(jnp.zeros((1, 3, 4, 4)))
    with pytest.raises(
        ModuleError, match=r"too small: given input size \(2x1x1\), calculated output"
    ):
        full.forward(jnp.zeros((2, 1, 1)))  # 1 - 4 + 3 = 0 rows after cropping the padding
    dil = nn.SpatialDilatedConvolution(1, 1, 3, 3, 1, 1, 0, 0, 2, 2)
    with pytest.raises(ModuleError, match=r"given input size \(1x4x4\), calculated output size"):
        dil.forward(jnp.zeros((1, 4, 4)))  # the dilated kernel spans 5
    temporal = nn.TemporalConvolution(3, 2, 4)
    with pytest.raises(ModuleError, match=r"expected frames of size 3 \(dim 1.*got 2"):
        temporal.forward(jnp.zeros((5, 2)))
    with pytest.raises(ModuleError, match=r"smaller than kernel size: expected at least kW=4"):
        temporal.forward(jnp.zeros((2, 3, 3)))
    with pytest.raises(ModuleError, match=r"expected a 2D \(nInputFrame, frameSize\) sequence"):
        temporal.forward(jnp.zeros((3,)))
    vol = nn.VolumetricConvolution(2, 2, 2, 2, 2)
    with pytest.raises(ModuleError, match=r"expected a 4D \(C, T, H, W\) sample or a 5D"):
        vol.forward(jnp.zeros((2, 3, 3)))
    with pytest.raises(ModuleError, match=r"expected 2 input planes \(dim 1"):
        vol.forward(jnp.zeros((1, 3, 2, 2, 2)))
    with pytest.raises(ModuleError, match=r"given input size \(2x1x3x3\), calculated output size"):
        vol.forward(jnp.zeros((2, 1, 3, 3)))


def test_new_convolutions_survive_a_checkpoint(tmp_path):
    net = nn.Sequential()
    net.add(nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1, 1, 1))
    net.add(nn.SpatialDilatedConvolution(3, 2, 3, 3, 1, 1, 2, 2, 2, 2).noBias())
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net)
    x = rand(1, 2, 3, 3)
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    seq = nn.Sequential().add(nn.TemporalConvolution(3, 2, 2)).add(nn.Tanh())
    vol = nn.VolumetricConvolution(1, 2, 2, 2, 2, 1, 1, 1, 1)
    for m, x in [(seq, rand(4, 3)), (vol, rand(1, 2, 2, 2))]:
        nets.save(tmp_path / "m.nets", m)
        back = nets.load(tmp_path / "m.nets")
        np.testing.assert_array_equal(back.forward(x), m.forward(x))


def _torch_case(m, x):
    """(output, gradInput, gradWeight, gradBias) of a module for a random gradOutput."""
    y = m.forward(x)
    g = rand(*y.shape)
    m.zeroGradParameters()
    gin = m.backward(x, g)
    return y, g, gin, m.gradWeight, m.gradBias


def test_new_convolutions_against_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional

    def check(m, x, op, terms):
        y, g, gin, gw, gb = _torch_case(m, x)
        xt = torch.tensor(x, requires_grad=True)
        wt = torch.tensor(np.asarray(m.weight), requires_grad=True)
        bt = torch.tensor(np.asarray(m.bias), requires_grad=True)
        yt = op(xt, wt, bt)
        yt.backward(torch.tensor(g))
        close(y, yt.detach().numpy(), terms)
        # backward sums over the output positions too: a longer reduction
        close(gin, xt.grad.numpy(), terms * y.shape[-1] * y.shape[-2])
        close(gw, wt.grad.numpy(), int(np.prod(y.shape)))
        close(gb, bt.grad.numpy(), int(np.prod(y.shape)))

    full = nn.SpatialFullConvolution(2, 3, 3, 2, 2, 3, 1, 0, 1, 2)
    check(
        full,
        rand(2, 2, 3, 4),
        lambda x, w, b: tf.conv_transpose2d(x, w, b, (3, 2), (0, 1), output_padding=(2, 1)),
        2 * 3 * 2,
    )
    dil = nn.SpatialDilatedConvolution(2, 3, 2, 3, 1, 2, 1, 1, 2, 1)
    check(dil, rand(2, 2, 5, 6), lambda x, w, b: tf.conv2d(x, w, b, (2, 1), (1, 1), (1, 2)), 13)
    vol = nn.VolumetricConvolution(2, 3, 2, 3, 1, 1, 2, 1, 1)
    check(vol, rand(2, 2, 3, 2, 4), lambda x, w, b: tf.conv3d(x, w, b, (1, 1, 2), 1), 13)
    tem = nn.TemporalConvolution(3, 2, 2, 2)

    def temporal(x, w, b):  # Torch7's (out, kW*in) weight as conv1d's (out, in, kW)
        k = w.reshape(2, 2, 3).permute(0, 2, 1)
        return tf.conv1d(x.transpose(1, 2), k, b, 2).transpose(1, 2)

    check(tem, rand(2, 5, 3), temporal, 7)


# ------------------------------------------------ issue 19: more of Torch7's convolution layers


def full_conv3d_loops(x, w, b, stride, pad, adj):
    """VolumetricFullConvolution as THNN's vol2col: every input voxel scatters weight[i, o]."""
    size = [
        (x.shape[2 + a] - 1) * stride[a] - 2 * pad[a] + w.shape[2 + a] + adj[a] for a in range(3)
    ]
    out = np.zeros((x.shape[0], w.shape[1], *size)) + b.reshape(1, -1, 1, 1, 1)
    for pos in np.ndindex(*x.shape[2:]):
        for tap in np.ndindex(*w.shape[2:]):
            at = tuple(pos[a] * stride[a] - pad[a] + tap[a] for a in range(3))
            if all(0 <= at[a] < size[a] for a in range(3)):
                patch = x[(slice(None), slice(None), *pos)]
                out[(slice(None), slice(None), *at)] += patch @ w[(slice(None), slice(None), *tap)]
    return out


def test_volumetric_dilated_and_full_convolutions_match_loops():
    m = nn.VolumetricDilatedConvolution(2, 3, 2, 2, 1, 1, 2, 1, 1, 0, 1, 2, 1, 1)
    x = rand(2, 2, 5, 3, 4)
    want = conv_loops(x.astype(np.float64), *f64(m), (1, 1, 2), (1, 1, 0), (2, 1, 1))
    assert m.forward(x).shape == m.outputShape(x.shape) == want.shape
    close(m.forward(x), want, 2 * 2 * 2 + 1)
    close(m.forward(x[1]), want[1], 2 * 2 * 2 + 1)
    m = nn.VolumetricFullConvolution(2, 3, 2, 3, 2, 2, 2, 1, 1, 0, 1, 1, 1, 0)
    assert m.weight.shape == (2, 3, 2, 2, 3)  # nIn, nOut, kT, kH, kW
    x = rand(2, 2, 2, 3, 2)
    want = full_conv3d_loops(x.astype(np.float64), *f64(m), (2, 1, 2), (1, 1, 0), (1, 0, 1))
    assert m.forward(x).shape == m.outputShape(x.shape) == want.shape
    close(m.forward(x), want, 2 * 2 * 2 * 3 + 1)
    close(m.forward(x[0]), want[0], 2 * 2 * 2 * 3 + 1)


def test_depthwise_local_and_row_convolutions_match_loops():
    m = nn.SpatialDepthWiseConvolution(2, 3, 2, 3, 1, 2, 1, 0)
    x = rand(2, 2, 5, 4).astype(np.float64)
    w, b = f64(m)
    want = np.concatenate(
        [
            conv_loops(x[:, i : i + 1], w[:, i : i + 1], b[:, i], (2, 1), (0, 1), (1, 1))
            for i in range(2)
        ],
        axis=1,
    )  # plane i*nOut + o: input plane i, kernel o
    assert m.forward(x).shape == m.outputShape(x.shape) == want.shape == (2, 6, 2, 5)
    close(m.forward(x.astype(np.float32)), want, 3 * 2 + 1)
    close(m.forward(x[1].astype(np.float32)), want[1], 3 * 2 + 1)
    m = nn.SpatialConvolutionLocal(2, 3, 4, 3, 2, 2, 2, 1, 1, 0)
    # oH = (3 - 2) / 1 + 1 = 2, oW = (4 + 2 - 2) / 2 + 1 = 3
    assert m.weight.shape == (2, 3, 3, 2, 2, 2) and m.bias.shape == (3, 2, 3)
    x = rand(2, 2, 3, 4).astype(np.float64)
    w, b = f64(m)
    xp = np.pad(x, [(0, 0), (0, 0), (0, 0), (1, 1)])
    want = np.zeros((2, 3, 2, 3)) + b
    for p, q in np.ndindex(2, 3):
        patch = xp[:, :, p : p + 2, 2 * q : 2 * q + 2]
        want[:, :, p, q] += np.einsum("nikl,oikl->no", patch, w[p, q])
    close(m.forward(x.astype(np.float32)), want, 2 * 2 * 2 + 1)
    close(m.forward(x[0].astype(np.float32)), want[0], 2 * 2 * 2 + 1)
    m = nn.TemporalRowConvolution(3, 2, 2)
    x = rand(2, 5, 3).astype(np.float64)
    w, b = f64(m)
    want = np.stack(
        [b + (x[:, 2 * t : 2 * t + 2] * w[:, 0].T).sum(1) for t in range(2)], 1
    )  # frame t, row f: sum_k w[f, 0, k] x[2t + k, f]
    close(m.forward(x.astype(np.float32)), want, 2 + 1)
    close(m.forward(x[0].astype(np.float32)), want[0], 2 + 1)
    m.featFirst = True
    close(m.forward(np.swapaxes(x, 1, 2).astype(np.float32)), np.swapaxes(want, 1, 2), 2 + 1)


# (builder, batch input shape): one sample is the shape without its first axis
MORE_CONVOLUTIONS = [
    (
        lambda: nn.VolumetricDilatedConvolution(1, 2, 2, 1, 2, 1, 1, 1, 0, 0, 1, 2, 1, 1),
        (1, 1, 3, 2, 2),
    ),
    (
        lambda: nn.VolumetricFullConvolution(1, 2, 2, 2, 1, 2, 1, 1, 0, 0, 0, 1, 0, 0),
        (1, 1, 2, 1, 2),
    ),
    (lambda: nn.SpatialDepthWiseConvolution(2, 2, 2, 2, 1, 1, 1), (1, 2, 2, 2)),
    (lambda: nn.SpatialConvolutionLocal(1, 2, 3, 2, 2, 2), (1, 1, 2, 3)),
    (lambda: nn.TemporalRowConvolution(2, 2), (2, 3, 2)),
    (
        lambda: nn.SpatialFullConvolutionMap(np.array([[0, 0], [1, 0], [1, 1]]), 2, 2, 2),
        (1, 2, 2, 2),
    ),
]


@pytest.mark.parametrize("form", ["batch", "single"])
def test_more_convolution_gradients_match_finite_differences(form):
    for build, shape in MORE_CONVOLUTIONS:
        m = build()
        errors = nn.Jacobian.testAll(m, np.zeros(shape if form == "batch" else shape[1:]))
        assert set(errors) == {"input", "weight", "bias"}
        assert max(errors.values()) < 1e-6, (m, errors)


def test_more_convolutions_print_init_errors_and_checkpoint(tmp_path):
    assert repr(nn.VolumetricDilatedConvolution(2, 3, 2, 2, 2)) == (
        "nn.VolumetricDilatedConvolution(2 -> 3, 2x2x2, 1,1,1)"
    )
    assert repr(nn.VolumetricDilatedConvolution(2, 3, 2, 2, 2, 1, 1, 1, 1, 0, 0, 2, 2, 2)) == (
        "nn.VolumetricDilatedConvolution(2 -> 3, 2x2x2, 1,1,1, 1,0,0, 2,2,2)"
    )
    assert repr(nn.VolumetricFullConvolution(2, 3, 2, 2, 2, 2, 2, 2, 0, 0, 0, 1, 0, 1)) == (
        "nn.VolumetricFullConvolution(2 -> 3, 2x2x2, 2,2,2, 1,0,1)"
    )
    assert repr(nn.SpatialDepthWiseConvolution(2, 3, 3, 3, 1, 1, 1).noBias()) == (
        "nn.SpatialDepthWiseConvolution(2 -> 3, 3x3, 1,1, 1,1) without bias"
    )
    assert repr(nn.SpatialConvolutionLocal(2, 3, 8, 8, 3, 3)) == (
        "nn.SpatialConvolutionLocal(2 -> 3, 8x8, 3x3)"
    )
    assert repr(nn.TemporalRowConvolution(4, 3, 2)) == "nn.TemporalRowConvolution(4, 3, 2)"
    nets.manual_seed(5)
    for m, fan_in in [
        (nn.VolumetricFullConvolution(4, 2, 2, 2, 3), 4 * 2 * 2 * 3),
        (nn.SpatialDepthWiseConvolution(4, 2, 3, 2), 4 * 3 * 2),
        (nn.SpatialConvolutionLocal(4, 2, 5, 5, 3, 2), 4 * 3 * 2),
        (nn.TemporalRowConvolution(5, 3), 5 * 3),
    ]:
        w = np.abs(np.asarray(m.weight))
        assert w.max() <= 1 / math.sqrt(fan_in) and w.max() > 0.5 / math.sqrt(fan_in), m
    with pytest.raises(ModuleError, match=r"expected adjT < dT, adjW < dW and adjH < dH"):
        nn.VolumetricFullConvolution(1, 1, 2, 2, 2, 1, 1, 1, 0, 0, 0, 1)
    with pytest.raises(ModuleError, match=r"illegal configuration: output width or height less"):
        nn.SpatialConvolutionLocal(1, 1, 2, 2, 3, 3)
    with pytest.raises(
        ModuleError, match=r"inconsistent with the expected sample size \(1, 3, 3\)"
    ):
        nn.SpatialConvolutionLocal(1, 1, 3, 3, 2, 2).forward(jnp.zeros((1, 1, 4, 3)))
    with pytest.raises(ModuleError, match=r"expected 2 input planes \(dim 1 of the input\)"):
        nn.SpatialDepthWiseConvolution(2, 1, 1, 1).forward(jnp.zeros((1, 3, 2, 2)))
    with pytest.raises(ModuleError, match=r"expected frames of size 4"):
        nn.TemporalRowConvolution(4, 2).forward(jnp.zeros((5, 3)))
    with pytest.raises(ModuleError, match=r"expected dilationW .* >= 1, got 0"):
        nn.VolumetricDilatedConvolution(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0)
    net = nn.Sequential(
        nn.SpatialDepthWiseConvolution(1, 2, 2, 2),
        nn.SpatialConvolutionLocal(2, 1, 2, 2, 2, 1),
        nn.View(1, 1, 1, 2),
        nn.VolumetricFullConvolution(1, 1, 1, 2, 1),
        nn.VolumetricDilatedConvolution(1, 1, 1, 1, 1),
        nn.View(3, 1),
        nn.TemporalRowConvolution(1, 2),
    )
    x = rand(1, 3, 3)
    want = net.forward(x)
    nets.save(tmp_path / "conv.nets", net)
    back = nets.load(tmp_path / "conv.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(x), want)


def test_spatial_full_convolution_map_is_a_scatter_over_the_table(tmp_path):
    table = np.array([[0, 0], [1, 0], [1, 1], [1, 1]])  # a repeated row: both kernels add up
    m = nn.SpatialFullConvolutionMap(table, 2, 3, 2, 1)
    assert (m.nInputPlane, m.nOutputPlane) == (2, 2) and m.weight.shape == (4, 3, 2)
    x = rand(2, 2, 2, 3)
    w, b = f64(m)
    dense = np.zeros((2, 2, 3, 2))
    for k, (i, o) in enumerate(table):
        dense[i, o] += w[k]
    want = full_conv_loops(x.astype(np.float64), dense, b, (1, 2), (0, 0), (0, 0))
    assert m.forward(x).shape == m.outputShape(x.shape) == want.shape == (2, 2, 4, 6)
    close(m.forward(x), want, 2 * 2 + 1)
    close(m.forward(x[1]), want[1], 2 * 2 + 1)
    assert repr(m) == "nn.SpatialFullConvolutionMap"  # gradients: MORE_CONVOLUTIONS
    with pytest.raises(ModuleError, match=r"expected 2 input planes \(dim 0 of the input\)"):
        m.forward(jnp.zeros((3, 2, 2)))
    nets.save(tmp_path / "fcm.nets", m)
    np.testing.assert_array_equal(nets.load(tmp_path / "fcm.nets").forward(x), m.forward(x))
