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


# ---- embedding and recurrence (issue 19)


def embedding(
    weight: Array,
    indices: Array,
    padding_value: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
) -> Array:
    """Torch7's LookupTable: the rows of ``weight`` (nIndex, nOutput) at 0-based ``indices``.

    The output has shape ``indices.shape + (nOutput,)``; an index outside ``[0, nIndex)`` reads
    a row of NaN (jax would clamp it to a valid row). With ``max_norm``, each row read whose
    ``norm_type``-norm exceeds it is scaled to ``max_norm / (norm + 1e-7)`` times itself
    (THNN's ``LookupTable_renorm``); Torch7 does this in place before the lookup, so the
    gradient is the plain lookup's. Rows at ``padding_value`` get no gradient; with
    ``scale_grad_by_freq`` each row's gradient is divided by how often its index occurs.
    """
    idx = jnp.asarray(indices).astype(jnp.int32)
    rows = jnp.take(weight, idx, axis=0, mode="fill", fill_value=jnp.nan)
    if max_norm is not None:
        p = float(norm_type)
        norms = jnp.sum(jnp.abs(rows) ** p, axis=-1, keepdims=True) ** (1.0 / p)
        factor = jnp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        rows = rows + lax.stop_gradient(rows * factor - rows)  # renormed value, lookup's grad
    scale = None
    if scale_grad_by_freq:
        counts = jnp.zeros((weight.shape[0],), rows.dtype).at[idx].add(1.0, mode="drop")
        scale = 1.0 / jnp.maximum(jnp.take(counts, idx, mode="fill", fill_value=1.0), 1.0)
    if padding_value is not None:
        keep = (idx != padding_value).astype(rows.dtype)
        scale = keep if scale is None else scale * keep
    if scale is not None:
        s = scale[..., None]
        rows = rows * s + lax.stop_gradient(rows * (1 - s))  # same value, gradient scaled by s
    return rows


def lstm_step(
    x: Array,
    h: Array,
    c: Array,
    weight: Array,
    bias: Array,
    recurrent_weight: Array,
    peephole: Array | None = None,
) -> tuple[Array, Array]:
    """One step of the rnn package's ``nn.LSTM``: ``(h, c)`` at t from x(t), h(t-1), c(t-1).

    ``weight`` (4H, D), ``bias`` (4H,) and ``recurrent_weight`` (4H, H) hold the input gate,
    forget gate, hidden (cell input) and output gate rows, in that order; ``peephole`` (3, H),
    rnn's ``cell2gate`` CMul weights, adds ``c(t-1)`` to the input and forget gates and
    ``c(t)`` to the output gate::

        i = sigmoid(Wi x + bi + Ui h + pi * c)     f = sigmoid(Wf x + bf + Uf h + pf * c)
        g = tanh(Wg x + bg + Ug h)                 c' = f * c + i * g
        o = sigmoid(Wo x + bo + Uo h + po * c')    h' = o * tanh(c')
    """
    a = linear(x, weight, bias) + linear(h, recurrent_weight)
    ai, af, ag, ao = jnp.split(a, 4, axis=-1)
    if peephole is not None:
        p = jnp.reshape(peephole, (3,) + (1,) * (c.ndim - 1) + (-1,))  # rows against (N, H)
        ai = ai + p[0] * c
        af = af + p[1] * c
    c_next = jax.nn.sigmoid(af) * c + jax.nn.sigmoid(ai) * jnp.tanh(ag)
    if peephole is not None:
        ao = ao + p[2] * c_next
    return jax.nn.sigmoid(ao) * jnp.tanh(c_next), c_next


def gru_step(x: Array, h: Array, weight: Array, bias: Array, recurrent_weight: Array) -> Array:
    """One step of the rnn package's ``nn.GRU``: h(t) from x(t) and h(t-1).

    ``weight`` (3H, D), ``bias`` (3H,) and ``recurrent_weight`` (3H, H) hold the reset gate,
    update gate and hidden rows, in that order; as rnn (and unlike cuDNN), the reset gate
    scales h(t-1) before its matrix::

        r = sigmoid(Wr x + br + Ur h)     z = sigmoid(Wz x + bz + Uz h)
        n = tanh(Wn x + bn + Un (r * h))  h' = (1 - z) * n + z * h
    """
    hidden = h.shape[-1]
    gx = linear(x, weight, bias)
    gh = linear(h, recurrent_weight[: 2 * hidden])
    r = jax.nn.sigmoid(gx[..., :hidden] + gh[..., :hidden])
    z = jax.nn.sigmoid(gx[..., hidden : 2 * hidden] + gh[..., hidden:])
    n = jnp.tanh(gx[..., 2 * hidden :] + linear(r * h, recurrent_weight[2 * hidden :]))
    return (1 - z) * n + z * h


def seq_lstm(
    x: Array, h0: Array, c0: Array, weight: Array, bias: Array
) -> tuple[Array, Array]:
    """The rnn package's ``nn.SeqLSTM`` over a time-major sequence, as one ``lax.scan``.

    ``x`` (T, N, D), ``h0``/``c0`` (N, H), ``weight`` (D + H, 4H) (input rows, then hidden
    rows), ``bias`` (4H,); the gate columns are input, forget, output gates and the cell input
    ``g``, in that order (Justin Johnson's torch-rnn layout). Returns the hidden states and the
    cells, both (T, N, H)::

        [i, f, o, g] = [sigmoid, sigmoid, sigmoid, tanh]([x, h] @ weight + bias)
        c' = f * c + i * g                        h' = o * tanh(c')
    """
    d = x.shape[-1]
    hidden = h0.shape[-1]
    wx, wh = weight[:d], weight[d:]
    xw = jnp.matmul(x, wx) + jnp.reshape(bias, (1, 1, -1))  # the input's share of all steps

    def step(carry, a_x):
        h, c = carry
        a = a_x + jnp.matmul(h, wh)
        ifo = jax.nn.sigmoid(a[..., : 3 * hidden])
        g = jnp.tanh(a[..., 3 * hidden :])
        i, f, o = ifo[..., :hidden], ifo[..., hidden : 2 * hidden], ifo[..., 2 * hidden :]
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), (h, c)

    dtype = jnp.result_type(xw, wh)
    _, (hs, cs) = lax.scan(step, (h0.astype(dtype), c0.astype(dtype)), xw.astype(dtype))
    return hs, cs


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
