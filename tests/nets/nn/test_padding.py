"""Edge padding layers: THNN's index loops restated, PyTorch where installed, reprs, errors."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import assert_close

RNG = np.random.default_rng(19)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def thnn_source(j, pad, size, reflect):
    """The input index THNN's SpatialReflection/ReplicationPadding frame reads for output j."""
    if j < pad:
        i = 2 * pad - j if reflect else pad
    elif j < size + pad:
        i = j
    else:
        i = 2 * (size + pad - 1) - j if reflect else size + pad - 1
    return i - max(pad, 0) + max(-pad, 0)


def pad_loops(x, pads, reflect):
    pad_l, pad_r, pad_t, pad_b = pads
    h, w = x.shape[-2:]
    oh, ow = h + pad_t + pad_b, w + pad_l + pad_r
    out = np.zeros(x.shape[:-2] + (oh, ow), x.dtype)
    for i, j in np.ndindex(oh, ow):
        si = thnn_source(i, pad_t, h, reflect)
        sj = thnn_source(j, pad_l, w, reflect)
        out[..., i, j] = x[..., si, sj]
    return out


@pytest.mark.parametrize(
    "cls, reflect", [(nn.SpatialReflectionPadding, True), (nn.SpatialReplicationPadding, False)]
)
def test_edge_padding_reads_thnns_indices(cls, reflect):
    x = rand(2, 2, 4, 5)
    m = cls(2, 3, -1, 1)
    want = pad_loops(x, (2, 3, -1, 1), reflect)
    y = m.forward(x)
    assert y.shape == m.outputShape(x.shape) == (2, 2, 4, 10)
    np.testing.assert_array_equal(y, want)  # copies: exact
    np.testing.assert_array_equal(m.forward(x[1]), want[1])
    # the gradient of a copy: each input collects the gradients of the outputs that read it
    g = rand(*y.shape)
    gin = np.zeros(x.shape, np.float64)
    for i, j in np.ndindex(*y.shape[2:]):
        gin[:, :, thnn_source(i, -1, 4, reflect), thnn_source(j, 2, 5, reflect)] += g[:, :, i, j]
    # at most 4 outputs (2 per axis) read one input here: a sum of up to 4 gradients
    assert_close(m.backward(x, g), gin, terms=4, scale=4 * float(np.abs(g).max()))


def test_reflection_mirrors_without_repeating_the_edge():
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4)
    np.testing.assert_array_equal(
        nn.SpatialReflectionPadding(2, 1, 0, 0).forward(x)[0, 0], [2, 1, 0, 1, 2, 3, 2]
    )
    np.testing.assert_array_equal(
        nn.SpatialReplicationPadding(2, 1, 0, 0).forward(x)[0, 0], [0, 0, 0, 1, 2, 3, 3]
    )


def test_edge_padding_defaults_print_and_errors():
    m = nn.SpatialReflectionPadding(1)
    assert (m.pad_l, m.pad_r, m.pad_t, m.pad_b) == (1, 1, 1, 1)
    assert repr(m) == "nn.SpatialReflectionPadding(l=1, r=1, t=1, b=1)"
    assert (
        repr(nn.SpatialReplicationPadding(1, 2, 3, 4))
        == "nn.SpatialReplicationPadding(l=1, r=2, t=3, b=4)"
    )
    with pytest.raises(ModuleError, match=r"expected pad_t \(the columns or rows added on the top"):
        nn.SpatialReplicationPadding(1, 1, 1.5)
    with pytest.raises(
        ModuleError, match=r"expected pad_r \(3\) to be smaller than the input's width \(3\)"
    ):
        nn.SpatialReflectionPadding(1, 3).forward(jnp.zeros((1, 4, 3)))
    with pytest.raises(ModuleError, match=r"expected a 3D \(C, H, W\) sample or a 4D"):
        nn.SpatialReplicationPadding(1).forward(jnp.zeros((4, 3)))
    with pytest.raises(
        ModuleError,
        match=r"too small: given input size \(1x2x2\), calculated output size \(1x0x2\)",
    ):
        nn.SpatialReplicationPadding(0, 0, -1, -1).forward(jnp.zeros((1, 2, 2)))


def test_edge_padding_survives_a_checkpoint(tmp_path):
    net = (
        nn.Sequential()
        .add(nn.SpatialReflectionPadding(1, 2, 0, 1))
        .add(nn.SpatialReplicationPadding(2))
    )
    nets.save(tmp_path / "p.nets", net)
    back = nets.load(tmp_path / "p.nets")
    assert repr(back) == repr(net)
    x = rand(1, 3, 3)
    np.testing.assert_array_equal(back.forward(x), net.forward(x))


def test_edge_padding_against_pytorch():
    torch = pytest.importorskip("torch")
    x = rand(2, 2, 4, 5)
    for m, mode in [
        (nn.SpatialReflectionPadding(2, 3, 1, 2), "reflect"),
        (nn.SpatialReplicationPadding(2, 3, 1, 4), "replicate"),
    ]:
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.pad(xt, (m.pad_l, m.pad_r, m.pad_t, m.pad_b), mode=mode)
        g = rand(*yt.shape)
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(m.forward(x), yt.detach().numpy())
        # up to 3 reflected or 5 replicated outputs per axis read one input
        assert_close(m.backward(x, g), xt.grad.numpy(), terms=5 * 5, scale=float(np.abs(g).max()))


# layers whose gradients this part checks with nn.Jacobian (read by test_jacobian's completeness
# check)
FINITE_DIFFERENCES = {"VolumetricReplicationPadding"}


def test_volumetric_replication_padding_against_numpy_and_gradients(tmp_path):
    x = rand(1, 2, 2, 3, 2)
    m = nn.VolumetricReplicationPadding(1, 0, 2, -1, 1, 2)
    want = np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 0), (1, 0)], mode="edge")[:, :, :, :-1]
    np.testing.assert_array_equal(m.forward(x), want)
    np.testing.assert_array_equal(m.forward(x[0]), want[0])
    assert m.forward(x).shape == m.outputShape(x.shape)
    np.testing.assert_array_equal(
        nn.VolumetricReplicationPadding(1).forward(x),
        np.pad(x, [(0, 0)] * 2 + [(1, 1)] * 3, mode="edge"),
    )
    for shape in [(1, 1, 2, 2, 2), (1, 2, 2, 2)]:
        errors = nn.Jacobian.testAll(m, np.zeros(shape))
        assert errors["input"] < 1e-6, errors
    assert repr(m) == (
        "nn.VolumetricReplicationPadding(left=1, right=0, top=2, bottom=-1, front=1, back=2)"
    )
    with pytest.raises(ModuleError, match=r"expected pback \(the amount added on the back"):
        nn.VolumetricReplicationPadding(1, 1, 1, 1, 1, 0.5)
    with pytest.raises(ModuleError, match=r"expected a 4D \(C, T, H, W\) sample or a 5D"):
        m.forward(jnp.zeros((2, 3, 4)))
    with pytest.raises(ModuleError, match=r"input is too small"):
        nn.VolumetricReplicationPadding(-2).forward(jnp.zeros((1, 2, 3, 3)))
    nets.save(tmp_path / "pad.nets", m)
    np.testing.assert_array_equal(nets.load(tmp_path / "pad.nets").forward(x), want)
