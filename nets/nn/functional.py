"""The maths of `nets.nn`: pure `jax.numpy`/`lax` functions, one per op, Torch7 semantics.

Every layer in `nets.nn` is a thin shell over one function here. These functions hold no state,
validate nothing (the layers check shapes before tracing) and work under `jax.jit`, `jax.grad`
and `jax.vmap`. They are the specification: each is the plain ``lax`` form of its op.
`nets.nn.lowering` builds on them the faster forms of a few ops that the layers call
(convolution, max pooling, batch normalisation in training), each checked against the op here.

Layout: spatial ops take an NCHW batch only (layers add and remove the batch axis for a CHW
sample). Window arguments come in (height, width) order: ``kernel=(kH, kW)``,
``stride=(dH, dW)``, ``padding=(padH, padW)``. Class targets are 0-based integers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from nets._shape import adaptive_pool_bounds, pool_output_size

Array = jax.Array
Pair = tuple[int, int]

__all__ = [
    "linear",
    "conv2d",
    "conv2d_map",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "subsampling",
    "cross_map_lrn",
    "batch_norm",
    "zero_pad2d",
    "relu",
    "leaky_relu",
    "elu",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
    "dropout",
    "spatial_dropout",
    "class_nll",
    "cross_entropy",
    "mse",
    "bce",
    "abs_loss",
    "smooth_l1",
]


def _as_float(x: Array, like: Array | None = None) -> Array:
    """Integer input (uint8 images) as floats: lax's conv and windows need matching dtypes."""
    x = jnp.asarray(x)
    if like is not None and x.dtype != like.dtype:
        return x.astype(jnp.result_type(x, like))
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(jnp.result_type(float))
    return x


def _zero(x: Array) -> np.ndarray:
    """A concrete 0 of x's dtype: lax.reduce_window only differentiates a sum whose initial
    value is known at trace time (a traced ``jnp.zeros`` under ``jit`` is not)."""
    return np.zeros((), x.dtype)


def channel_view(v: Array, ndim: int) -> Array:
    """A per-channel (C,) vector broadcastable against dim 1 of an ndim-D array."""
    return jnp.reshape(v, (1, -1) + (1,) * (ndim - 2))


_channel_view = channel_view


# ----------------------------------------------------------------------------- linear / conv


def linear(x: Array, weight: Array, bias: Array | None = None) -> Array:
    """``x @ weight.T + bias`` for ``x`` of shape (N, in) and ``weight`` of shape (out, in)."""
    y = jnp.matmul(x, weight.T)
    if bias is not None:
        y = y + jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))
    return y


def conv2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    groups: int = 1,
) -> Array:
    """2-D cross-correlation (Torch7 SpatialConvolution) of an NCHW batch.

    Args:
        x: input (N, nIn, H, W).
        weight: (nOut, nIn / groups, kH, kW).
        bias: (nOut,) or None.
        stride: (dH, dW).
        padding: (padH, padW), zeros on both sides.
        groups: channel groups (AlexNet's two towers); nIn and nOut must divide by it.
    """
    x = _as_float(x, weight)
    y = lax.conv_general_dilated(
        x,
        weight,
        window_strides=(int(stride[0]), int(stride[1])),
        padding=[(int(padding[0]),) * 2, (int(padding[1]),) * 2],
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        feature_group_count=groups,
    )
    if bias is not None:
        y = y + jnp.reshape(bias, (1, -1, 1, 1))
    return y


def conv2d_map(
    x: Array,
    weight: Array,
    bias: Array,
    conn_table: Array | np.ndarray,
    stride: Pair = (1, 1),
) -> Array:
    """Torch7 SpatialConvolutionMap: a convolution whose plane connections come from a table.

    ``output[o] = bias[o] + sum_k xcorr(x[i], weight[k])`` over rows ``conn_table[k] == (i, o)``.
    Computed as one dense convolution whose (nOut, nIn) kernel grid is zero except at the
    table's connections (a scatter-add, so repeated rows sum as in Torch7).

    Args:
        x: input (N, nIn, H, W).
        weight: (nConn, kH, kW), one kernel per table row.
        bias: (nOut,).
        conn_table: (nConn, 2) integer rows ``[inPlane, outPlane]``, 0-based.
        stride: (dH, dW). There is no padding, as in Torch7.
    """
    conn = jnp.asarray(conn_table, dtype=jnp.int32)
    n_out, n_in = bias.shape[0], x.shape[1]
    dense = jnp.zeros((n_out, n_in) + weight.shape[1:], weight.dtype)
    dense = dense.at[conn[:, 1], conn[:, 0]].add(weight)
    return conv2d(x, dense, bias, stride=stride)


