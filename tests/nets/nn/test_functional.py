"""nets.nn.functional against naive NumPy references written from Torch7's THNN loops."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from nets.nn import functional as F  # noqa: N812
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, terms):
    assert_close(a, b, terms=terms)


# ----------------------------------------------------------------------------- references


def ref_conv(x, w, b, stride, pad, groups=1):
    n, cin, h, wd = x.shape
    cout, cpg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - kh) // stride[0] + 1
    ow = (wd + 2 * pad[1] - kw) // stride[1] + 1
    out = np.zeros((n, cout, oh, ow))
    opg = cout // groups
    for o in range(cout):
        g = o // opg
        for i, j in itertools.product(range(oh), range(ow)):
            win = xp[:, g * cpg : (g + 1) * cpg, i * stride[0] : i * stride[0] + kh]
            win = win[..., j * stride[1] : j * stride[1] + kw]
            out[:, o, i, j] = (win * w[o]).sum(axis=(1, 2, 3)) + (0 if b is None else b[o])
    return out


def ref_out_size(size, k, d, p, ceil_mode):
    span = (size + 2 * p - k) / d
    o = int(np.ceil(span) if ceil_mode else np.floor(span)) + 1
    if p and (o - 1) * d >= size + p:
        o -= 1
    return o


def ref_pool(x, k, d, p, ceil_mode, mode, count_include_pad=True):
    n, c, h, w = x.shape
    oh = ref_out_size(h, k[0], d[0], p[0], ceil_mode)
    ow = ref_out_size(w, k[1], d[1], p[1], ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        hs, ws = i * d[0] - p[0], j * d[1] - p[1]
        he, we = min(hs + k[0], h + p[0]), min(ws + k[1], w + p[1])
        pool_size = (he - hs) * (we - ws)
        hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
        win = x[:, :, hs:he, ws:we]
        if mode == "max":
            out[:, :, i, j] = win.max(axis=(2, 3))
        else:
            div = pool_size if count_include_pad else (he - hs) * (we - ws)
            out[:, :, i, j] = win.sum(axis=(2, 3)) / div
    return out


def ref_lrn_torch_lua(x, size, alpha, beta, k):
    """Literal port of SpatialCrossMapLRN.lua's running-sum loop (1-based indices), odd size."""
    n, c = x.shape[:2]
    sq = x**2
    scale = np.zeros_like(x, dtype=np.float64)
    pre_pad = (size - 1) // 2 + 1
    for ch in range(1, min(pre_pad, c) + 1):
        scale[:, 0] += sq[:, ch - 1]
    for ch in range(2, c + 1):
        scale[:, ch - 1] = scale[:, ch - 2]
        if ch < c - pre_pad + 2:
            scale[:, ch - 1] += sq[:, ch + pre_pad - 2]
        if ch > pre_pad:
            scale[:, ch - 1] -= sq[:, ch - pre_pad - 1]
    scale = scale * alpha / size + k
    return x * scale ** (-beta)


# ----------------------------------------------------------------------------- linear / conv


def test_linear_matches_matmul_with_and_without_bias():
    x, w, b = rand(3, 4), rand(5, 4), rand(5)
    close(F.linear(x, w, b), x @ w.T + b, 4 + 1)  # 4 inputs and the bias
    close(F.linear(x, w, None), x @ w.T, 4)


