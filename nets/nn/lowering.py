"""Fast lowerings of the spatial ops, chosen by shape and backend, over `nets.nn.functional`.

`nets.nn.functional` holds each op's plain ``lax`` form, the specification. This module builds
on it: the convolution, pooling and normalisation layers call the ops here, which take the
same arguments and return the same values, and pick a faster form where one is known. The
forms below were measured on the CPU (XLA's Eigen kernels); off the CPU every op takes its
``functional`` form (cuDNN's convolutions through ``lax``), as it does inside ``plain_path()``.

XLA's CPU backend is slow on some convolution and pooling shapes that CNNs use all the time:
a convolution with one or three input planes (LeNet's and every ImageNet net's first layer),
the backward passes of convolutions, and max-pooling's backward (a ``select_and_scatter``).
This module writes those ops in forms XLA compiles well, and picks one per call from the
shapes, at trace time:

``conv2d``
    * ``"taps"``: for one to four input planes and at most 32 taps (LeNet's 1->6 5x5 layer,
      VGG's 3->64 3x3 one), where XLA's convolution is slowest: the input's shifted windows
      stacked tap-major, (taps, N*oH*oW), and one matrix multiply by the (nOut, taps) weight
      matrix. Its backward is XLA's weight gradient and the stack's transpose;
    * ``"matmul"``: 1x1 kernels (no padding), a plain matrix multiply over NHWC rows;
    * ``"im2col"``: outputs of at most 4 pixels (ResNet's last stages at 32x32 input), where
      XLA's convolution collapses (a 128x256x2x2 3x3 layer: 149 ms against PyTorch's 7):
      the NHWC patches (N*oH*oW, kH*kW*nIn) times the weight matrix, one matrix multiply;
    * ``"lax"``: ``lax.conv_general_dilated`` for everything else. With the options of
      `nets.nn.compiler` (XLA's Eigen convolutions) it beat the forms above, and XLA's forward
      with an im2col backward, on every other shape of the zoo's networks
      (``python bench/bench_layers.py``). Off the plain path, a layer whose output planes are
      not a multiple of 8 computes zero filters up to the next one and drops their planes
      (the seed's LeNet conv1, 3->6: 10 ms against 19), and a layer with 6 or more input
      planes, not a multiple of 8, pads them the same way in its forward and its input
      gradient (LeNet's conv2, 6->16: forward 1.2 ms against 1.6, input gradient 4.3 against
      5.2). Eigen's kernels run 8 channels at a time.

``max_pool2d``
    * ``"tiles"``: windows that tile the input exactly (kernel == stride, no padding): a reshape
      and a max; the backward routes each window's gradient to its first maximum (Torch7's and
      XLA's rule) with elementwise masks instead of a scatter;
    * ``"slices"``: any other window: the max of ``kH*kW`` strided slices, with the same
      first-maximum backward made of masks and pads;
    * ``"lax"``: ``lax.reduce_window`` (``plain_path``).

``batch_norm``
    in training mode with an affine, `batch_norm_train`: a
    hand-written backward (two per-channel sums) in place of autodiff of the
    mean-and-variance form; ResNet-18's training step at 224x224 went from 4.9 to 5.9
    images/s.

`conv2d`, `max_pool2d` and `batch_norm` have `nets.nn.functional`'s signatures and Torch7's
semantics (NCHW in, NCHW out); `tests/nets/nn/test_lowering.py` checks each path against the
``lax`` one for equal outputs and gradients. ``with plain_path():`` forces the ``lax`` path (it
is read while a function is traced, so it applies to code compiled inside the block);
`nets.nn.compiler.jit` also compiles with XLA's default options inside it.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from nets._shape import pool_output_size
from nets._switch import Switch

from ..native import conv as native_conv
from . import functional as F  # noqa: N812
from .functional import channel_view

Array = jax.Array
Pair = tuple[int, int]

__all__ = [
    "conv2d",
    "max_pool2d",
    "batch_norm",
    "conv2d_path",
    "max_pool2d_path",
    "plain_path",
    "reads_hwio",
]

# The "taps" form beats XLA's convolution up to this many input planes and taps (nIn*kH*kW):
# LeNet's 1x5x5 layer, forward 2.8 ms against 10.9 (bench/bench_layers.py). The seed's 3x5x5
# (75 taps) and the 3x7x7 and 3x11x11 stems are faster on "lax".
TAPS_MAX_PLANES = 4
TAPS_MAX_TAPS = 32
# XLA's convolutions run fastest on channel counts that are multiples of this (see "lax").
CHANNEL_MULTIPLE = 8
# ... and pad a layer's input planes from this many on (1 and 3 planes measured slower padded
# on some shapes; 6, 12 and 20 were 13-35% faster, 10 even).
PAD_INPUT_MIN_PLANES = 6
# Outputs up to this many pixels (oH*oW) take "im2col": XLA's CPU convolution is one to two
# orders of magnitude slower than the patch product there (bench/bench_layers.py resnet18-32).
IM2COL_MAX_PIXELS = 4

_PLAIN = Switch()


def plain_path(plain: bool = True) -> contextlib.AbstractContextManager[None]:
    """Within the block, trace every op on its plain ``lax`` path (for checks and comparisons)."""
    return _PLAIN.set(plain)


_NATIVE = Switch()
_NATIVE_OFF = Switch()


def native_off(off: bool = True) -> contextlib.AbstractContextManager[None]:
    """Within the block, nothing takes oneDNN's kernels, nets' compiled functions included
    (to compare them with XLA's forms: ``python -m bench`` does)."""
    return _NATIVE_OFF.set(off)


def native_allowed(allowed: bool = True) -> contextlib.AbstractContextManager[None]:
    """Within the block, traced convolutions may take oneDNN's kernels (``"dnnl"``).

    `nets.nn.compiler.jit` traces nets' own compiled functions (a module's forward and
    backward, the Engine's and StochasticGradient's steps) inside this block. A user's own
    ``jax.jit``, ``jax.export`` or ONNX conversion of a module's call traces outside it and
    gets XLA's forms, which export and run anywhere (the FFI targets exist only in a process
    that loaded them).
    """
    return _NATIVE.set(allowed)


def plain_requested() -> bool:
    """Whether the caller is inside ``plain_path()`` (`nets.nn.compiler` reads it too)."""
    return _PLAIN.on()


def _fast_forms() -> bool:
    """Whether ops take the forms below: on the CPU, outside ``plain_path()``."""
    return not plain_requested() and jax.default_backend() == "cpu"


def mode() -> tuple[bool, str]:
    """What the forms chosen now depend on besides shapes: the plain switch and the backend
    (`nets.nn.compiled` keys compiled code by it)."""
    return (plain_requested(), jax.default_backend(), _NATIVE_OFF.on())


# ----------------------------------------------------------------------------- convolution


def conv2d_path(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    groups: int = 1,
    dtype: Any = jnp.float32,
) -> str:
    """The lowering `conv2d` uses: ``"dnnl"``, ``"taps"``, ``"matmul"``, ``"im2col"`` or
    ``"lax"``."""
    if not _fast_forms() or groups != 1:
        return "lax"
    if len(x_shape) == 4 and _takes_native(w_shape, padding, dtype):
        return "dnnl"
    if w_shape[2:] == (1, 1) and tuple(padding) == (0, 0):
        return "matmul"
    if _takes_taps(w_shape):
        return "taps"
    oh, ow = _conv_out(x_shape, w_shape, stride, padding)
    if oh * ow <= IM2COL_MAX_PIXELS:
        return "im2col"
    return "lax"


def _takes_native(w_shape, padding, dtype, traced: bool = True) -> bool:
    """The "dnnl" rule: oneDNN's direct convolution where it measured faster than XLA's forms
    (``python bench/bench_layers.py``), inside nets' own compiled functions
    (`native_allowed`), where the kernels are built and load."""
    if (traced and not _NATIVE.on()) or _NATIVE_OFF.on():
        return False
    if w_shape[2:] == (1, 1) and tuple(padding) == (0, 0):
        return False
    if _takes_taps(w_shape):
        return False
    return native_conv.supported(w_shape, dtype)


def reads_hwio(w_shape: tuple[int, ...], groups: int = 1) -> bool:
    """Whether `conv2d`'s compiled form reads a weight of this shape as (kH, kW, nIn, nOut).

    True for XLA's CPU convolution on channel counts it takes unpadded ("lax") and for the
    "matmul" and "im2col" products; False for "taps", for the channel-padded convolution, on
    the plain path and off the CPU. `nets.nn.weight_layout` hands such weights to compiled
    inference already transposed, so XLA's slow weight transposes drop out of the program.
    """
    if not _fast_forms() or groups != 1:
        return False
    if _takes_taps(w_shape):
        return False
    if tuple(w_shape[2:]) == (1, 1):
        return True
    # oneDNN reads OIHW (asked from outside the trace of the compiled inference it feeds)
    if _takes_native(w_shape, (0, 0), jnp.float32, traced=False):
        return False
    return not _pads_channels(w_shape[0], w_shape[1])


def _takes_taps(w_shape) -> bool:
    """The "taps" rule: few input planes and few taps (it reads only the weight's shape)."""
    n_in, kh, kw = w_shape[1:]
    return n_in <= TAPS_MAX_PLANES and n_in * kh * kw <= TAPS_MAX_TAPS


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
    x = F._as_float(x, weight)
    stride = (int(stride[0]), int(stride[1]))
    padding = (int(padding[0]), int(padding[1]))
    path = conv2d_path(x.shape, weight.shape, stride, padding, groups, x.dtype)
    if path == "dnnl":
        return native_conv.conv2d(x, weight, bias, stride, padding)
    if path == "taps":
        y = _conv_taps(x, weight, stride, padding)
    elif path == "im2col":
        y = _conv_im2col(x, weight, stride, padding)
    elif path == "matmul":
        y = _conv_matmul(x, weight, stride)
    else:
        y = _conv_xla(x, weight, stride, padding, groups)
    if bias is not None:
        y = y + jnp.reshape(bias, (1, -1, 1, 1))
    return y


def _conv_lax(x, weight, stride, padding, groups=1):
    return F.conv2d(x, weight, None, stride, padding, groups)


def _round_up(n: int) -> int:
    return -(-n // CHANNEL_MULTIPLE) * CHANNEL_MULTIPLE


def _pad_axis(a, axis, size):
    """`a` with zeros appended along `axis` up to `size`."""
    pads = [(0, 0)] * a.ndim
    pads[axis] = (0, size - a.shape[axis])
    return jnp.pad(a, pads)


def _conv_xla(x, weight, stride, padding, groups=1):
    """The "lax" path: XLA's convolution, off `plain_path` on channel counts it runs fast."""
    n_out, n_in = weight.shape[:2]
    if not _fast_forms() or groups != 1 or not _pads_channels(n_out, n_in):
        return _conv_lax(x, weight, stride, padding, groups)
    return _conv_channel_padded(x, weight, stride, padding)


def _pads_channels(n_out: int, n_in: int) -> bool:
    """Whether the "lax" path pads this layer's planes (`_conv_channel_padded`)."""
    return n_out % CHANNEL_MULTIPLE != 0 or _pads_input(n_in)


def _pads_input(n_in: int) -> bool:
    return n_in >= PAD_INPUT_MIN_PLANES and n_in % CHANNEL_MULTIPLE != 0


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_channel_padded(x, weight, stride, padding):
    """XLA's convolution on zero-padded channels: output planes up to a multiple of 8 (then
    dropped), and 6 or more input planes up to one (`_pads_input`)."""
    n_out, n_in = weight.shape[:2]
    weight = _pad_axis(weight, 0, _round_up(n_out))
    if _pads_input(n_in):
        x = _pad_axis(x, 1, _round_up(n_in))
        weight = _pad_axis(weight, 1, _round_up(n_in))
    return _conv_lax(x, weight, stride, padding)[:, :n_out]


def _conv_channel_padded_fwd(x, weight, stride, padding):
    return _conv_channel_padded(x, weight, stride, padding), (x, weight)


def _lax_weight_grad(x, weight, stride, padding, g):
    """XLA's own weight gradient of the plain convolution (both custom backwards use it)."""
    return jax.vjp(lambda w: _conv_lax(x, w, stride, padding), weight)[1](g)[0]


def _conv_channel_padded_bwd(stride, padding, res, g):
    """XLA's weight gradient; the input gradient on the forward's padded input planes."""
    x, weight = res
    gw = _lax_weight_grad(x, weight, stride, padding, g)
    n_in = x.shape[1]
    wide = x.shape[:1] + (_round_up(n_in) if _pads_input(n_in) else n_in,) + x.shape[2:]
    w_wide = _pad_axis(weight, 1, wide[1])
    transpose = jax.linear_transpose(
        lambda a: _conv_lax(a, w_wide, stride, padding), jax.ShapeDtypeStruct(wide, x.dtype)
    )
    return transpose(g)[0][:, :n_in], gw


_conv_channel_padded.defvjp(_conv_channel_padded_fwd, _conv_channel_padded_bwd)


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


def _conv_matmul(x, weight, stride):
    """An unpadded 1x1 convolution: the im2col form's single-tap case, (N*oH*oW, nIn) rows
    times (nIn, nOut), one matrix multiply."""
    return _conv_im2col(x, weight, stride, (0, 0))


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


def _taps_forward(x, weight, stride, padding):
    """(nOut, taps) times the tap-major windows (taps, N*oH*oW); for few input planes.

    Each tap's window is a contiguous (N, oH, oW) block of the stack, and the product streams
    along the long N*oH*oW axis, the shape XLA's CPU matrix multiply runs fastest; its
    transpose (the input gradient) is a product and a sum of padded windows that XLA fuses.
    The stack is built in two passes, the kH row shifts of each plane and then the kW column
    shifts of those: XLA fuses each pass into one copy, where one stack of kH*kW windows made
    it materialise every window first (LeNet's training step: 22.5 ms against 19.9).
    """
    n = x.shape[0]
    n_out, n_in, kh, kw = weight.shape
    oh, ow = _conv_out(x.shape, weight.shape, stride, padding)
    xp = _pad_hw(x, padding)
    sh, sw = stride
    planes = []
    for c in range(n_in):
        rows = jnp.stack(  # (kH, N, oH, Wp): the row shifts of plane c
            [
                lax.slice(xp[:, c], (0, i, 0), (n, i + sh * (oh - 1) + 1, xp.shape[3]), (1, sh, 1))
                for i in range(kh)
            ]
        )
        planes.append(
            jnp.stack(  # (kH, kW, N, oH, oW): then their column shifts
                [
                    lax.slice(rows, (0, 0, 0, j), (kh, n, oh, j + sw * (ow - 1) + 1), (1, 1, 1, sw))
                    for j in range(kw)
                ],
                axis=1,
            )
        )
    cols = jnp.reshape(jnp.stack(planes), (n_in * kh * kw, n * oh * ow))
    y = jnp.reshape(weight, (n_out, n_in * kh * kw)) @ cols
    return jnp.transpose(jnp.reshape(y, (n_out, n, oh, ow)), (1, 0, 2, 3))


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_taps(x, weight, stride, padding):
    """The "taps" convolution: `_taps_forward`, with `_conv_taps_bwd` for its backward."""
    return _taps_forward(x, weight, stride, padding)


def _conv_taps_fwd(x, weight, stride, padding):
    return _taps_forward(x, weight, stride, padding), (x, weight)


def _conv_taps_bwd(stride, padding, res, g):
    """XLA's weight gradient and the stack's transpose for the input gradient.

    Each is the fastest form measured (``bench/bench_layers.py``). LeNet's conv1 weight
    gradient: 2.6 ms on ``lax`` against 6.7 as the stack's product, whose contraction runs
    along both operands' long minor axis (4.7 with pixel-major windows); VGG's 3->64 3x3
    layer at 224x224, batch 8: 143 ms against 230. The input gradient (none for a network's
    first layer): about 5 ms for LeNet's shape as the stack's transpose, 16 on ``lax``. Both
    read only the input, so the forward keeps no stack for the backward.
    """
    x, weight = res
    gw = _lax_weight_grad(x, weight, stride, padding, g)
    gx = jax.vjp(lambda a: _taps_forward(a, weight, stride, padding), x)[1](g)[0]
    return gx, gw


_conv_taps.defvjp(_conv_taps_fwd, _conv_taps_bwd)


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
    if not _fast_forms():
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
    x = F._as_float(x)
    kernel = (int(kernel[0]), int(kernel[1]))
    stride = kernel if stride is None else (int(stride[0]), int(stride[1]))
    padding = (int(padding[0]), int(padding[1]))
    path = max_pool2d_path(x.shape, kernel, stride, padding, ceil_mode)
    if path == "tiles":
        return _max_pool_tiles(x, kernel)
    if path == "slices":
        return _max_pool_slices(x, kernel, stride, padding, ceil_mode)
    return F.max_pool2d(x, kernel, stride, padding, ceil_mode)


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
    """Each window's gradient goes to its first maximum: masks, pads and one interleave.

    Tap (i, j) of output (p, q) reads padded input (dH*p + i, dW*q + j), which lies in the
    stride phase (i % dH, j % dW) at phase position (p + i // dH, q + j // dW). So every tap's
    masked gradient is summed into its phase's grid with plain edge pads (no interior padding,
    each grid 1/(dH*dW) of the input), and the phases are interleaved once at the end.
    """
    x, y = res
    taps, padded_shape, pads = _pool_taps(x, kernel, stride, padding, ceil_mode)
    n, c = x.shape[:2]
    oh, ow = y.shape[2:]
    sh, sw = stride
    ph, pw = -(-padded_shape[2] // sh), -(-padded_shape[3] // sw)  # phase grid size
    zero = jnp.zeros((), g.dtype)
    taken = None
    phases: dict[tuple[int, int], Array] = {}
    offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
    for (i, j), tap in zip(offsets, taps, strict=True):
        hit = tap == y
        sel = hit if taken is None else hit & ~taken
        taken = hit if taken is None else taken | hit
        di, dj = i // sh, j // sw
        part = lax.pad(
            jnp.where(sel, g, zero),
            zero,
            [(0, 0, 0), (0, 0, 0), (di, ph - di - oh, 0), (dj, pw - dj - ow, 0)],
        )
        key = (i % sh, j % sw)
        phases[key] = part if key not in phases else phases[key] + part
    empty = jnp.zeros((n, c, ph, pw), g.dtype)
    grid = jnp.stack([jnp.stack([phases.get((r, t), empty) for t in range(sw)]) for r in range(sh)])
    # (sH, sW, N, C, pH, pW) -> (N, C, pH, sH, pW, sW): row pH*sH + r is phase r's row.
    gxp = jnp.reshape(jnp.transpose(grid, (2, 3, 4, 0, 5, 1)), (n, c, ph * sh, pw * sw))
    h, w = x.shape[2:]
    gx = lax.slice(gxp, (0, 0, pads[0][0], pads[1][0]), (n, c, pads[0][0] + h, pads[1][0] + w))
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


# ----------------------------------------------------------------------------- batch norm


def _bn_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def batch_norm(
    x: Array,
    running_mean: Array,
    running_var: Array,
    weight: Array | None = None,
    bias: Array | None = None,
    train: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[Array, Array, Array]:
    """`functional.batch_norm`, with `batch_norm_train` in training mode with an affine."""
    if not (train and weight is not None and bias is not None and _fast_forms()):
        return F.batch_norm(x, running_mean, running_var, weight, bias, train, momentum, eps)
    y, mean, var = batch_norm_train(x, weight, bias, eps)
    new_mean, new_var = F.running_stats(x, running_mean, running_var, mean, var, momentum)
    return y, new_mean, new_var


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def batch_norm_train(x, weight, bias, eps):
    """Training-mode batch norm with an affine: ``(y, batch mean, biased batch variance)``.

    The hand-written backward needs two per-channel sums (of g and of g*xhat), where
    autodiff of the mean-and-variance form takes more passes over the activations. The
    statistics' own gradients are not propagated (they feed only the running averages,
    which stop gradients).
    """
    return _bn_fwd(x, weight, bias, eps)[0]


def _bn_fwd(x, weight, bias, eps):
    axes, nd = _bn_axes(x), x.ndim
    mean = jnp.mean(x, axis=axes)
    var = jnp.mean(jnp.square(x - channel_view(mean, nd)), axis=axes)
    rstd = lax.rsqrt(var + eps)
    xhat = (x - channel_view(mean, nd)) * channel_view(rstd, nd)
    y = xhat * channel_view(weight, nd) + channel_view(bias, nd)
    return (y, mean, var), (x, mean, rstd, weight)


def _bn_bwd(eps, res, cts):
    x, mean, rstd, weight = res
    g = cts[0]
    axes, nd = _bn_axes(x), x.ndim
    n = x.size // x.shape[1]
    xhat = (x - channel_view(mean, nd)) * channel_view(rstd, nd)
    dbias = jnp.sum(g, axis=axes)
    dweight = jnp.sum(g * xhat, axis=axes)
    scale = channel_view(weight * rstd, nd)
    dx = scale * (g - channel_view(dbias / n, nd) - xhat * channel_view(dweight / n, nd))
    return dx, dweight, dbias


batch_norm_train.defvjp(_bn_fwd, _bn_bwd)