# ----------------------------------------------------------------------------- pooling


def _pool_padding(
    size_hw: Pair, kernel: Pair, stride: Pair, padding: Pair, ceil_mode: bool
) -> tuple[Pair, list[Pair]]:
    """Output (oH, oW) and the (low, high) padding that makes lax's windows match Torch7's."""
    out, pads = [], []
    for size, k, d, p in zip(size_hw, kernel, stride, padding, strict=True):
        o = pool_output_size(size, k, d, p, ceil_mode)
        # high padding covers the last window; in ceil mode it may reach past the right padding
        high = max((o - 1) * d + k - size - p, 0)
        out.append(o)
        pads.append((p, high))
    return (out[0], out[1]), pads


def max_pool2d(
    x: Array,
    kernel: Pair,
    stride: Pair | None = None,
    padding: Pair = (0, 0),
    ceil_mode: bool = False,
) -> Array:
    """Torch7 SpatialMaxPooling of an NCHW batch; padding never wins the max.

    Output size per axis: ``floor_or_ceil((size + 2*pad - k) / d) + 1``, minus one when the last
    window would start in the right padding (see `nets._shape.pool_output_size`).
    """
    x = _as_float(x)
    stride = kernel if stride is None else stride
    (oh, ow), pads = _pool_padding(x.shape[2:], kernel, stride, padding, ceil_mode)
    y = lax.reduce_window(
        x,
        -jnp.inf,
        lax.max,
        (1, 1) + tuple(kernel),
        (1, 1) + tuple(stride),
        [(0, 0), (0, 0)] + pads,
    )
    return y[:, :, :oh, :ow]


