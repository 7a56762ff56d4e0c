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


# ---- criterions (issue 19)
# Targets of the margin losses are +1/-1; class targets are 0-based integers (the criterions
# check both on the host before tracing).


def _sum_or_mean(loss: Array, size_average: bool, count: int) -> Array:
    total = jnp.sum(loss)
    return total / count if size_average else total


def margin_loss(x: Array, target: Array, margin: float = 1.0, size_average: bool = True) -> Array:
    """Torch7 MarginCriterion: ``sum(max(0, margin - x * t))``, divided by the element count."""
    return _reduce(jnp.maximum(margin - x * target, 0), size_average)


def soft_margin(x: Array, target: Array, size_average: bool = True) -> Array:
    """Torch7 SoftMarginCriterion: ``sum(log(1 + exp(-x * t)))`` (as a stable softplus)."""
    return _reduce(jax.nn.softplus(-x * target), size_average)


def multi_margin(
    x: Array,
    target: Array,
    p: int = 1,
    weights: Array | None = None,
    margin: float = 1.0,
    size_average: bool = True,
) -> Array:
    """Torch7 MultiMarginCriterion: per sample ``sum_{d != t} w[t] max(0, margin - x[t] + x[d])^p
    / C``; summed over the samples, divided by N when size_average."""
    if x.ndim == 1:
        x, target = x[None, :], jnp.reshape(target, (1,))
    target = jnp.asarray(target, jnp.int32)
    n, c = x.shape
    x_t = jnp.take_along_axis(x, target[:, None], axis=1)
    z = jnp.maximum(margin - x_t + x, 0)
    h = z if p == 1 else z * z
    h = jnp.where(jnp.arange(c)[None, :] == target[:, None], 0, h)
    if weights is not None:
        h = h * jnp.asarray(weights, x.dtype)[target][:, None]
    return _sum_or_mean(h, size_average, n) / c


def multilabel_margin(x: Array, target: Array, size_average: bool = True) -> Array:
    """Torch7 MultiLabelMarginCriterion: per sample, for each target class ``j`` (the 0-based
    indices before the first -1 of the target row) and each non-target class ``d``,
    ``max(0, 1 - x[j] + x[d])``; the sum divided by C, and by N when size_average."""
    if x.ndim == 1:
        x, target = x[None, :], target[None, :]
    target = jnp.asarray(target, jnp.int32)
    n, c = x.shape
    valid = jnp.cumprod(target >= 0, axis=1).astype(bool)  # up to the first -1
    idx = jnp.where(valid, target, 0)
    listed = valid[:, :, None] & (idx[:, :, None] == jnp.arange(c)[None, None, :])
    is_target = jnp.any(listed, axis=1)
    x_j = jnp.take_along_axis(x, idx, axis=1)  # (N, C): x at each listed target
    z = jnp.maximum(1 - x_j[:, :, None] + x[:, None, :], 0)  # (N, target slot, class)
    z = jnp.where(valid[:, :, None] & ~is_target[:, None, :], z, 0)
    return _sum_or_mean(z, size_average, n) / c


def multilabel_soft_margin(
    x: Array, target: Array, weights: Array | None = None, size_average: bool = True
) -> Array:
    """Torch7 MultiLabelSoftMarginCriterion: ``-sum w (t log p + (1 - t) log(1 - p))`` with
    ``p = sigmoid(x)``, in its stable form ``softplus(x) - x t``; divided by the element count."""
    loss = jax.nn.softplus(x) - x * target
    if weights is not None:
        loss = loss * jnp.reshape(jnp.asarray(weights, x.dtype), (1,) * (x.ndim - 1) + (-1,))
    return _reduce(loss, size_average)


def dist_kl_div(x: Array, target: Array, size_average: bool = True) -> Array:
    """Torch7 DistKLDivCriterion: ``sum(t (log t - x))`` over the ``t > 0`` (x: log-probs)."""
    positive = target > 0
    safe = jnp.where(positive, target, 1)
    return _reduce(jnp.where(positive, target * (jnp.log(safe) - x), 0), size_average)


def hinge_embedding(x: Array, y: Array, margin: float = 1.0, size_average: bool = True) -> Array:
    """Torch7 HingeEmbeddingCriterion: ``x`` where ``y = 1``, ``max(0, margin - x)`` where
    ``y = -1``; summed, divided by the element count when size_average."""
    hinge = jnp.where(margin - x > 0, margin - x, 0)
    loss = jnp.where(y == -1, 0, x) + jnp.where(y == 1, 0, hinge)
    return _reduce(loss, size_average)


def l1_hinge_embedding(x1: Array, x2: Array, y: Array, margin: float = 1.0) -> Array:
    """Torch7 L1HingeEmbeddingCriterion: ``d = |x1 - x2|_1``; ``d`` if ``y = 1``, else
    ``max(0, margin - d)``."""
    d = jnp.sum(jnp.abs(x1 - x2))
    return jnp.where(y == 1, d, jnp.maximum(margin - d, 0))