@pytest.mark.parametrize(
    "stride,pad,groups", [((1, 1), (0, 0), 1), ((2, 1), (1, 2), 1), ((1, 2), (1, 0), 2)]
)
def test_conv2d_matches_naive_cross_correlation(stride, pad, groups):
    x, w, b = rand(2, 4, 7, 6), rand(6, 4 // groups, 3, 2), rand(6)
    got = F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)
    close(got, ref_conv(x, w, b, stride, pad, groups), (4 // groups) * 3 * 2 + 1)  # taps, bias


def test_conv2d_map_sums_the_connections_in_the_table():
    x, w, b = rand(2, 3, 6, 5), rand(4, 3, 2), rand(2)
    table = np.array([[0, 0], [2, 0], [1, 1], [2, 1]])
    got = F.conv2d_map(x, w, b, table, stride=(1, 2))
    want = np.zeros((2, 2, 4, 2)) + b[None, :, None, None]
    for kk, (i, o) in enumerate(table):
        want[:, o] += ref_conv(x[:, i : i + 1], w[kk][None, None], None, (1, 2), (0, 0))[:, 0]
    close(got, want, 2 * 3 * 2 + 1)  # 2 connections of 3x2 taps per output, and the bias


# ----------------------------------------------------------------------------- pooling


POOL_CASES = [
    # (H, W), kernel, stride, pad, ceil
    ((6, 6), (2, 2), (2, 2), (0, 0), False),
    ((7, 5), (2, 2), (2, 2), (0, 0), True),  # ceil adds a partial last window
    ((5, 5), (3, 3), (3, 3), (1, 1), True),  # ceil window starting in right pad is dropped
    ((7, 6), (3, 2), (2, 1), (1, 1), False),
    ((6, 7), (3, 3), (2, 2), (1, 0), True),
]


@pytest.mark.parametrize("hw,k,d,p,ceil_mode", POOL_CASES)
def test_max_pool2d_matches_torch_loop_and_sizes(hw, k, d, p, ceil_mode):
    x = rand(2, 3, *hw)
    got = F.max_pool2d(x, k, d, p, ceil_mode)
    want = ref_pool(x, k, d, p, ceil_mode, "max")
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # a max: exact


def test_pool_sizes_follow_torch_ceil_rule():
    x = jnp.zeros((1, 1, 7, 5))
    assert F.max_pool2d(x, (2, 2), (2, 2), ceil_mode=False).shape == (1, 1, 3, 2)
    assert F.max_pool2d(x, (2, 2), (2, 2), ceil_mode=True).shape == (1, 1, 4, 3)
    # (5 + 2 - 3)/3 -> ceil 2 windows + 1 = 3, but the third would start at 6 >= 5 + 1: dropped
    assert F.max_pool2d(jnp.zeros((1, 1, 5, 5)), (3, 3), (3, 3), (1, 1), True).shape[2:] == (2, 2)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("hw,k,d,p,ceil_mode", POOL_CASES)
def test_avg_pool2d_matches_torch_loop(hw, k, d, p, ceil_mode, count_include_pad):
    x = rand(2, 3, *hw)
    got = F.avg_pool2d(x, k, d, p, ceil_mode, count_include_pad)
    want = ref_pool(x, k, d, p, ceil_mode, "avg", count_include_pad)
    assert got.shape == want.shape
    close(got, want, k[0] * k[1] + 1)  # the window's sum and a division


def test_avg_pool2d_counts_padding_by_default():
    x = jnp.ones((1, 1, 2, 2))
    # 3x3 window centred on the corner: 4 ones, 9 cells counted
    got = F.avg_pool2d(x, (3, 3), (1, 1), (1, 1))
    close(got[0, 0, 0, 0], 4 / 9, 2)  # 4 ones (exact) over 9: one or two roundings
    got = F.avg_pool2d(x, (3, 3), (1, 1), (1, 1), count_include_pad=False)
    np.testing.assert_array_equal(got[0, 0, 0, 0], 1.0)  # 4 / 4: exact


@pytest.mark.parametrize("hw,out", [((7, 5), (3, 2)), ((4, 6), (4, 6)), ((5, 5), (1, 1))])
def test_adaptive_avg_pool2d_uses_floor_ceil_windows(hw, out):
    x = rand(2, 2, *hw)
    want = np.zeros((2, 2) + out)
    for i, j in itertools.product(range(out[0]), range(out[1])):
        hs, he = (i * hw[0]) // out[0], -(-(i + 1) * hw[0] // out[0])
        ws, we = (j * hw[1]) // out[1], -(-(j + 1) * hw[1] // out[1])
        want[:, :, i, j] = x[:, :, hs:he, ws:we].mean(axis=(2, 3))
    # floor/ceil windows span at most ceil(size / out) + 1 cells a dimension; then a division
    window = (-(-hw[0] // out[0]) + 1) * (-(-hw[1] // out[1]) + 1)
    close(F.adaptive_avg_pool2d(x, out), want, window + 1)


def test_subsampling_is_weighted_window_sum_plus_bias():
    x, w, b = rand(2, 3, 6, 5), rand(3), rand(3)
    got = F.subsampling(x, w, b, (2, 3), (2, 1))
    want = np.zeros((2, 3, 3, 3))
    for i, j in itertools.product(range(3), range(3)):
        win = x[:, :, 2 * i : 2 * i + 2, j : j + 3].sum(axis=(2, 3))
        want[:, :, i, j] = win * w + b
    close(got, want, 2 * 3 + 2)  # a 2x3 window, the weight and the bias


# ----------------------------------------------------------------------------- normalization


@pytest.mark.parametrize("size,channels", [(5, 7), (3, 2), (5, 3), (1, 4)])
def test_cross_map_lrn_matches_torch_lua_loop_at_channel_edges(size, channels):
    x = rand(2, channels, 3, 2) * 3
    got = F.cross_map_lrn(x, size, alpha=0.5, beta=0.75, k=2.0)
    # squares summed over `size` maps, * alpha / size, + k, ** -beta (exp and log), a product
    terms = path_terms(1, size, 2, 1, 2 * ELEMENTWISE, 1)
    close(got, ref_lrn_torch_lua(x.astype(np.float64), size, 0.5, 0.75, 2.0), terms)


def test_cross_map_lrn_even_size_window():
    x = rand(1, 5, 1, 1)
    got = F.cross_map_lrn(x, 4, alpha=1.0, beta=1.0, k=1.0)
    sq = x[0, :, 0, 0] ** 2
    # channel c sees c-1 .. c+2
    want = [x[0, c, 0, 0] / (1 + sq[max(c - 1, 0) : c + 3].sum() / 4) for c in range(5)]
    close(got[0, :, 0, 0], want, path_terms(1, 4, 2, 1, 2 * ELEMENTWISE, 1))  # as above, size 4


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 3)])
def test_batch_norm_train_updates_running_stats_with_unbiased_var(shape):
    x, w, b = rand(*shape), rand(3), rand(3)
    rm, rv = rand(3), np.abs(rand(3)) + 0.5
    y, nm, nv = F.batch_norm(x, rm, rv, w, b, train=True, momentum=0.2, eps=1e-3)
    axes = (0,) + tuple(range(2, len(shape)))
    view = (1, 3) + (1,) * (len(shape) - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    n = x.size // 3
    want = (x - mean.reshape(view)) / np.sqrt(var.reshape(view) + 1e-3)
    # per feature: a mean and a variance over n values, then sub, + eps, sqrt, div, * w, + b
    close(y, want * w.reshape(view) + b.reshape(view), path_terms(n, n, 6))
    close(nm, 0.8 * rm + 0.2 * mean, path_terms(n, 3))
    close(nv, 0.8 * rv + 0.2 * var * n / (n - 1), path_terms(n, n, 5))


def test_batch_norm_eval_uses_running_stats_and_keeps_them():
    x, rm, rv = rand(4, 3, 2, 2), rand(3), np.abs(rand(3)) + 0.5
    y, nm, nv = F.batch_norm(x, rm, rv, None, None, train=False)
    view = (1, 3, 1, 1)
    close(y, (x - rm.reshape(view)) / np.sqrt(rv.reshape(view) + 1e-5), 4)  # sub, +, sqrt, div
    np.testing.assert_array_equal(nm, rm)  # kept
    np.testing.assert_array_equal(nv, rv)


def test_zero_pad2d_pads_and_crops():
    x = rand(1, 2, 3, 4)
    got = F.zero_pad2d(x, 1, -1, -2, 2)
    want = np.pad(x, ((0, 0), (0, 0), (0, 2), (1, 0)))[:, :, 2:, :-1]
    assert got.shape == (1, 2, 3, 4)
    np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------- transfer


def test_pointwise_transfer_functions():
    x = rand(3, 4)
    np.testing.assert_array_equal(F.relu(x), np.maximum(x, 0))
    np.testing.assert_array_equal(F.leaky_relu(x, 0.1), np.where(x > 0, x, 0.1 * x))  # 1 product
    terms = path_terms(ELEMENTWISE, 2)  # a library exp or tanh and at most two roundings
    close(F.elu(x, 0.5), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)), terms)
    close(F.tanh(x), np.tanh(x), terms)
    close(F.sigmoid(x), 1 / (1 + np.exp(-x)), terms)