def _avg_divisor(size: int, k: int, d: int, p: int, out: int, count_include_pad: bool) -> list:
    """Per-window element counts along one axis, THNN's ``pool_size`` rule."""
    counts = []
    for i in range(out):
        start = i * d - p
        end = min(start + k, size + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(min(end, size) - max(start, 0))
    return counts


def avg_pool2d(
    x: Array,
    kernel: Pair,
    stride: Pair | None = None,
    padding: Pair = (0, 0),
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """Torch7 SpatialAveragePooling of an NCHW batch.

    With ``count_include_pad`` (Torch7's default) the divisor counts the zero padding inside the
    window; windows that stick out past the right padding (ceil mode) are cut at its edge.
    """
    x = _as_float(x)
    stride = kernel if stride is None else stride
    (oh, ow), pads = _pool_padding(x.shape[2:], kernel, stride, padding, ceil_mode)
    total = lax.reduce_window(
        x,
        _zero(x),
        lax.add,
        (1, 1) + tuple(kernel),
        (1, 1) + tuple(stride),
        [(0, 0), (0, 0)] + pads,
    )[:, :, :oh, :ow]
    count_h = _avg_divisor(x.shape[2], kernel[0], stride[0], padding[0], oh, count_include_pad)
    count_w = _avg_divisor(x.shape[3], kernel[1], stride[1], padding[1], ow, count_include_pad)
    divisor = np.outer(count_h, count_w).astype(np.float32)[None, None]
    return total / jnp.asarray(divisor, x.dtype)


def _adaptive_matrix(size: int, out: int) -> np.ndarray:
    """(out, size) averaging matrix: row i holds 1/len over Torch's window i."""
    m = np.zeros((out, size), np.float32)
    for i, (start, end) in enumerate(adaptive_pool_bounds(size, out)):
        m[i, start:end] = 1.0 / (end - start)
    return m


def adaptive_avg_pool2d(x: Array, out_hw: Pair) -> Array:
    """Torch SpatialAdaptiveAveragePooling of an NCHW batch to (oH, oW).

    Window i covers ``[floor(i*H/oH), ceil((i+1)*H/oH))``; computed as two small matrix
    products, which XLA fuses well and differentiates exactly.
    """
    x = _as_float(x)
    mh = jnp.asarray(_adaptive_matrix(x.shape[2], out_hw[0]), x.dtype)
    mw = jnp.asarray(_adaptive_matrix(x.shape[3], out_hw[1]), x.dtype)
    return jnp.einsum("nchw,ph,qw->ncpq", x, mh, mw)


def subsampling(
    x: Array, weight: Array, bias: Array, kernel: Pair, stride: Pair | None = None
) -> Array:
    """Torch7 SpatialSubSampling: per plane ``weight[c] * (sum over the window) + bias[c]``."""
    x = _as_float(x, weight)
    stride = kernel if stride is None else stride
    total = lax.reduce_window(
        x,
        _zero(x),
        lax.add,
        (1, 1) + tuple(kernel),
        (1, 1) + tuple(stride),
        "VALID",
    )
    return total * _channel_view(weight, 4) + _channel_view(bias, 4)


# ----------------------------------------------------------------------------- normalization


def cross_map_lrn(
    x: Array, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Array:
    """Torch7 SpatialCrossMapLRN of an NCHW batch.

    ``scale[c] = k + alpha/size * sum_{c'} x[c']^2`` over the ``size`` channels
    ``c - (size-1)//2 .. c + size//2`` that exist (missing channels at the edges count as 0);
    ``out = x * scale^-beta``.
    """
    x = _as_float(x)
    pre = (size - 1) // 2
    post = size - 1 - pre
    window_sum = lax.reduce_window(
        x * x,
        _zero(x),
        lax.add,
        (1, size) + (1,) * (x.ndim - 2),
        (1,) * x.ndim,
        [(0, 0), (pre, post)] + [(0, 0)] * (x.ndim - 2),
    )
    scale = k + (alpha / size) * window_sum
    return x * scale ** (-beta)


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
    """Torch7 (Spatial)BatchNormalization over dim 1 of an (N, C) or (N, C, H, W) array.

    In training the batch statistics normalise (biased variance) and the running statistics
    become ``(1-momentum)*running + momentum*batch``, with the *unbiased* batch variance as
    THNN does. In evaluation the running statistics normalise and are returned unchanged.

    Returns:
        (y, new_running_mean, new_running_var).
    """
    axes = (0,) + tuple(range(2, x.ndim))
    if train:
        mean = jnp.mean(x, axis=axes)
        var = jnp.mean(jnp.square(x - _channel_view(mean, x.ndim)), axis=axes)
        new_mean, new_var = running_stats(x, running_mean, running_var, mean, var, momentum)
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean, running_var
    y = (x - _channel_view(mean, x.ndim)) * _channel_view(lax.rsqrt(var + eps), x.ndim)
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    if bias is not None:
        y = y + _channel_view(bias, x.ndim)
    return y, new_mean, new_var


def running_stats(
    x: Array, running_mean: Array, running_var: Array, mean: Array, var: Array, momentum: float
) -> tuple[Array, Array]:
    """Batch normalisation's running statistics after a training batch of `x` whose per-channel
    mean and biased variance are `mean`, `var`: THNN's update, with the unbiased variance."""
    n = x.size // x.shape[1]
    unbiased = var * (n / max(n - 1, 1))
    new_mean = (1 - momentum) * running_mean + momentum * lax.stop_gradient(mean)
    new_var = (1 - momentum) * running_var + momentum * lax.stop_gradient(unbiased)
    return new_mean, new_var


def zero_pad2d(x: Array, pad_l: int, pad_r: int, pad_t: int, pad_b: int) -> Array:
    """Torch7 SpatialZeroPadding of an NCHW batch; a negative amount crops that side."""
    zero = jnp.zeros((), x.dtype)
    return lax.pad(x, zero, [(0, 0, 0), (0, 0, 0), (pad_t, pad_b, 0), (pad_l, pad_r, 0)])


# ----------------------------------------------------------------------------- transfer


def relu(x: Array) -> Array:
    """``max(x, 0)`` with Torch7's gradient (0 at x == 0)."""
    return jnp.where(x > 0, x, jnp.zeros((), x.dtype))


def leaky_relu(x: Array, negval: float = 0.01) -> Array:
    """``x`` where positive, ``negval * x`` elsewhere (Torch7 LeakyReLU)."""
    return jnp.where(x > 0, x, negval * x)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere (Torch7 ELU)."""
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0)))


def tanh(x: Array) -> Array:
    """Hyperbolic tangent."""
    return jnp.tanh(x)


def sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))``."""
    return jax.nn.sigmoid(x)


def _feature_axis(x: Array, axis: int | None) -> int:
    """Torch7's feature dim: 0 for a vector, 1 for (N, C) and NCHW."""
    if axis is not None:
        return axis
    return 0 if x.ndim == 1 else 1


def softmax(x: Array, axis: int | None = None) -> Array:
    """Softmax over the feature axis (0 for a vector, else 1)."""
    return jax.nn.softmax(x, axis=_feature_axis(x, axis))


def log_softmax(x: Array, axis: int | None = None) -> Array:
    """Log-softmax over the feature axis (0 for a vector, else 1)."""
    return jax.nn.log_softmax(x, axis=_feature_axis(x, axis))


def dropout(x: Array, p: float, key: Array) -> Array:
    """Zero each element with probability ``p`` and scale survivors by ``1/(1-p)`` (Torch7 v2)."""
    if p == 0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - p, x.shape)
    return jnp.where(keep, x / (1.0 - p), jnp.zeros((), x.dtype))


def spatial_dropout(x: Array, p: float, key: Array) -> Array:
    """Zero whole feature maps of an NCHW batch with probability ``p``, without rescaling.

    This is Torch7's SpatialDropout at training time; its evaluation mode multiplies by
    ``1 - p`` instead (done by the layer).
    """
    if p == 0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - p, x.shape[:2] + (1,) * (x.ndim - 2))
    return x * keep.astype(x.dtype)


# ---- tables and simple layers (issue 19): transfer functions


def prelu(x: Array, weight: Array, shared: bool) -> Array:
    """Torch7 PReLU: ``x`` where positive, ``a * x`` elsewhere; one ``a`` per channel (dim 0 of
    a vector, dim 1 otherwise) or, when `shared`, one ``a`` for all."""
    if shared or x.ndim == 1:
        a = weight.reshape(()) if shared else weight
    else:
        a = jnp.reshape(weight, (1, -1) + (1,) * (x.ndim - 2))
    return jnp.where(x > 0, x, a * x)


def rrelu(x: Array, lower: float, upper: float, key: Array | None) -> Array:
    """Torch7 RReLU: ``x`` where positive, else ``r * x`` with ``r ~ U(lower, upper)`` drawn per
    element (with a `key`, training) or ``r = (lower + upper) / 2`` (``key=None``, evaluation)."""
    if key is None:
        r = (lower + upper) / 2
    else:
        r = jax.random.uniform(key, x.shape, x.dtype, lower, upper)
    return jnp.where(x <= 0, x * r, x)


def softplus(x: Array, beta: float = 1.0, threshold: float = 20.0) -> Array:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    bx = x * beta
    return jnp.where(bx > threshold, x, jnp.log1p(jnp.exp(jnp.minimum(bx, threshold))) / beta)


def softsign(x: Array) -> Array:
    """``x / (1 + |x|)``."""
    return x / (1 + jnp.abs(x))


def soft_shrink(x: Array, lam: float) -> Array:
    """``x - lam`` above ``lam``, ``x + lam`` below ``-lam``, 0 between."""
    return jnp.where(x > lam, x - lam, jnp.where(x < -lam, x + lam, jnp.zeros((), x.dtype)))


def hard_shrink(x: Array, lam: float) -> Array:
    """``x`` where ``|x| > lam``, 0 elsewhere."""
    return jnp.where((x > lam) | (x < -lam), x, jnp.zeros((), x.dtype))


def threshold(x: Array, th: float, val: float) -> Array:
    """``x`` where ``x > th``, else ``val`` (gradient 0 there)."""
    return jnp.where(x > th, x, jnp.full((), val, x.dtype))


def hardtanh(x: Array, min_val: float = -1.0, max_val: float = 1.0) -> Array:
    """``x`` clipped to ``[min_val, max_val]``; gradient 0 where ``x <= min_val`` or
    ``x >= max_val`` (Torch7's HardTanh, also Clamp and ReLU6)."""
    inside = (x > min_val) & (x < max_val)
    edge = jnp.where(x <= min_val, jnp.full((), min_val, x.dtype), jnp.full((), max_val, x.dtype))
    return jnp.where(inside, x, edge)


def log_sigmoid(x: Array) -> Array:
    """``log(1 / (1 + exp(-x)))``, computed stably."""
    return jax.nn.log_sigmoid(x)


def softmin(x: Array, axis: int | None = None) -> Array:
    """``softmax(-x)`` over the feature axis (0 for a vector, else 1)."""
    return jax.nn.softmax(-x, axis=_feature_axis(x, axis))


# ---- tables and simple layers (issue 19): element-wise arithmetic


def sqrt(x: Array) -> Array:
    """``sqrt(x)`` with Torch7's gradient: 0 where the output is 0 (not infinity)."""
    zero = x == 0
    return jnp.where(zero, jnp.zeros((), x.dtype), jnp.sqrt(jnp.where(zero, 1, x)))


def power(x: Array, p: float) -> Array:
    """``x ** p`` element-wise (Torch7 Power: gradient ``p * x ** (p - 1)``)."""
    if p == 2:
        return x * x
    return jnp.power(x, p)


def cmul(x: Array, weight: Array) -> Array:
    """Torch7 CMul: ``x * weight``, the weight broadcast over a batch.

    A weight with as many elements as the input is applied element for element; one with as
    many dimensions broadcasts (size-1 dims expand); otherwise each of the ``N`` rows of the
    input, flattened, is multiplied by the flattened weight.
    """
    if x.size == weight.size:
        return x * jnp.reshape(weight, x.shape)
    if weight.ndim == x.ndim:
        return x * weight
    return jnp.reshape(jnp.reshape(x, (x.shape[0], -1)) * jnp.reshape(weight, (1, -1)), x.shape)


def cadd(x: Array, bias: Array) -> Array:
    """Torch7 CAdd: ``x + bias``, broadcast as `cmul`."""
    if x.size == bias.size:
        return x + jnp.reshape(bias, x.shape)
    if bias.ndim == x.ndim:
        return x + bias
    return jnp.reshape(jnp.reshape(x, (x.shape[0], -1)) + jnp.reshape(bias, (1, -1)), x.shape)


# ---- tables and simple layers (issue 19): reductions and dimensions


def max_along(x: Array, axis: int, keepdims: bool = False) -> Array:
    """The maximum along `axis`; the gradient goes to the first maximal element (Torch7)."""
    idx = jnp.argmax(x, axis=axis, keepdims=True)
    out = jnp.take_along_axis(x, idx, axis=axis)
    return out if keepdims else jnp.squeeze(out, axis)


def min_along(x: Array, axis: int, keepdims: bool = False) -> Array:
    """The minimum along `axis`; the gradient goes to the first minimal element (Torch7)."""
    idx = jnp.argmin(x, axis=axis, keepdims=True)
    out = jnp.take_along_axis(x, idx, axis=axis)
    return out if keepdims else jnp.squeeze(out, axis)


def pad_along(x: Array, axis: int, pad: int, index: int, value: float) -> Array:
    """Torch7 Padding: ``|pad|`` entries of `value` inserted along `axis`.

    With ``pad < 0`` they go after the first `index` entries; with ``pad > 0``, before the
    last `index` entries (so ``index = 0`` pads at the front or at the back respectively).
    """
    n = x.shape[axis]
    at = n - index if pad > 0 else index
    shape = list(x.shape)
    shape[axis] = abs(pad)
    fill = jnp.full(shape, value, x.dtype)
    head = lax.slice_in_dim(x, 0, at, axis=axis)
    tail = lax.slice_in_dim(x, at, n, axis=axis)
    return jnp.concatenate([head, fill, tail], axis=axis)


# ---- tables and simple layers (issue 19): tables


def cmax_table(xs: list) -> Array:
    """The element-wise maximum of a list of arrays; the gradient goes to the first maximal one."""
    return max_along(jnp.stack(xs), 0)


def cmin_table(xs: list) -> Array:
    """The element-wise minimum of a list of arrays; the gradient goes to the first minimal one."""
    return min_along(jnp.stack(xs), 0)


def _pnorm_rows_plain(d: Array, p: float) -> Array:
    return jnp.sum(jnp.abs(d) ** p, axis=-1) ** (1.0 / p)


_pnorm_rows = jax.custom_vjp(_pnorm_rows_plain, nondiff_argnums=(1,))


def _pnorm_rows_fwd(d, p):
    out = _pnorm_rows(d, p)
    return out, (d, out)


def _pnorm_rows_bwd(p, res, g):
    d, out = res
    if p == 1:
        grad = jnp.sign(d)
    else:
        grad = d * jnp.abs(d) ** (p - 2) if p > 2 else d
        grad = grad * ((out + 1e-6) ** (1 - p))[..., None]
    return (grad * g[..., None],)


_pnorm_rows.defvjp(_pnorm_rows_fwd, _pnorm_rows_bwd)


def pairwise_distance(a: Array, b: Array, p: float = 2.0) -> Array:
    """Torch7 PairwiseDistance: ``||a_i - b_i||_p`` per row of two (N, D) arrays (output
    ``(N,)``), or of two vectors (output ``(1,)``). The gradient is Torch7's: ``sign(d)`` for
    ``p = 1``, else ``d |d|^(p-2) / (||d||_p + 1e-6)^(p-1)``."""
    d = jnp.reshape(a - b, (-1, a.shape[-1]))
    return _pnorm_rows(d, float(p))


def dot_product(a: Array, b: Array) -> Array:
    """``sum_j a_ij b_ij`` per row of two (N, D) arrays; two vectors give a ``(1,)`` output."""
    return jnp.sum(jnp.reshape(a * b, (-1, a.shape[-1])), axis=-1)


def cosine_distance(a: Array, b: Array) -> Array:
    """Torch7 CosineDistance: ``a.b / sqrt((|a|^2 + 1e-12) (|b|^2 + 1e-12))`` per row; two
    vectors give a ``(1,)`` output."""
    a2 = jnp.reshape(a, (-1, a.shape[-1]))
    b2 = jnp.reshape(b, (-1, b.shape[-1]))
    eps = 1e-12
    w1 = jnp.sum(a2 * b2, axis=-1)
    w22 = 1 / (jnp.sum(a2 * a2, axis=-1) + eps)
    w32 = 1 / (jnp.sum(b2 * b2, axis=-1) + eps)
    return w1 * jnp.sqrt(w22 * w32)


# ---- tables and simple layers (issue 19): weighted products


def mm(a: Array, b: Array, trans_a: bool = False, trans_b: bool = False) -> Array:
    """Torch7 MM: ``a @ b`` of two matrices, or of two (N, ., .) batches of them, either one
    transposed first."""
    if trans_a:
        a = jnp.swapaxes(a, -1, -2)
    if trans_b:
        b = jnp.swapaxes(b, -1, -2)
    return jnp.matmul(a, b)


def bilinear(x1: Array, x2: Array, weight: Array, bias: Array | None = None) -> Array:
    """``y_k = x1^T W_k x2 + b_k`` for rows of (N, D1) and (N, D2) arrays; W is (K, D1, D2)."""
    y = jnp.einsum("ni,kij,nj->nk", x1, weight, x2)
    return y if bias is None else y + bias[None, :]


def euclidean(x: Array, weight: Array) -> Array:
    """Torch7 Euclidean: ``y_j = ||w_j - x||`` for the columns ``w_j`` of the (D, K) weight;
    x is (D,) or (N, D)."""
    d = x[..., :, None] - jnp.reshape(weight, (1,) * (x.ndim - 1) + weight.shape)
    return jnp.sqrt(jnp.sum(d * d, axis=-2))


def cosine(x: Array, weight: Array) -> Array:
    """Torch7 Cosine: ``y_j = w_j . x / ((||w_j|| + 1e-12) (||x|| + 1e-12))`` for the rows
    ``w_j`` of the (K, D) weight; x is (D,) or (N, D)."""
    wn = jnp.sqrt(jnp.sum(weight * weight, axis=1)) + 1e-12
    xn = jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True)) + 1e-12
    wn = jnp.reshape(wn, (1,) * (x.ndim - 1) + wn.shape)
    return (x @ weight.T) / wn / xn


