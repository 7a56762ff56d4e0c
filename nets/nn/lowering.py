"""Fast lowerings of the spatial ops, chosen by shape; drop-in for `nets.nn.functional`.

XLA's CPU backend is slow on some convolution and pooling shapes that CNNs use all the time:
a convolution with one or three input planes (LeNet's and every ImageNet net's first layer),
the backward passes of convolutions, and max-pooling's backward (a ``select_and_scatter``).
This module writes those ops in forms XLA compiles well, and picks one per call from the
shapes, at trace time:

``conv2d``
    * ``"im2col"``: the input's patches times the weight matrix, one matrix multiply whose
      backward is two matrix multiplies (input and weight gradients) and a fused col2im; for
      few input planes and taps (LeNet's first layer), where XLA's convolution is slowest,
      and for 1x1 kernels (a plain matrix multiply);
    * ``"lax+mm"``: XLA's forward with the im2col form's backward, for few input planes but
      a wide kernel (the 3x7x7 ImageNet stem: XLA's forward wins, its backward loses);
    * ``"lax"``: ``lax.conv_general_dilated`` for everything else (there, inside a whole
      training step, neither im2col nor XLA-forward-with-im2col-backward measured faster).

``max_pool2d``
    * ``"tiles"``: windows that tile the input exactly (kernel == stride, no padding): a reshape
      and a max; the backward routes each window's gradient to its first maximum (Torch7's and
      XLA's rule) with elementwise masks instead of a scatter;
    * ``"slices"``: any other window: the max of ``kH*kW`` strided slices, with the same
      first-maximum backward made of masks and pads;
    * ``"lax"``: ``lax.reduce_window`` (``plain_path``).

Every function has `nets.nn.functional`'s signature and Torch7's semantics (NCHW in, NCHW
out); `tests/nets/nn/test_lowering.py` checks each path against the ``lax`` one for equal
outputs and gradients. ``with plain_path():`` forces the ``lax`` path (it is read while a
function is traced, so it applies to code compiled inside the block); `nets.nn.compiler.jit`
also compiles with XLA's default options inside it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from nets._shape import pool_output_size

Array = jax.Array
Pair = tuple[int, int]

__all__ = ["conv2d", "max_pool2d", "conv2d_path", "max_pool2d_path", "plain_path"]

# Input planes up to which im2col + matmul beats XLA's convolution forward and backward
# (bench/bench_layers.py: LeNet's 1->6 5x5 conv and the 3-plane ImageNet stems).
IM2COL_MAX_PLANES = 4
# Beyond this many taps (nIn*kH*kW; ResNet's 3x7x7 stem has 147) the im2col product's forward
# is slower than XLA's (inference suffers), so such layers take XLA's forward and only the
# im2col backward ("lax+mm").
IM2COL_MAX_TAPS = 32

_state = threading.local()


@contextlib.contextmanager
def plain_path(plain: bool = True) -> Iterator[None]:
    """Within the block, trace every op on its plain ``lax`` path (for checks and comparisons)."""
    saved = getattr(_state, "plain", False)
    _state.plain = plain
    try:
        yield
    finally:
        _state.plain = saved


def plain_requested() -> bool:
    """Whether the caller is inside ``plain_path()`` (`nets.nn.compiler` reads it too)."""
    return getattr(_state, "plain", False)


# ----------------------------------------------------------------------------- convolution


def conv2d_path(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    groups: int = 1,
) -> str:
    """The lowering `conv2d` uses for these shapes: ``"im2col"``, ``"lax+mm"`` or ``"lax"``."""
    if plain_requested() or groups != 1:
        return "lax"
    if w_shape[2:] == (1, 1):
        return "im2col"
    if w_shape[1] <= IM2COL_MAX_PLANES:
        taps = w_shape[1] * w_shape[2] * w_shape[3]
        if taps <= IM2COL_MAX_TAPS:
            return "im2col"
        # Strided stems (ResNet 3x7x7/2, AlexNet 3x11x11/4) gain from the im2col backward;
        # the seed's stride-1 3x5x5 LeNet conv loses (a whole training step: 94 ms vs 73 ms
        # on lax; python bench/bench_nn_overhead.py shows the whole path).
        return "lax+mm" if max(stride) > 1 else "lax"
    return "lax"


def conv2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    groups: int = 1,
) -> Array:
    """2-D cross-correlation of an NCHW batch; same contract as `functional.conv2d`.

    Args:
        x: input (N, nIn, H, W).
        weight: (nOut, nIn / groups, kH, kW).
        bias: (nOut,) or None.
        stride: (dH, dW).
        padding: (padH, padW), zeros on both sides.
        groups: channel groups.
    """
    stride = (int(stride[0]), int(stride[1]))
    padding = (int(padding[0]), int(padding[1]))
    path = conv2d_path(x.shape, weight.shape, stride, padding, groups)
    if path == "im2col":
        y = _conv_im2col(x, weight, stride, padding)
    elif path == "lax+mm":
        y = _conv_lax_mm(x, weight, stride, padding)
    else:
        y = _conv_lax(x, weight, stride, padding, groups)
    if bias is not None:
        y = y + jnp.reshape(bias, (1, -1, 1, 1))
    return y


def _conv_lax(x, weight, stride, padding, groups=1):
    return lax.conv_general_dilated(
        x,
        weight,
        window_strides=stride,
        padding=[(padding[0], padding[0]), (padding[1], padding[1])],
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        feature_group_count=groups,
    )


def _conv_out(x_shape, w_shape, stride, padding) -> Pair:
    oh = (x_shape[2] + 2 * padding[0] - w_shape[2]) // stride[0] + 1
    ow = (x_shape[3] + 2 * padding[1] - w_shape[3]) // stride[1] + 1
    return oh, ow


def _pad_hw(x, padding, value=0.0):
    if padding == (0, 0):
        return x
    pad_value = jnp.array(value, x.dtype)
    return lax.pad(
        x, pad_value, [(0, 0, 0), (0, 0, 0), (padding[0],) * 2 + (0,), (padding[1],) * 2 + (0,)]
    )


def _window_slice(xp, i, j, out_hw, stride):
    """Rows i, i+dH, ... and columns j, j+dW, ... of an NCHW array: (N, C, oH, oW)."""
    n, c = xp.shape[:2]
    end = (i + stride[0] * (out_hw[0] - 1) + 1, j + stride[1] * (out_hw[1] - 1) + 1)
    return lax.slice(xp, (0, 0, i, j), (n, c) + end, (1, 1) + stride)


def _conv_im2col(x, weight, stride, padding):
    """Patches (N*oH*oW, kH*kW*nIn) times the weight matrix (kH*kW*nIn, nOut).

    The patches are built in NHWC order so the product needs no transposes of its own; its
    autodiff is two matrix multiplies and a col2im made of pads that XLA fuses.
    """
    n = x.shape[0]
    n_out, n_in, kh, kw = weight.shape
    oh, ow = _conv_out(x.shape, weight.shape, stride, padding)
    xh = jnp.transpose(_pad_hw(x, padding), (0, 2, 3, 1))  # N, Hp, Wp, C
    if kh == 1 and kw == 1:
        cols = lax.slice(
            xh,
            (0, 0, 0, 0),
            (n, stride[0] * (oh - 1) + 1, stride[1] * (ow - 1) + 1, n_in),
            (1,) + stride + (1,),
        )
    else:
        taps = []
        for i in range(kh):
            for j in range(kw):
                end = (n, i + stride[0] * (oh - 1) + 1, j + stride[1] * (ow - 1) + 1, n_in)
                taps.append(lax.slice(xh, (0, i, j, 0), end, (1,) + stride + (1,)))
        cols = jnp.concatenate(taps, axis=3)  # N, oH, oW, kH*kW*C
    wm = jnp.reshape(jnp.transpose(weight, (2, 3, 1, 0)), (kh * kw * n_in, n_out))
    y = jnp.reshape(cols, (n * oh * ow, kh * kw * n_in)) @ wm
    return jnp.transpose(jnp.reshape(y, (n, oh, ow, n_out)), (0, 3, 1, 2))


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_lax_mm(x, weight, stride, padding):
    """XLA's convolution forward, the im2col form's backward (for wide few-plane stems)."""
    return _conv_lax(x, weight, stride, padding)


def _conv_lax_mm_fwd(x, weight, stride, padding):
    return _conv_lax(x, weight, stride, padding), (x, weight)


def _conv_lax_mm_bwd(stride, padding, res, g):
    # The VJP of the im2col form: dW = patches^T g and dx = col2im(g W^T). Its own forward
    # product is unused here, so XLA drops it.
    x, weight = res
    return jax.vjp(lambda a, b: _conv_im2col(a, b, stride, padding), x, weight)[1](g)


_conv_lax_mm.defvjp(_conv_lax_mm_fwd, _conv_lax_mm_bwd)


# ----------------------------------------------------------------------------- max pooling


def _pool_geometry(size_hw, kernel, stride, padding, ceil_mode):
    """Output (oH, oW) and per-axis (low, high) padding, as `functional.max_pool2d` uses."""
    out, pads = [], []
    for size, k, d, p in zip(size_hw, kernel, stride, padding, strict=True):
        o = pool_output_size(size, k, d, p, ceil_mode)
        out.append(o)
        pads.append((p, max((o - 1) * d + k - size - p, 0)))
    return (out[0], out[1]), (pads[0], pads[1])


def max_pool2d_path(
    x_shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair | None = None,
    padding: Pair = (0, 0),
    ceil_mode: bool = False,
) -> str:
    """The lowering `max_pool2d` uses: ``"tiles"``, ``"slices"`` or ``"lax"``."""
    if plain_requested():
        return "lax"
    stride = kernel if stride is None else stride
    h, w = x_shape[2:]
    tiles = tuple(stride) == tuple(kernel) and tuple(padding) == (0, 0)
    if tiles and h % kernel[0] == 0 and w % kernel[1] == 0:
        return "tiles"
    return "slices"


def max_pool2d(
    x: Array,
    kernel: Pair,
    stride: Pair | None = None,
    padding: Pair = (0, 0),
    ceil_mode: bool = False,
) -> Array:
    """Torch7 SpatialMaxPooling of an NCHW batch; same contract as `functional.max_pool2d`."""
    kernel = (int(kernel[0]), int(kernel[1]))
    stride = kernel if stride is None else (int(stride[0]), int(stride[1]))
    padding = (int(padding[0]), int(padding[1]))
    path = max_pool2d_path(x.shape, kernel, stride, padding, ceil_mode)
    if path == "tiles":
        return _max_pool_tiles(x, kernel)
    if path == "slices":
        return _max_pool_slices(x, kernel, stride, padding, ceil_mode)
    return _max_pool_lax(x, kernel, stride, padding, ceil_mode)


def _max_pool_lax(x, kernel, stride, padding, ceil_mode):
    (oh, ow), pads = _pool_geometry(x.shape[2:], kernel, stride, padding, ceil_mode)
    y = lax.reduce_window(
        x, -jnp.inf, lax.max, (1, 1) + kernel, (1, 1) + stride, [(0, 0), (0, 0), *pads]
    )
    return y[:, :, :oh, :ow]


def _pool_taps(x, kernel, stride, padding, ceil_mode):
    """The padded input's strided slices, one per window offset, in Torch7's scan order."""
    out_hw, pads = _pool_geometry(x.shape[2:], kernel, stride, padding, ceil_mode)
    neg = jnp.array(-jnp.inf, x.dtype)
    xp = lax.pad(x, neg, [(0, 0, 0), (0, 0, 0), pads[0] + (0,), pads[1] + (0,)])
    taps = [
        _window_slice(xp, i, j, out_hw, stride) for i in range(kernel[0]) for j in range(kernel[1])
    ]
    return taps, xp.shape, pads


@partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
def _max_pool_slices(x, kernel, stride, padding, ceil_mode):
    taps, _, _ = _pool_taps(x, kernel, stride, padding, ceil_mode)
    y = taps[0]
    for t in taps[1:]:
        y = jnp.maximum(y, t)
    return y


def _max_pool_fwd(x, kernel, stride, padding, ceil_mode):
    y = _max_pool_slices(x, kernel, stride, padding, ceil_mode)
    return y, (x, y)


def _max_pool_bwd(kernel, stride, padding, ceil_mode, res, g):
    """Each window's gradient goes to its first maximum: masks and pads, no scatter."""
    x, y = res
    taps, padded_shape, pads = _pool_taps(x, kernel, stride, padding, ceil_mode)
    oh, ow = y.shape[2:]
    zero = jnp.zeros((), g.dtype)
    taken = None
    gxp = None
    offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
    for (i, j), tap in zip(offsets, taps, strict=True):
        hit = tap == y
        sel = hit if taken is None else hit & ~taken
        taken = hit if taken is None else taken | hit
        part = jnp.where(sel, g, zero)
        high_h = padded_shape[2] - i - stride[0] * (oh - 1) - 1
        high_w = padded_shape[3] - j - stride[1] * (ow - 1) - 1
        part = lax.pad(
            part,
            zero,
            [(0, 0, 0), (0, 0, 0), (i, high_h, stride[0] - 1), (j, high_w, stride[1] - 1)],
        )
        gxp = part if gxp is None else gxp + part
    h, w = x.shape[2:]
    gx = lax.slice(
        gxp,
        (0, 0, pads[0][0], pads[1][0]),
        (x.shape[0], x.shape[1], pads[0][0] + h, pads[1][0] + w),
    )
    return (gx,)


