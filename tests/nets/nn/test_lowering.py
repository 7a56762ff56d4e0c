"""Every fast path of nets.nn.lowering against the plain lax path: equal outputs and gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import native as native_kernels
from nets.nn import functional as F  # noqa: N812
from nets.nn import lowering as L  # noqa: N812
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

# (input NCHW, weight OIHW, stride, padding)
CONV_CASES = [
    ((3, 1, 12, 12), (4, 1, 5, 5), (1, 1), (2, 2)),  # LeNet's conv1 shape, small
    ((2, 3, 15, 13), (5, 3, 7, 7), (2, 2), (3, 3)),  # an ImageNet stem, small
    ((2, 3, 9, 11), (4, 3, 3, 2), (2, 1), (1, 0)),  # unequal kernel, stride and padding
    ((2, 6, 10, 10), (7, 6, 1, 1), (2, 2), (0, 0)),  # 1x1 with stride (ResNet's shortcut)
    ((2, 6, 8, 8), (5, 6, 3, 3), (1, 1), (1, 1)),
    ((3, 8, 2, 2), (5, 8, 3, 3), (1, 1), (1, 1)),  # a 2x2 map (ResNet at 32x32): im2col
    ((3, 8, 4, 4), (5, 8, 3, 3), (2, 2), (1, 1)),  # strided down to 2x2
    ((3, 8, 1, 1), (5, 8, 3, 3), (1, 1), (1, 1)),  # a 1x1 map: only the centre tap is real
]

# (input NCHW, kernel, stride, padding, ceil_mode)
POOL_CASES = [
    ((2, 3, 8, 12), (2, 2), (2, 2), (0, 0), False),  # tiles
    ((2, 3, 9, 9), (3, 3), (3, 3), (0, 0), False),  # tiles, 3x3
    ((2, 3, 9, 10), (2, 2), (2, 2), (0, 0), False),  # odd height: slices
    ((2, 3, 11, 11), (3, 3), (2, 2), (1, 1), False),  # ResNet's overlapping pool
    ((2, 3, 10, 10), (3, 3), (2, 2), (0, 0), True),  # ceil mode (GoogLeNet)
    ((2, 3, 13, 11), (3, 2), (2, 1), (1, 0), True),  # unequal everything
]


def _lax_conv(x, w, b=None, stride=(1, 1), pad=(0, 0), groups=1):
    """functional.conv2d on the plain lax path (whether or not functional dispatches here)."""
    with L.plain_path():
        return F.conv2d(x, w, b, stride, pad, groups)


def _lax_pool(x, k, s=None, p=(0, 0), ceil=False):
    with L.plain_path():
        return F.max_pool2d(x, k, s, p, ceil)


def _rand(shape, seed):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _conv_pair(path):
    if path == "matmul":
        return lambda x, w, stride, pad: L._conv_matmul(x, w, stride)
    forms = {"im2col": L._conv_im2col, "taps": L._conv_taps}
    return forms.get(path, L._conv_xla)  # "xla": the lax path with its channel padding


# Every form on every case, except the matmul form, which exists for unpadded 1x1 kernels.
# The cases' 4, 5 and 7 output planes and 6 input planes take "xla"'s padded forms.
PATH_CASES = [
    (path, *case)
    for path in ("im2col", "taps", "xla", "matmul")
    for case in CONV_CASES
    if path != "matmul" or (case[1][2:] == (1, 1) and case[3] == (0, 0))
]


@pytest.mark.parametrize("path, xs, ws, stride, pad", PATH_CASES)
def test_conv_path_matches_lax(path, xs, ws, stride, pad):
    x, w = _rand(xs, 0), _rand(ws, 1)
    fast = _conv_pair(path)
    y_fast = fast(x, w, stride, pad)
    y_lax = _lax_conv(x, w, None, stride, pad)
    n_out, n_in, kh, kw = ws
    assert_close(y_fast, y_lax, terms=n_in * kh * kw)
    g = _rand(y_lax.shape, 2)
    gf = jax.vjp(lambda a, b: fast(a, b, stride, pad), x, w)[1](g)
    gl = jax.vjp(lambda a, b: _lax_conv(a, b, None, stride, pad), x, w)[1](g)
    # an input pixel gathers at most nOut*kH*kW taps; a weight, one per batch item and output pixel
    assert_close(gf[0], gl[0], terms=n_out * kh * kw, err_msg="input gradient")
    assert_close(gf[1], gl[1], terms=xs[0] * y_lax.shape[2] * y_lax.shape[3], err_msg="weight")


@pytest.mark.parametrize("xs, ws, stride, pad", [CONV_CASES[1], CONV_CASES[4]])
def test_conv2d_dispatch_matches_functional_with_bias_under_jit(xs, ws, stride, pad):
    x, w, b = _rand(xs, 3), _rand(ws, 4), _rand(ws[:1], 5)

    def loss(fn, x, w, b):
        return jnp.sum(jnp.tanh(fn(x, w, b, stride, pad)))

    fast = jax.jit(jax.value_and_grad(lambda *a: loss(L.conv2d, *a), argnums=(0, 1, 2)))
    plain = jax.jit(jax.value_and_grad(lambda *a: loss(_lax_conv, *a), argnums=(0, 1, 2)))
    (vf, gf), (vp, gp) = fast(x, w, b), plain(x, w, b)
    n, (n_out, n_in, kh, kw) = xs[0], ws
    m = _lax_conv(x, w, b, stride, pad).size  # the loss sums m tanh values, each at most 1
    conv = path_terms(n_in * kh * kw, 1, ELEMENTWISE)  # taps, bias, tanh (or its derivative)
    assert_close(vf, vp, terms=path_terms(conv, m), scale=m)
    oh_ow = m // (n * n_out)
    for a, c, terms in zip(gf, gp, (n_out * kh * kw, n * oh_ow, n * oh_ow), strict=True):
        assert_close(a, c, terms=path_terms(conv, terms))


def test_channel_padding_only_where_it_pays():
    x = jnp.zeros((2, 6, 8, 8))
    padded = jax.make_jaxpr(lambda x, w: L._conv_xla(x, w, (1, 1), (1, 1)))
    assert "custom_vjp_call" in str(padded(x, jnp.zeros((5, 6, 3, 3))))  # 5 -> 8 planes
    assert "custom_vjp_call" in str(padded(x, jnp.zeros((8, 6, 3, 3))))  # its gradient: 6 -> 8
    assert "custom_vjp_call" not in str(padded(jnp.zeros((2, 3, 8, 8)), jnp.zeros((8, 3, 3, 3))))


def test_conv2d_path_rules():
    # where oneDNN's kernels are built and load, they take every convolution XLA's own
    # convolution or im2col would (nets.native); "taps" and the 1x1 product stay
    native = "dnnl" if native_kernels.load() else None
    with L.native_allowed():
        _check_path_rules(native)
    # a user's own jax.jit or jax.export of a module traces outside nets' compiled functions:
    # XLA's forms, which export and run anywhere
    _check_path_rules(None)


def _check_path_rules(native):
    assert L.conv2d_path((128, 1, 28, 28), (6, 1, 5, 5)) == "taps"
    assert L.conv2d_path((8, 3, 224, 224), (64, 3, 3, 3), (1, 1), (1, 1)) == "taps"  # VGG
    assert L.conv2d_path((8, 3, 224, 224), (64, 3, 7, 7), (2, 2), (3, 3)) == native or "lax"
    assert L.conv2d_path((128, 3, 32, 32), (6, 3, 5, 5)) == native or "lax"  # seed LeNet conv1
    assert L.conv2d_path((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1)) == native or "lax"
    assert L.conv2d_path((8, 64, 56, 56), (128, 64, 1, 1), (2, 2)) == "matmul"
    assert L.conv2d_path((8, 64, 56, 56), (128, 64, 1, 1), (1, 1), (1, 1)) == native or "lax"
    assert L.conv2d_path((128, 256, 2, 2), (256, 256, 3, 3), (1, 1), (1, 1)) == native or "im2col"
    assert L.conv2d_path((128, 128, 4, 4), (256, 128, 3, 3), (2, 2), (1, 1)) == native or "im2col"
    assert L.conv2d_path((128, 128, 4, 4), (128, 128, 3, 3), (1, 1), (1, 1)) == native or "lax"
    assert L.conv2d_path((2, 4, 8, 8), (4, 2, 3, 3), groups=2) == "lax"
    with L.plain_path():
        assert L.conv2d_path((128, 1, 28, 28), (6, 1, 5, 5)) == "lax"
        assert L.conv2d_path((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1)) == "lax"


def test_conv2d_grouped_uses_lax_and_matches():
    x, w = _rand((2, 4, 7, 7), 6), _rand((6, 2, 3, 3), 7)
    np.testing.assert_array_equal(
        L.conv2d(x, w, None, (1, 1), (1, 1), groups=2), _lax_conv(x, w, None, (1, 1), (1, 1), 2)
    )


def _pool_inputs(shape, seed):
    """Random values, and values with many ties (ReLU zeros, repeated integers)."""
    x = _rand(shape, seed)
    ties = jnp.floor(jnp.maximum(x, 0) * 2)
    return [x, ties]


@pytest.mark.parametrize("xs, k, s, p, ceil", POOL_CASES)
def test_max_pool_paths_match_lax_including_ties(xs, k, s, p, ceil):
    path = L.max_pool2d_path(xs, k, s, p, ceil)
    assert path in ("tiles", "slices")
    for x in _pool_inputs(xs, 8):
        y_fast = L.max_pool2d(x, k, s, p, ceil)
        y_lax = _lax_pool(x, k, s, p, ceil)
        np.testing.assert_array_equal(y_fast, y_lax)
        g = _rand(y_lax.shape, 9)
        gf = jax.vjp(lambda a: L.max_pool2d(a, k, s, p, ceil), x)[1](g)[0]
        gl = jax.vjp(lambda a: _lax_pool(a, k, s, p, ceil), x)[1](g)[0]
        # the gradient goes to the first maximum of each window, as lax's scatter does (equal
        # up to the order in which overlapping windows' contributions are summed: at most
        # ceil(k/s) windows a dimension cover one input)
        s2 = s or k
        overlap = -(-k[0] // s2[0]) * -(-k[1] // s2[1])
        assert_close(gf, gl, terms=overlap)


def test_max_pool_slices_on_a_tiling_window_matches_tiles():
    x = _pool_inputs((2, 3, 8, 8), 10)[1]
    g = _rand((2, 3, 4, 4), 11)
    a = jax.vjp(lambda v: L._max_pool_slices(v, (2, 2), (2, 2), (0, 0), False), x)
    b = jax.vjp(lambda v: L._max_pool_tiles(v, (2, 2)), x)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1](g)[0], b[1](g)[0])


def test_max_pool_path_rules():
    assert L.max_pool2d_path((128, 6, 28, 28), (2, 2), (2, 2)) == "tiles"
    assert L.max_pool2d_path((128, 6, 27, 28), (2, 2), (2, 2)) == "slices"
    assert L.max_pool2d_path((8, 64, 112, 112), (3, 3), (2, 2), (1, 1)) == "slices"
    assert L.max_pool2d_path((8, 6, 28, 28), (2, 2), None) == "tiles"


def test_plain_path_forces_lax_and_restores():
    assert L.max_pool2d_path((2, 3, 8, 8), (2, 2)) == "tiles"
    with L.plain_path():
        assert L.max_pool2d_path((2, 3, 8, 8), (2, 2)) == "lax"
        with L.plain_path(False):
            assert L.max_pool2d_path((2, 3, 8, 8), (2, 2)) == "tiles"
        assert L.max_pool2d_path((2, 3, 8, 8), (2, 2)) == "lax"
    assert L.max_pool2d_path((2, 3, 8, 8), (2, 2)) == "tiles"


def test_max_pool_under_vmap():
    x = _rand((3, 2, 3, 8, 8), 12)  # a stack of batches
    fast = jax.vmap(lambda v: L.max_pool2d(v, (2, 2)))(x)
    np.testing.assert_array_equal(fast, jax.vmap(lambda v: _lax_pool(v, (2, 2)))(x))


def test_seed_lenet_step_equal_on_fast_and_plain_paths():
    """The whole seed LeNet through both lowerings: same loss and same parameter gradients."""
    from nets import nn

    net = nn.Sequential()
    net.add(nn.SpatialConvolution(1, 6, 5, 5, 1, 1, 2, 2))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.SpatialConvolution(6, 16, 5, 5))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.View(16 * 5 * 5))
    net.add(nn.Linear(16 * 5 * 5, 10))
    net.add(nn.LogSoftMax())
    params, buffers = net.split()
    x = _rand((2, 1, 28, 28), 13)
    y = jnp.array([3, 9])

    def loss(p):
        return F.class_nll(net.call(p, buffers, x)[0], y)

    assert L.conv2d_path(x.shape, params["0.weight"].shape, (1, 1), (2, 2)) == "taps"
    v_fast, g_fast = jax.value_and_grad(loss)(params)  # functional dispatches to lowering
    with L.plain_path():
        v_plain, g_plain = jax.value_and_grad(loss)(params)
    # forward: conv1 25 taps, conv2 150, linear 400, log-softmax over 10, mean over 2; backward
    # adds linear's 10, conv2's input gradient 16*25, and the weight gradients (conv1 2*28*28)
    forward = path_terms(25, 150, 400, 10 + ELEMENTWISE, 2)
    assert_close(v_fast, v_plain, terms=forward)
    for k in params:
        backward = path_terms(10, 16 * 25, 2 * 28 * 28)
        assert_close(g_fast[k], g_plain[k], terms=path_terms(forward, backward), err_msg=k)


@pytest.mark.parametrize("shape", [(4, 5, 6, 7), (6, 3)])
def test_batch_norm_train_matches_autodiff_of_plain_form(shape):
    """The hand-written batch-norm backward against autodiff of the mean-and-variance form."""
    x = _rand(shape, 20) * 3 + 1
    w, b = _rand(shape[1:2], 21), _rand(shape[1:2], 22)
    rm, rv = jnp.zeros(shape[1]), jnp.ones(shape[1])
    weights = _rand(shape, 23)

    def loss(x, w, b, plain):
        with L.plain_path(plain):
            y, m, v = F.batch_norm(x, rm, rv, w, b, train=True)
        return jnp.sum(jnp.tanh(y) * weights), (y, m, v)

    grad = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)
    (vf, aux_f), gf = jax.jit(grad, static_argnums=3)(x, w, b, False)
    (vp, aux_p), gp = jax.jit(grad, static_argnums=3)(x, w, b, True)
    # per channel: mean and variance over n values, and the backward's two sums over n
    n = x.size // shape[1]
    terms = path_terms(n, n, ELEMENTWISE, n, n)
    # the loss sums x.size products of a tanh (at most 1) and a weight
    assert_close(vf, vp, terms=path_terms(terms, x.size), scale=float(jnp.sum(jnp.abs(weights))))
    for a, c in zip(aux_f + gf, aux_p + gp, strict=True):
        assert_close(a, c, terms=terms)


def test_forward_mode_autodiff_runs_on_the_plain_path():
    """The fast forms have custom VJPs (reverse mode only); docs/nn.md points jvp users here."""
    from nets import nn

    net = nn.Sequential()
    net.add(nn.SpatialConvolution(1, 6, 5, 5)).add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2))
    net.add(nn.View(6 * 4 * 4)).add(nn.Linear(6 * 4 * 4, 3))
    params, buffers = net.split()
    x = _rand((2, 1, 12, 12), 14)

    def loss(p):
        return jnp.sum(net.call(p, buffers, x)[0] ** 2)

    grads = jax.grad(loss)(params)  # reverse mode on the fast forms
    with L.plain_path():
        _, directional = jax.jvp(loss, (params,), (params,))
    expected = sum(jnp.vdot(grads[k], params[k]) for k in params)
    # forward: conv 25 taps, linear 96, the loss's sum over 6; backward: linear's 3, the conv
    # weight's 2*8*8; then the sum over every parameter, of |grad * param| at most
    terms = path_terms(25, 96, 6, 3, 2 * 8 * 8, sum(p.size for p in params.values()))
    scale = float(sum(jnp.vdot(jnp.abs(grads[k]), jnp.abs(params[k])) for k in params))
    assert_close(directional, expected, terms=terms, scale=scale)