def normalize(x: Array, p: float, eps: float = 1e-10) -> Array:
    """Torch7 Normalize: each row (or the vector) divided by its p-norm.

    The norm is ``(sum |x|^p + eps)^(1/p)``, or ``max |x| + eps`` for ``p = inf``.
    """
    if p == float("inf"):
        norm = jnp.max(jnp.abs(x), axis=-1, keepdims=True) + eps
    else:
        norm = (jnp.sum(jnp.abs(x) ** p, axis=-1, keepdims=True) + eps) ** (1.0 / p)
    return x / norm


def weight_norm(v: Array, g: Array, dim: int, shape: tuple) -> Array:
    """Torch7 WeightNorm's weight: ``g * v / sqrt(||v||^2 + 1e-4)``, per row of the (K, R)
    direction `v`, laid out as a weight of `shape` whose dim `dim` has the K rows."""
    norm = jnp.sqrt(jnp.sum(v * v, axis=1) + 10e-5)
    w = v * (g / norm)[:, None]
    moved = (shape[dim],) + tuple(s for i, s in enumerate(shape) if i != dim)
    return jnp.moveaxis(jnp.reshape(w, moved), 0, dim)


# ----------------------------------------------------------------------------- losses


def class_nll(
    logp: Array,
    target: Array,
    weights: Array | None = None,
    size_average: bool = True,
) -> Array:
    """Torch7 ClassNLLCriterion: ``-sum_i w[t_i] * logp[i, t_i]``.

    Args:
        logp: log-probabilities (N, C), or (C,) for one sample.
        target: 0-based class indices (N,), or a scalar for one sample.
        weights: optional per-class weights (C,).
        size_average: divide by the summed weights of the targets (by N without weights).
    """
    target = jnp.asarray(target, jnp.int32)
    if logp.ndim == 1:
        logp = logp[None, :]
        target = jnp.reshape(target, (1,))
    picked = jnp.take_along_axis(logp, target[:, None], axis=1)[:, 0]
    if weights is None:
        w = jnp.ones_like(picked)
    else:
        w = jnp.asarray(weights, logp.dtype)[target]
    total = -jnp.sum(w * picked)
    if size_average:
        total = total / jnp.sum(w)
    return total