_max_pool_slices.defvjp(_max_pool_fwd, _max_pool_bwd)


def _tiles(x, kernel):
    """(N, C, oH, kH, oW, kW) view of an NCHW array whose windows tile it exactly."""
    n, c, h, w = x.shape
    return jnp.reshape(x, (n, c, h // kernel[0], kernel[0], w // kernel[1], kernel[1]))


@partial(jax.custom_vjp, nondiff_argnums=(1,))
def _max_pool_tiles(x, kernel):
    """Non-overlapping windows that tile the input: a reshape and a max, no strided reads."""
    return jnp.max(_tiles(x, kernel), axis=(3, 5))


def _max_pool_tiles_fwd(x, kernel):
    y = _max_pool_tiles(x, kernel)
    return y, (x, y)


def _max_pool_tiles_bwd(kernel, res, g):
    x, y = res
    xt = _tiles(x, kernel)
    zero = jnp.zeros((), g.dtype)
    taken = None
    rows = []
    for i in range(kernel[0]):
        cols = []
        for j in range(kernel[1]):
            hit = xt[:, :, :, i, :, j] == y
            sel = hit if taken is None else hit & ~taken
            taken = hit if taken is None else taken | hit
            cols.append(jnp.where(sel, g, zero))
        rows.append(jnp.stack(cols, axis=-1))  # N, C, oH, oW, kW
    gt = jnp.stack(rows, axis=3)  # N, C, oH, kH, oW, kW
    return (jnp.reshape(gt, x.shape),)


_max_pool_tiles.defvjp(_max_pool_tiles_fwd, _max_pool_tiles_bwd)
