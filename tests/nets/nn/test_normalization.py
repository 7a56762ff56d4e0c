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


# ---------------------------------------------------------------- issue 19


def test_volumetric_batch_norm_statistics_over_n_t_h_w():
    m = nn.VolumetricBatchNormalization(2, 1e-3, 0.3)
    assert repr(m) == "nn.VolumetricBatchNormalization (5D) (2)"
    x = rand(2, 2, 3, 2, 2) * 2 + 1
    y = m.forward(x)
    xs = x.transpose(1, 0, 2, 3, 4).reshape(2, -1).astype(np.float64)
    mean, var = xs.mean(axis=1), xs.var(axis=1)
    w, b = np.asarray(m.weight, np.float64), np.asarray(m.bias, np.float64)
    view = (1, 2, 1, 1, 1)
    want = (x - mean.reshape(view)) / np.sqrt(var.reshape(view) + 1e-3) * w.reshape(view)
    n = xs.shape[1]  # 24 values per plane: the mean and variance sum 24 terms
    close(y, want + b.reshape(view), path_terms(n, n, ELEMENTWISE, 2))
    close(m.running_mean, 0.3 * mean, n)
    close(m.running_var, 0.7 + 0.3 * var * n / (n - 1), 2 * n)  # the unbiased variance
    m.evaluate()
    single = m.forward(x[1])  # a CTHW sample in evaluation mode
    assert single.shape == x.shape[1:]
    m.training()
    with pytest.raises(ModuleError, match=r"training mode expected a 5D \(N, C, T, H, W\) batch"):
        m.forward(x[1])
    with pytest.raises(ModuleError, match=r"expected 2 input planes \(dim 1"):
        m.forward(rand(2, 3, 2, 2, 2))


