"""Upsampling layers: THNN's formulas restated, PyTorch where installed, reprs, errors."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import assert_close

RNG = np.random.default_rng(20)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def bilinear_loops(x, oh, ow):
    """THNN's SpatialUpSamplingBilinear_updateOutput, restated (ratios in float32 as THNN)."""
    h, w = x.shape[-2:]
    rh = np.float32(h - 1) / np.float32(oh - 1) if oh > 1 else np.float32(0)
    rw = np.float32(w - 1) / np.float32(ow - 1) if ow > 1 else np.float32(0)
    out = np.zeros(x.shape[:-2] + (oh, ow), np.float64)
    for i, j in np.ndindex(oh, ow):
        hr, wr = rh * np.float32(i), rw * np.float32(j)
        h1, w1 = int(hr), int(wr)
        hp, wp = int(h1 < h - 1), int(w1 < w - 1)
        lh, lw = float(hr - h1), float(wr - w1)
        out[..., i, j] = (1 - lh) * ((1 - lw) * x[..., h1, w1] + lw * x[..., h1, w1 + wp]) + lh * (
            (1 - lw) * x[..., h1 + hp, w1] + lw * x[..., h1 + hp, w1 + wp]
        )
    return out


def test_nearest_repeats_each_pixel():
    m = nn.SpatialUpSamplingNearest(3)
    x = rand(2, 2, 2, 3)
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 2, 6, 9)
    for i, j in np.ndindex(6, 9):
        np.testing.assert_array_equal(y[:, :, i, j], x[:, :, i // 3, j // 3])
    np.testing.assert_array_equal(m.forward(x[0]), y[0])
    g = rand(*y.shape)
    want = g.reshape(2, 2, 2, 3, 3, 3).sum(axis=(3, 5))  # each input gathers its 3x3 block
    assert_close(m.backward(x, g), want, terms=9)
    assert repr(m) == "nn.SpatialUpSamplingNearest"
    with pytest.raises(
        ModuleError,
        match=r"expected scale \(the integer upsampling factor\) to be an integer >= 1, got 1.5",
    ):
        nn.SpatialUpSamplingNearest(1.5)
    with pytest.raises(ModuleError, match=r"SpatialUpSamplingNearest: expected a 3D"):
        m.forward(jnp.zeros((3, 4)))


@pytest.mark.parametrize("size", [(2, 3), (1, 4)])
def test_bilinear_matches_thnn_with_aligned_corners(size):
    x = rand(2, 2, *size)
    m = nn.SpatialUpSamplingBilinear(2)
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 2, 2 * size[0], 2 * size[1])
    assert_close(y, bilinear_loops(x, *y.shape[2:]), terms=4)  # four weighted neighbours
    # aligned corners: the four corner pixels are copied
    np.testing.assert_allclose(
        y[:, :, [0, -1]][:, :, :, [0, -1]], x[:, :, [0, -1]][:, :, :, [0, -1]], rtol=0, atol=1e-6
    )
    sized = nn.SpatialUpSamplingBilinear({"oheight": 5, "owidth": 4})
    assert (sized.oheight, sized.owidth, sized.scale_factor) == (5, 4, None)
    assert_close(sized.forward(x[1]), bilinear_loops(x[1], 5, 4), terms=4)


def test_bilinear_gradient_is_the_transposed_interpolation():
    m = nn.SpatialUpSamplingBilinear(oheight=3, owidth=5)
    x = rand(1, 1, 2, 3)
    g = rand(1, 1, 3, 5)
    # <up(x), g> = <x, up^T(g)>, with up^T read off the loops applied to unit inputs
    basis = np.eye(6).reshape(6, 1, 1, 2, 3)
    matrix = np.stack([bilinear_loops(b, 3, 5).ravel() for b in basis])  # (6 inputs, 15 outputs)
    assert_close(m.backward(x, g).ravel(), matrix @ g.ravel(), terms=2 * 4)


def test_bilinear_prints_and_refuses_bad_sizes():
    assert repr(nn.SpatialUpSamplingBilinear(2)) == "nn.SpatialUpSamplingBilinear(2)"
    assert (
        repr(nn.SpatialUpSamplingBilinear({"oheight": 7, "owidth": 9}))
        == "nn.SpatialUpSamplingBilinear(7, 9)"
    )
    with pytest.raises(
        ModuleError, match=r"expected owidth \(the output width\) to be an integer >= 1, got None"
    ):
        nn.SpatialUpSamplingBilinear({"oheight": 7})
    with pytest.raises(ModuleError, match=r"keys 'owidth' and 'oheight', got keys \['height'\]"):
        nn.SpatialUpSamplingBilinear({"height": 7})
    with pytest.raises(
        ModuleError, match=r"scale_factor \(the integer upsampling factor\) .* got 0"
    ):
        nn.SpatialUpSamplingBilinear(0)
    with pytest.raises(ModuleError, match="either a scale factor or an output size, got both"):
        nn.SpatialUpSamplingBilinear(2, owidth=3)


def test_upsampling_survives_a_checkpoint(tmp_path):
    net = (
        nn.Sequential()
        .add(nn.SpatialUpSamplingNearest(2))
        .add(nn.SpatialUpSamplingBilinear({"oheight": 5, "owidth": 3}))
    )
    net.add(nn.SpatialUpSamplingBilinear(2))
    nets.save(tmp_path / "u.nets", net)
    back = nets.load(tmp_path / "u.nets")
    assert repr(back) == repr(net)
    x = rand(2, 2, 2)
    np.testing.assert_array_equal(back.forward(x), net.forward(x))


def test_upsampling_against_pytorch():
    torch = pytest.importorskip("torch")
    interpolate = torch.nn.functional.interpolate
    x = rand(2, 2, 3, 4)
    for m, kw in [
        (nn.SpatialUpSamplingNearest(2), {"scale_factor": 2, "mode": "nearest"}),
        (
            nn.SpatialUpSamplingBilinear(3),
            {"scale_factor": 3, "mode": "bilinear", "align_corners": True},
        ),
        (
            nn.SpatialUpSamplingBilinear(oheight=5, owidth=7),
            {"size": (5, 7), "mode": "bilinear", "align_corners": True},
        ),
    ]:
        xt = torch.tensor(x, requires_grad=True)
        yt = interpolate(xt, **kw)
        g = rand(*yt.shape)
        yt.backward(torch.tensor(g))
        assert_close(m.forward(x), yt.detach().numpy(), terms=4)
        assert_close(m.backward(x, g), xt.grad.numpy(), terms=4 * 9, scale=float(np.abs(g).max()))


# ------------------------------------------------------- issue 19: UpSampling, PixelShuffle

# layers whose gradients this part checks with nn.Jacobian (read by test_jacobian's
# completeness check)
FINITE_DIFFERENCES = {"UpSampling", "PixelShuffle"}


def trilinear_loops(x, od, oh, ow):
    """THNN's VolumetricUpSamplingTrilinear with corners aligned, one axis at a time (the
    trilinear weights are the product of the three axes' linear weights)."""
    out = x.astype(np.float64)
    for axis, o in zip((2, 3, 4), (od, oh, ow), strict=True):
        size = out.shape[axis]
        ratio = (size - 1) / (o - 1) if o > 1 else 0.0
        rows = []
        for k in range(o):
            r = ratio * k
            i = int(r)
            lam = r - i
            lo = np.take(out, i, axis)
            hi = np.take(out, min(i + 1, size - 1), axis)
            rows.append((1 - lam) * lo + lam * hi)
        out = np.stack(rows, axis)
    return out


def test_upsampling_nearest_and_linear_2d_3d():
    x4, x5 = rand(2, 1, 2, 3), rand(1, 2, 2, 2, 3)
    near = nn.UpSampling(2).forward(x5)
    np.testing.assert_array_equal(near, x5.repeat(2, 2).repeat(2, 3).repeat(2, 4))
    np.testing.assert_array_equal(
        nn.UpSampling(3, "nearest").forward(x4), x4.repeat(3, 2).repeat(3, 3)
    )
    # linear with a scale: size * scale, as Torch7's setSize computes (corners aligned)
    assert_close(nn.UpSampling(2, "bilinear").forward(x4), bilinear_loops(x4, 4, 6), terms=4)
    sizes = {"odepth": 3, "oheight": 4, "owidth": 5}
    assert_close(
        nn.UpSampling(sizes, "trilinear").forward(x5), trilinear_loops(x5, 3, 4, 5), terms=8
    )
    m = nn.UpSampling({"oheight": 3, "owidth": 4}, "linear")
    assert_close(m.forward(x4), bilinear_loops(x4, 3, 4), terms=4)
    for m, shape in [
        (nn.UpSampling(2), (1, 1, 2, 1, 2)),
        (nn.UpSampling(sizes, "linear"), (1, 1, 2, 2, 2)),
    ]:
        errors = nn.Jacobian.testAll(m, np.zeros(shape))
        assert errors["input"] < 1e-6, errors


def test_pixel_shuffle_moves_planes_into_pixels():
    x = rand(2, 8, 2, 3)
    y = np.asarray(nn.PixelShuffle(2).forward(x))
    assert y.shape == (2, 2, 4, 6)
    for c, h, w, i, j in np.ndindex(2, 2, 3, 2, 2):
        assert y[1, c, h * 2 + i, w * 2 + j] == x[1, c * 4 + i * 2 + j, h, w]
    np.testing.assert_array_equal(nn.PixelShuffle(2).forward(x[1]), y[1])
    errors = nn.Jacobian.testAll(nn.PixelShuffle(2), np.zeros((4, 1, 2)))
    assert errors["input"] < 1e-6, errors


def test_upsampling_pixel_shuffle_printed_forms_errors_checkpoint(tmp_path):
    assert repr(nn.UpSampling(2)) == "nn.UpSampling(2x, nearest)"
    assert (
        repr(nn.UpSampling({"oheight": 3, "owidth": 4}, "linear")) == "nn.UpSampling(3x4, linear)"
    )
    assert repr(nn.UpSampling({"odepth": 2, "oheight": 3, "owidth": 4}, "linear")) == (
        "nn.UpSampling(2x3x4, linear)"
    )
    assert repr(nn.PixelShuffle(3)) == "nn.PixelShuffle"
    with pytest.raises(ModuleError, match=r"nn\.UpSampling: nearest upsampling requires a scale"):
        nn.UpSampling({"oheight": 3, "owidth": 4})
    with pytest.raises(ModuleError, match=r"nn\.UpSampling: expected scale_factor .* >= 1"):
        nn.UpSampling(0)
    with pytest.raises(ModuleError, match=r"expected a table with keys 'oheight', 'owidth'"):
        nn.UpSampling({"oheight": 3}, "linear")
    with pytest.raises(ModuleError, match=r"nn\.UpSampling\(2x, nearest\): expected a 4D"):
        nn.UpSampling(2).forward(jnp.zeros((2, 3, 4)))
    with pytest.raises(ModuleError, match=r"expected an odepth for a volumetric \(5D\) input"):
        nn.UpSampling({"oheight": 3, "owidth": 4}, "linear").forward(jnp.zeros((1, 1, 2, 2, 2)))
    with pytest.raises(ModuleError, match=r"nn\.PixelShuffle: expected a number of planes divis"):
        nn.PixelShuffle(2).forward(jnp.zeros((1, 6, 2, 2)))
    net = nn.Sequential(nn.PixelShuffle(2), nn.UpSampling({"oheight": 5, "owidth": 3}, "linear"))
    x = rand(1, 4, 2, 2)
    want = net.forward(x)
    nets.save(tmp_path / "up.nets", net)
    back = nets.load(tmp_path / "up.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(x), want)