def cosine_embedding(
    x1: Array, x2: Array, y: Array, margin: float = 0.0, size_average: bool = True
) -> Array:
    """Torch7 CosineEmbeddingCriterion, rows of (N, D) (or one (D,) pair): with
    ``cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))``, ``1 - cos`` where ``y = 1`` and
    ``max(0, cos - margin)`` where ``y = -1``; summed, divided by N when size_average."""
    if x1.ndim == 1:
        x1, x2 = x1[None, :], x2[None, :]
    y = jnp.reshape(y, (-1,))
    eps = 1e-12
    w1 = jnp.sum(x1 * x2, axis=1)
    w22 = 1 / (jnp.sum(x1 * x1, axis=1) + eps)
    w32 = 1 / (jnp.sum(x2 * x2, axis=1) + eps)
    cos = w1 * jnp.sqrt(w22 * w32)
    loss = jnp.where(y == 1, 1 - cos, jnp.maximum(cos - margin, 0))
    return _sum_or_mean(loss, size_average, y.shape[0])


def margin_ranking(
    x1: Array, x2: Array, y: Array, margin: float = 1.0, size_average: bool = True
) -> Array:
    """Torch7 MarginRankingCriterion: ``sum(max(0, -y (x1 - x2) + margin))``, divided by the
    number of pairs when size_average (a single pair, y a number, is never divided)."""
    loss = jnp.maximum(-y * (x1 - x2) + margin, 0)
    return _sum_or_mean(loss, size_average and y.ndim > 0, max(y.size, 1))


def spatial_class_nll(
    logp: Array, target: Array, weights: Array | None = None, size_average: bool = True
) -> Array:
    """Torch7 SpatialClassNLLCriterion: `class_nll` at every pixel of (N, C, H, W) log-probs
    against (N, H, W) 0-based classes, divided by the summed weights when size_average (and
    they are not 0, as Torch7)."""
    c = logp.shape[1]
    flat = jnp.reshape(jnp.moveaxis(logp, 1, -1), (-1, c))
    t = jnp.reshape(jnp.asarray(target, jnp.int32), (-1,))
    picked = jnp.take_along_axis(flat, t[:, None], axis=1)[:, 0]
    w = jnp.ones_like(picked) if weights is None else jnp.asarray(weights, logp.dtype)[t]
    total = -jnp.sum(w * picked)
    if size_average:
        total_weight = jnp.sum(w)
        total = jnp.where(
            total_weight != 0, total / jnp.where(total_weight != 0, total_weight, 1), total
        )
    return total


def regular_simplex(n: int) -> np.ndarray:
    """Torch7's ``regsplex(n)``: the (n + 1, n) vertices of a regular simplex centred at the
    origin, each of norm 1 (ClassSimplexCriterion's class embeddings)."""
    a = np.zeros((n + 1, n))
    for k in range(n):
        a[k, k] = 1.0 if k == 0 else np.sqrt(1 - np.linalg.norm(a[k, :k]) ** 2)
        c = (a[k, k] ** 2 - 1 - 1 / n) / a[k, k]
        a[k + 1 :, k] = c
    return a


def weighted_mse(x: Array, target: Array, weight: Array, size_average: bool = True) -> Array:
    """Torch7 WeightedMSECriterion: `mse` of ``x`` against ``target * weight``; a weight shaped
    like one sample of a batch is repeated over the batch."""
    w = jnp.asarray(weight, x.dtype)
    if x.ndim - 1 == w.ndim:
        w = w[None]
    return mse(x, target * w, size_average)


def l1_cost(x: Array) -> Array:
    """Torch7 L1Cost: ``sum |x|`` (no target, never averaged); its gradient ``sign(x)`` is 0 at 0,
    as THNN's (JAX's derivative of ``abs`` at 0 is 1)."""
    return jnp.sum(jnp.where(x == 0, 0, jnp.abs(x)))


def distance_ratio(x: Array, y: Array, size_average: bool = True) -> Array:
    """Torch7 DistanceRatioCriterion: ``-log(exp(-x) / (exp(-x) + exp(-y)))`` for distances
    ``x`` of similar and ``y`` of dissimilar pairs, ``= x + log(exp(-x) + exp(-y))``; summed,
    divided by the number of pairs when size_average."""
    loss = x + jnp.logaddexp(-x, -y)
    return _sum_or_mean(loss, size_average, x.shape[0])


def center_crop2d(x: Array, height: int, width: int) -> Array:
    """The centred ``height x width`` window of the last two axes (Torch7's ``centerCrop``)."""
    top = (x.shape[-2] - height) // 2
    left = (x.shape[-1] - width) // 2
    return x[..., top : top + height, left : left + width]