def cross_entropy(
    x: Array,
    target: Array,
    weights: Array | None = None,
    size_average: bool = True,
) -> Array:
    """Torch7 CrossEntropyCriterion: `log_softmax` then `class_nll`."""
    return class_nll(log_softmax(x), target, weights, size_average)


def _reduce(loss: Array, size_average: bool) -> Array:
    return jnp.mean(loss) if size_average else jnp.sum(loss)


def mse(x: Array, target: Array, size_average: bool = True) -> Array:
    """Torch7 MSECriterion: ``sum((x - t)^2)``, divided by the element count if size_average."""
    return _reduce(jnp.square(x - target), size_average)


def abs_loss(x: Array, target: Array, size_average: bool = True) -> Array:
    """Torch7 AbsCriterion: ``sum(|x - t|)``, divided by the element count if size_average."""
    return _reduce(jnp.abs(x - target), size_average)


def smooth_l1(x: Array, target: Array, size_average: bool = True) -> Array:
    """Torch7 SmoothL1Criterion: ``0.5 z^2`` where ``z = |x - t| < 1``, else ``z - 0.5``."""
    z = jnp.abs(x - target)
    return _reduce(jnp.where(z < 1, 0.5 * z * z, z - 0.5), size_average)


def bce(
    x: Array,
    target: Array,
    weights: Array | None = None,
    size_average: bool = True,
    eps: float = 1e-12,
) -> Array:
    """Torch7 BCECriterion: ``-sum w * (t log(x + eps) + (1 - t) log(1 - x + eps))``.

    ``weights`` is a vector over the last dimension, repeated over the batch as in Torch7.
    """
    # (1 - x) is formed apart from eps: XLA would otherwise fold `1 - x + eps` into
    # `(1 + eps) - x`, which is 0 in float32 at x = 1, and 0 * log(0) is NaN
    loss = target * jnp.log(x + eps) + (1 - target) * jnp.log(jnp.maximum(1 - x, 0) + eps)
    if weights is not None:
        w = jnp.asarray(weights, x.dtype)
        loss = loss * jnp.reshape(w, (1,) * (x.ndim - 1) + (-1,))
    return -_reduce(loss, size_average)