def test_relu_gradient_is_zero_at_zero_like_torch_threshold():
    g = jax.grad(lambda v: F.relu(v).sum())(jnp.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 5), 1), ((2, 4, 3, 3), 1)])
def test_softmax_and_log_softmax_over_feature_axis(shape, axis):
    x = rand(*shape)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    want = e / e.sum(axis=axis, keepdims=True)
    # x - max, exp, a sum over the feature axis, the division (or a log and a subtraction)
    terms = path_terms(1, ELEMENTWISE, shape[axis], 1, ELEMENTWISE)
    close(F.softmax(x), want, terms)
    close(F.log_softmax(x), np.log(want), terms)


def test_dropout_scales_survivors_and_is_keyed():
    x = jnp.ones((200, 50))
    key = jax.random.PRNGKey(3)
    y = np.asarray(F.dropout(x, 0.3, key))
    close(y[y != 0], np.full((y != 0).sum(), 1 / 0.7), 1)  # 1 / 0.7 rounded to float32
    assert abs((y == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(y, F.dropout(x, 0.3, key))
    np.testing.assert_array_equal(F.dropout(x, 0.0, key), x)


def test_spatial_dropout_drops_whole_maps_without_scaling():
    x = jnp.asarray(rand(8, 16, 3, 3))
    y = np.asarray(F.spatial_dropout(x, 0.5, jax.random.PRNGKey(0)))
    for n, c in itertools.product(range(8), range(16)):
        kept = np.array_equal(y[n, c], np.asarray(x[n, c]))
        assert kept or not y[n, c].any()
    dropped = (np.abs(y).sum(axis=(2, 3)) == 0).mean()
    assert 0.3 < dropped < 0.7


# ----------------------------------------------------------------------------- losses


def test_class_nll_weighted_average_divides_by_target_weights():
    logp = np.log(np.abs(rand(4, 3)) + 0.1)
    t = np.array([0, 2, 2, 1])
    w = np.array([1.0, 2.0, 0.5], np.float32)
    picked = logp[np.arange(4), t]
    close(F.class_nll(logp, t), -picked.mean(), 4 + 1)  # a sum over the batch of 4, a division
    close(F.class_nll(logp, t, size_average=False), -picked.sum(), 4)
    close(F.class_nll(logp, t, w), -(w[t] * picked).sum() / w[t].sum(), path_terms(1, 4, 4, 1))
    close(F.class_nll(logp, t, w, size_average=False), -(w[t] * picked).sum(), 1 + 4)
    close(F.class_nll(logp[1], 2, w), -logp[1, 2], 2)  # times the weight, over the weight


def test_cross_entropy_is_log_softmax_then_nll():
    x, t = rand(4, 5), np.array([4, 0, 1, 1])
    lsm = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    # exp, a sum over 5 classes, a log and a subtraction; the mean over the batch of 4
    close(F.cross_entropy(x, t), -lsm[np.arange(4), t].mean(), path_terms(ELEMENTWISE, 5, 5, 5))


def test_regression_losses():
    x, y = rand(3, 4), rand(3, 4) * 2
    terms = path_terms(3, x.size, 1)  # the difference, square and halving; the sum; the mean
    close(F.mse(x, y), ((x - y) ** 2).mean(), terms)
    close(F.mse(x, y, False), ((x - y) ** 2).sum(), terms)
    close(F.abs_loss(x, y), np.abs(x - y).mean(), terms)
    z = np.abs(x - y)
    sl1 = np.where(z < 1, 0.5 * z**2, z - 0.5)
    close(F.smooth_l1(x, y), sl1.mean(), terms)
    close(F.smooth_l1(x, y, False), sl1.sum(), terms)


def test_bce_with_weights_over_last_dim():
    p = 1 / (1 + np.exp(-rand(3, 4)))
    t = (RNG.random((3, 4)) > 0.5).astype(np.float32)
    w = np.abs(rand(4))
    eps = 1e-12
    terms = t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)
    # per element: 1 - p, + eps, two logs, two products and a sum; then the (weighted) mean
    n = path_terms(4, 2 * ELEMENTWISE, 3, 1)
    close(F.bce(p, t), -terms.mean(), path_terms(n, p.size, 1))
    close(F.bce(p, t, w, size_average=False), -(terms * w).sum(), path_terms(n, 1, p.size))


# ----------------------------------------------------------------------------- gradients


GRAD_CASES = {
    "conv2d": lambda x: F.conv2d(x, jnp.ones((2, 3, 2, 2)) * 0.3, None, (2, 1), (1, 1)),
    "max_pool_ceil": lambda x: F.max_pool2d(x, (2, 2), (2, 2), (1, 1), True),
    "avg_pool_ceil": lambda x: F.avg_pool2d(x, (3, 3), (2, 2), (1, 1), True),
    "adaptive": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "subsampling": lambda x: F.subsampling(x, jnp.arange(3.0), jnp.ones(3), (2, 2), (1, 2)),
    "lrn": lambda x: F.cross_map_lrn(x, 3, 0.5, 0.75, 1.0),
    "bn_train": lambda x: F.batch_norm(x, jnp.zeros(3), jnp.ones(3), train=True)[0],
    "pad_crop": lambda x: F.zero_pad2d(x, 2, -1, 1, 0),
    "log_softmax": F.log_softmax,
    "elu": F.elu,
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_finite_differences(name):
    with jax.enable_x64(True):
        x = jnp.asarray(RNG.standard_normal((2, 3, 5, 4)))
        # under jit, as the layers run: some ops only differentiate with concrete constants
        fn = jax.jit(GRAD_CASES[name])
        # central differences in float64 (jax's step 1e-4): truncation ~ step**2 / 6 times the
        # third derivative, about 1e-8 for these smooth maps; rounding ~ eps64 / step ~ 1e-12.
        # Not a summation order: the bound 1e-5 stays, with room for LRN's and BN's derivatives
        check_grads(fn, (x,), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)