def same_conv(plane, kernel):
    """Zero-padded 'same' cross-correlation of one (H, W) plane with an odd (kh, kw) kernel."""
    kh, kw = kernel.shape
    padded = np.pad(plane, [(kh // 2,) * 2, (kw // 2,) * 2])
    out = np.zeros(plane.shape)
    for i, j in np.ndindex(*plane.shape):
        out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * kernel)
    return out


def torch7_mean_estimator(x, kernel, planes, divisive):
    """Torch7's meanestimator Sequential for a CHW input, restated: zero padding, then a
    SpatialConvolution(nInputPlane -> 1) with the normalised kernel on every plane (for a 1-D
    kernel, SpatialConvolutionMap along rows then a convolution along columns), replicated."""
    k = kernel.astype(np.float64)
    if k.ndim == 2:
        kn = k / (k.sum() * planes)
        total = sum(same_conv(x[c], kn) for c in range(planes))
    else:
        kn = k / (k.sum() * (np.sqrt(planes) if divisive else planes))
        rows = [same_conv(x[c], kn[None, :]) for c in range(planes)]
        total = sum(same_conv(r, kn[:, None]) for r in rows)
    return np.broadcast_to(total, x.shape)


def torch7_subtractive(x, kernel):
    coef = torch7_mean_estimator(np.ones(x.shape), kernel, x.shape[0], False)
    return x - torch7_mean_estimator(x, kernel, x.shape[0], False) / coef


def torch7_divisive(x, kernel, threshold, thresval):
    planes = x.shape[0]
    coef = torch7_mean_estimator(np.ones(x.shape), kernel, planes, True)
    std = np.sqrt(torch7_mean_estimator(x * x, kernel, planes, True)) / coef
    return x / np.where(std > threshold, std, thresval)


@pytest.mark.parametrize("kernel", [np.ones((3, 5)), np.array([1.0, 2.0, 1.0])], ids=["2d", "1d"])
def test_local_normalisations_are_torch7s_module_graphs(kernel):
    x = rand(2, 2, 4, 5).astype(np.float64) * 3 + 1
    x = x.astype(np.float32)
    xd = x.astype(np.float64)
    taps = 2 * kernel.size  # every plane's window, summed
    sub = nn.SpatialSubtractiveNormalization(2, kernel)
    want = np.stack([torch7_subtractive(s, kernel) for s in xd])
    close(sub.forward(x), want, taps + 2, scale=float(np.abs(xd).max()))
    close(sub.forward(x[1]), want[1], taps + 2, scale=float(np.abs(xd).max()))
    div = nn.SpatialDivisiveNormalization(2, kernel, 0.5, 0.25)
    want = np.stack([torch7_divisive(s, kernel, 0.5, 0.25) for s in xd])
    # a sum of squares, a square root, two divisions: each quotient's rounding scales with it
    close(div.forward(x), want, taps + 2 * ELEMENTWISE)
    con = nn.SpatialContrastiveNormalization(2, kernel, 0.5)
    assert con.thresval == 0.5  # thresval defaults to threshold
    centred = [torch7_subtractive(s, kernel) for s in xd]
    want = np.stack([torch7_divisive(s, kernel, 0.5, 0.5) for s in centred])
    close(con.forward(x), want, 2 * taps + 2 * ELEMENTWISE)
    close(con.forward(x[0]), want[0], 2 * taps + 2 * ELEMENTWISE)


def test_divisive_threshold_replaces_small_deviations():
    x = np.zeros((1, 3, 3), np.float32)
    x[0, 1, 1] = 1e-3  # a local deviation far below the threshold everywhere
    m = nn.SpatialDivisiveNormalization(1, np.ones((3, 3)), 0.1, 2.0)
    np.testing.assert_array_equal(m.forward(x), x / 2.0)


def test_local_normalisations_defaults_and_errors():
    m = nn.SpatialSubtractiveNormalization()
    assert m.nInputPlane == 1 and m.kernel.shape == (9, 9)
    assert repr(m) == "nn.SpatialSubtractiveNormalization"
    d = nn.SpatialDivisiveNormalization(3)
    assert (d.threshold, d.thresval) == (1e-4, 1e-4)
    assert repr(nn.SpatialContrastiveNormalization(2)) == "nn.SpatialContrastiveNormalization"
    with pytest.raises(
        ModuleError,
        match=r"Normalization: expected an averaging kernel with odd sizes, got shape \(4,",
    ):
        nn.SpatialSubtractiveNormalization(1, np.ones(4))
    with pytest.raises(
        ModuleError, match=r"DivisiveNormalization: expected the averaging kernel to be a 1D or 2D"
    ):
        nn.SpatialDivisiveNormalization(1, np.ones((3, 3, 3)))
    with pytest.raises(ModuleError, match=r"expected threshold \(the smallest standard deviation"):
        nn.SpatialContrastiveNormalization(1, None, float("nan"))
    with pytest.raises(
        ModuleError, match=r"ContrastiveNormalization: expected 2 input planes \(dim 0"
    ):
        nn.SpatialContrastiveNormalization(2, np.ones(3)).forward(jnp.zeros((3, 4, 4)))


def test_new_normalizations_survive_a_checkpoint(tmp_path):
    net = nn.Sequential()
    net.add(nn.SpatialContrastiveNormalization(2, np.array([1.0, 3.0, 1.0]), 0.2, 0.3))
    net.add(nn.SpatialSubtractiveNormalization(2, np.ones((3, 3))))
    nets.save(tmp_path / "n.nets", net)
    back = nets.load(tmp_path / "n.nets")
    np.testing.assert_array_equal(back.modules[0].kernel, [1.0, 3.0, 1.0])
    x = rand(2, 2, 4, 4)
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    bn = nn.VolumetricBatchNormalization(2)
    bn.forward(rand(2, 2, 2, 2, 2))
    nets.save(tmp_path / "b.nets", bn.evaluate())
    back = nets.load(tmp_path / "b.nets")
    assert repr(back) == repr(bn) and not back.train
    np.testing.assert_array_equal(back.running_var, bn.running_var)
    x = rand(2, 2, 2, 2)
    np.testing.assert_array_equal(back.forward(x), bn.forward(x))


def test_volumetric_batch_norm_against_pytorch():
    torch = pytest.importorskip("torch")
    m = nn.VolumetricBatchNormalization(3)
    x = rand(2, 3, 2, 3, 2)
    y = m.forward(x)
    g = rand(*y.shape)
    gin = m.backward(x, g)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(np.asarray(m.weight), requires_grad=True)
    yt = torch.nn.functional.batch_norm(xt, torch.zeros(3), torch.ones(3), wt, torch.zeros(3), True)
    yt.backward(torch.tensor(g))
    n = 2 * 2 * 3 * 2
    close(y, yt.detach().numpy(), path_terms(n, n, ELEMENTWISE))
    close(gin, xt.grad.numpy(), path_terms(n, n, n, ELEMENTWISE), scale=float(np.abs(g).max() * 4))
    close(m.gradWeight, wt.grad.numpy(), n, scale=float(np.abs(g).sum()))


# ---------------------------------------------------------------- issue 19: LayerNormalization

# layers whose gradients this part checks with nn.Jacobian (read by test_jacobian's
# completeness check)
FINITE_DIFFERENCES = {"LayerNormalization"}


def test_layer_normalization_formula_batch_and_single():
    x = rand(3, 5)
    m = nn.LayerNormalization(5, 0.5)
    m.weight = np.float32([1, 2, 3, 4, 5])
    c = x.astype(np.float64) - x.mean(1, keepdims=True)
    want = np.sqrt(5) * c / np.sqrt((c * c).sum(1, keepdims=True) + 1e-10) * np.arange(1, 6) + 0.5
    terms = path_terms(5, 5, ELEMENTWISE, 3)  # the mean, the sum of squares, sqrt, the affine
    close(m.forward(x), want, terms)
    close(m.forward(x[1]), want[1], terms)
    plain = nn.LayerNormalization(5, affine=False)
    assert plain.split()[0] == {}
    close(plain.forward(x), np.sqrt(5) * c / np.sqrt((c * c).sum(1, keepdims=True)), terms)


@pytest.mark.parametrize("shape", [(2, 4), (4,)], ids=["batch", "single"])
def test_layer_normalization_gradients_match_finite_differences(shape):
    m = nn.LayerNormalization(4, 0.1, 1e-3)
    errors = nn.Jacobian.testAll(m, np.zeros(shape))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < 1e-6, errors


def test_layer_normalization_printed_form_errors_and_checkpoint(tmp_path):
    m = nn.LayerNormalization(4, 0.25)
    assert repr(m) == "nn.LayerNormalization(4)"
    np.testing.assert_array_equal(m.bias, np.full(4, 0.25, np.float32))
    with pytest.raises(ModuleError, match=r"nn\.LayerNormalization: expected eps .* >= 0"):
        nn.LayerNormalization(4, 0, -1)
    with pytest.raises(ModuleError, match=r"expected input \(N, 4\) or \(4,\), got \(2, 3\)"):
        m.forward(jnp.zeros((2, 3)))
    m.weight = np.float32([1, -1, 2, 0.5])
    x = rand(2, 4)
    nets.save(tmp_path / "ln.nets", m)
    back = nets.load(tmp_path / "ln.nets")
    np.testing.assert_array_equal(back.forward(x), m.forward(x))
