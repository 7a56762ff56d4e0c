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
    "conv_nd",
    "full_conv2d",
    "temporal_conv",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "subsampling",
    "max_pool_nd",
    "avg_pool_nd",
    "lp_pool2d",
    "fractional_starts",
    "fractional_max_pool2d",
    "cross_map_lrn",
    "batch_norm",
    "zero_pad2d",
    "reflection_pad2d",
    "replication_pad2d",
    "upsample_nearest2d",
    "upsample_bilinear2d",
    "subtractive_norm",
    "divisive_norm",
    "contrastive_norm",
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


# ---- convolution family (issue 19)


def _spatial_numbers(nd: int) -> tuple[str, str, str]:
    """lax's dimension numbers of a channel-first batch with `nd` spatial axes (1, 2 or 3)."""
    axes = "DHW"[3 - nd :]
    return ("NC" + axes, "OI" + axes, "NC" + axes)


def conv_nd(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    stride: tuple[int, ...] | None = None,
    padding: tuple[int, ...] | None = None,
    dilation: tuple[int, ...] | None = None,
) -> Array:
    """N-D cross-correlation of a channel-first batch (1, 2 or 3 spatial axes), with dilation.

    ``out[n, o, p] = bias[o] + sum_{i, k} weight[o, i, k] * xpad[n, i, p*stride + k*dilation]``
    (Torch7 SpatialDilatedConvolution, VolumetricConvolution; `conv2d` is its 2-D case).

    Args:
        x: input (N, nIn, *spatial).
        weight: (nOut, nIn, *kernel), the kernel axes in the input's order (kT, kH, kW).
        bias: (nOut,) or None.
        stride, padding, dilation: one int per spatial axis, in the same order (default 1, 0, 1).
    """
    x = _as_float(x, weight)
    nd = x.ndim - 2
    stride = (1,) * nd if stride is None else tuple(int(s) for s in stride)
    padding = (0,) * nd if padding is None else tuple(int(p) for p in padding)
    dilation = (1,) * nd if dilation is None else tuple(int(d) for d in dilation)
    y = lax.conv_general_dilated(
        x,
        weight,
        window_strides=stride,
        padding=[(p, p) for p in padding],
        rhs_dilation=dilation,
        dimension_numbers=_spatial_numbers(nd),
    )
    if bias is not None:
        y = y + channel_view(bias, y.ndim)
    return y


def full_conv2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    adj: Pair = (0, 0),
) -> Array:
    """Torch7 SpatialFullConvolution (the transpose of `conv2d`) of an NCHW batch.

    Each input pixel scatters its kernel into the output (THNN's col2im)::

        out[n, o, h*dH - padH + kh, w*dW - padW + kw] += weight[i, o, kh, kw] * x[n, i, h, w]

    over all i, kh, kw, keeping the positions inside the output, of size
    ``oH = (H - 1)*dH - 2*padH + kH + adjH`` (``oW`` likewise); then ``+ bias[o]``.

    Args:
        x: input (N, nIn, H, W).
        weight: (nIn, nOut, kH, kW), Torch7's layout for this layer.
        bias: (nOut,) or None.
        stride: (dH, dW); padding: (padH, padW); adj: (adjH, adjW), extra rows and columns at
            the bottom and right of the output.
    """
    x = _as_float(x, weight)
    kh, kw = weight.shape[2:]
    pads = [
        (k - 1 - p, k - 1 - p + a)
        for k, p, a in zip((kh, kw), (int(padding[0]), int(padding[1])), adj, strict=True)
    ]
    # the gradient of a strided convolution: the input spread out by the stride, correlated
    # with the flipped kernel, input and output planes swapped (IOHW)
    y = lax.conv_general_dilated(
        x,
        jnp.flip(weight, (2, 3)),
        window_strides=(1, 1),
        padding=pads,
        lhs_dilation=(int(stride[0]), int(stride[1])),
        dimension_numbers=("NCHW", "IOHW", "NCHW"),
    )
    if bias is not None:
        y = y + jnp.reshape(bias, (1, -1, 1, 1))
    return y


def temporal_conv(x: Array, weight: Array, bias: Array, kW: int, dW: int = 1) -> Array:
    """Torch7 TemporalConvolution of an (N, nInputFrame, inputFrameSize) batch.

    ``out[n, t] = bias + weight @ concat(x[n, t*dW], ..., x[n, t*dW + kW - 1])``: the weight is
    (outputFrameSize, kW * inputFrameSize), its column ``k*inputFrameSize + i`` meeting frame
    ``t*dW + k``, feature ``i``. Output (N, floor((nInputFrame - kW) / dW) + 1, outputFrameSize).
    """
    n_out = weight.shape[0]
    kernel = jnp.reshape(weight, (n_out, kW, -1)).transpose(0, 2, 1)  # (out, in, kW)
    y = conv_nd(jnp.swapaxes(_as_float(x, weight), 1, 2), kernel, bias, (dW,))
    return jnp.swapaxes(y, 1, 2)


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


# ---- pooling family (issue 19)


def _nd_pool_padding(
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil_mode: bool,
) -> tuple[tuple[int, ...], list[Pair]]:
    """`_pool_padding` for any number of axes and a dilated window (extent ``d*(k-1) + 1``)."""
    out, pads = [], []
    for size, k, d, p, r in zip(sizes, kernel, stride, padding, dilation, strict=True):
        extent = r * (k - 1) + 1
        o = pool_output_size(size, extent, d, p, ceil_mode)
        out.append(o)
        pads.append((p, max((o - 1) * d + extent - size - p, 0)))
    return tuple(out), pads


def max_pool_nd(
    x: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...] | None = None,
    padding: tuple[int, ...] | None = None,
    dilation: tuple[int, ...] | None = None,
    ceil_mode: bool = False,
) -> Array:
    """Max pooling of a channel-first batch over its trailing spatial axes, dilated windows.

    Torch7 SpatialDilatedMaxPooling (2 axes), VolumetricMaxPooling (3), TemporalMaxPooling (1,
    after moving frames last). The window at output ``p`` covers
    ``p*stride - pad + j*dilation`` for ``j < kernel``; the output size is `pool_output_size`
    with the window's extent ``dilation*(kernel-1) + 1``. Padding never wins the max.
    """
    x = _as_float(x)
    nd = len(kernel)
    kernel = tuple(int(k) for k in kernel)
    stride = kernel if stride is None else tuple(int(s) for s in stride)
    padding = (0,) * nd if padding is None else tuple(int(p) for p in padding)
    dilation = (1,) * nd if dilation is None else tuple(int(r) for r in dilation)
    lead = x.ndim - nd
    out, pads = _nd_pool_padding(x.shape[lead:], kernel, stride, padding, dilation, ceil_mode)
    if any(r != 1 for r in dilation):  # JAX has no VJP of a dilated reduce_window max
        return _max_of_taps(x, kernel, stride, pads, dilation, out)
    y = lax.reduce_window(
        x,
        -jnp.inf,
        lax.max,
        (1,) * lead + kernel,
        (1,) * lead + stride,
        [(0, 0)] * lead + pads,
        window_dilation=(1,) * lead + dilation,
    )
    return y[(...,) + tuple(slice(0, o) for o in out)]


def _max_of_taps(
    x: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: list[Pair],
    dilation: tuple[int, ...],
    out: tuple[int, ...],
) -> Array:
    """Dilated max pooling as the max of one strided slice per kernel tap (its gradient goes
    to the largest tap, shared equally on ties)."""
    lead = x.ndim - len(kernel)
    xp = jnp.pad(x, [(0, 0)] * lead + pads, constant_values=-jnp.inf)
    taps = []
    for tap in np.ndindex(*kernel):
        start = [t * r for t, r in zip(tap, dilation, strict=True)]
        limit = [s + (o - 1) * d + 1 for s, o, d in zip(start, out, stride, strict=True)]
        taps.append(
            lax.slice(xp, [0] * lead + start, list(xp.shape[:lead]) + limit, (1,) * lead + stride)
        )
    return jnp.max(jnp.stack(taps), axis=0)


def avg_pool_nd(x: Array, kernel: tuple[int, ...], stride: tuple[int, ...] | None = None) -> Array:
    """Mean over unpadded windows of the trailing ``len(kernel)`` axes, every window whole
    (Torch7 VolumetricAveragePooling): the window sum divided by ``prod(kernel)``."""
    x = _as_float(x)
    nd = len(kernel)
    kernel = tuple(int(k) for k in kernel)
    stride = kernel if stride is None else tuple(int(s) for s in stride)
    lead = x.ndim - nd
    total = lax.reduce_window(
        x, _zero(x), lax.add, (1,) * lead + kernel, (1,) * lead + stride, "VALID"
    )
    return total / np.prod(kernel).astype(x.dtype)


def lp_pool2d(x: Array, p: float, kernel: Pair, stride: Pair | None = None) -> Array:
    """Torch7 SpatialLPPooling: ``(sum over the window of x^p)^(1/p)`` per plane, no padding.

    As Torch7 (Power, average pooling times the window area, Power(1/p)), ``x^p`` of a negative
    x is NaN unless p is an integer; p = 2 is ``sqrt(sum x^2)``.
    """
    x = _as_float(x)
    stride = kernel if stride is None else stride
    powered = jnp.square(x) if p == 2 else jnp.power(x, p)
    total = lax.reduce_window(
        powered, _zero(x), lax.add, (1, 1) + tuple(kernel), (1, 1) + tuple(stride), "VALID"
    )
    return jnp.sqrt(total) if p == 2 else jnp.power(total, 1.0 / p)


def fractional_starts(sample: Array, size: int, out: int, pool: int) -> Array:
    """THNN's pseudo-random window starts along one axis, from samples ``u`` in [0, 1).

    ``alpha = (size - pool) / (out - 1)``; start ``i < out - 1`` is
    ``floor((i + u)*alpha) - floor(u*alpha)``, the last is ``size - pool``. `sample` has any
    shape S; the result is int32 of shape S + (out,).
    """
    last = jnp.full(sample.shape + (1,), size - pool, jnp.int32)
    if out == 1:
        return last
    alpha = (size - pool) / (out - 1)
    i = jnp.reshape(jnp.arange(out - 1, dtype=sample.dtype), (1,) * sample.ndim + (-1,))
    u = sample[..., None]
    starts = jnp.floor((i + u) * alpha) - jnp.floor(u * alpha)
    return jnp.concatenate([starts.astype(jnp.int32), last], axis=-1)


def fractional_max_pool2d(x: Array, out_hw: Pair, pool_hw: Pair, samples: Array) -> Array:
    """Torch7 SpatialFractionalMaxPooling of an NCHW batch (Graham, 2014).

    Output ``(N, C, oH, oW)``: cell ``(h, w)`` of plane ``(n, c)`` is the max over the
    ``poolH x poolW`` window at rows ``fractional_starts(samples[n, c, 1], H, oH, poolH)[h]``
    and columns ``fractional_starts(samples[n, c, 0], W, oW, poolW)[w]`` onwards.

    Args:
        samples: (N, C, 2) uniform numbers in [0, 1): Torch7's ``randomSamples``, the width's
            sample first.
    """
    x = _as_float(x)
    n, c, h, w = x.shape
    (oh, ow), (ph, pw) = out_hw, pool_hw
    samples = samples.astype(x.dtype)
    rows = (
        fractional_starts(samples[..., 1], h, oh, ph)[..., None] + jnp.arange(ph)[None, None, None]
    )
    cols = (
        fractional_starts(samples[..., 0], w, ow, pw)[..., None] + jnp.arange(pw)[None, None, None]
    )
    picked = jnp.take_along_axis(x, jnp.reshape(rows, (n, c, oh * ph, 1)), axis=2)
    picked = jnp.take_along_axis(picked, jnp.reshape(cols, (n, c, 1, ow * pw)), axis=3)
    return jnp.max(jnp.reshape(picked, (n, c, oh, ph, ow, pw)), axis=(3, 5))


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


# ---- padding, upsampling and local normalisation (issue 19)


def _edge_pad2d(x: Array, pads: tuple[int, int, int, int], mode: str) -> Array:
    """Pad (positive amounts) then crop (negative amounts) the last two axes of x."""
    pad_l, pad_r, pad_t, pad_b = pads
    widths = [(0, 0)] * (x.ndim - 2) + [
        (max(pad_t, 0), max(pad_b, 0)),
        (max(pad_l, 0), max(pad_r, 0)),
    ]
    y = jnp.pad(x, widths, mode=mode)
    h, w = y.shape[-2:]
    return y[..., max(-pad_t, 0) : h - max(-pad_b, 0), max(-pad_l, 0) : w - max(-pad_r, 0)]


def reflection_pad2d(x: Array, pad_l: int, pad_r: int, pad_t: int, pad_b: int) -> Array:
    """Torch7 SpatialReflectionPadding: the planes mirrored at their edges, the edge itself
    not repeated (``[a b c]`` padded by 2 on the left is ``[c b a b c]``); a negative amount
    crops. Each positive amount must be smaller than the plane's size on that axis."""
    return _edge_pad2d(x, (pad_l, pad_r, pad_t, pad_b), "reflect")


def replication_pad2d(x: Array, pad_l: int, pad_r: int, pad_t: int, pad_b: int) -> Array:
    """Torch7 SpatialReplicationPadding: the edge rows and columns repeated outwards; a
    negative amount crops."""
    return _edge_pad2d(x, (pad_l, pad_r, pad_t, pad_b), "edge")


def upsample_nearest2d(x: Array, scale: int) -> Array:
    """Torch7 SpatialUpSamplingNearest: ``out[..., h, w] = x[..., h // scale, w // scale]``."""
    return jnp.repeat(jnp.repeat(x, scale, axis=-2), scale, axis=-1)


def _bilinear_matrix(size: int, out: int) -> np.ndarray:
    """(out, size) interpolation matrix of THNN's SpatialUpSamplingBilinear along one axis.

    Corners are aligned: output ``o`` reads input position ``r = o*(size-1)/(out-1)``, the
    weights ``1 - frac(r)`` at ``floor(r)`` and ``frac(r)`` at the next row (the same row
    at the last one).
    """
    m = np.zeros((out, size), np.float64)
    ratio = (size - 1) / (out - 1) if out > 1 else 0.0
    for o in range(out):
        r = ratio * o
        i = int(r)
        step = 1 if i < size - 1 else 0
        lam = r - i
        m[o, i] += 1 - lam
        m[o, i + step] += lam
    return m


def upsample_bilinear2d(x: Array, out_hw: Pair) -> Array:
    """Torch7 SpatialUpSamplingBilinear of an NCHW batch to (oH, oW), corners aligned (see
    `_bilinear_matrix`); two small matrix products, exact to differentiate."""
    x = _as_float(x)
    mh = jnp.asarray(_bilinear_matrix(x.shape[-2], out_hw[0]), x.dtype)
    mw = jnp.asarray(_bilinear_matrix(x.shape[-1], out_hw[1]), x.dtype)
    return jnp.einsum("nchw,ph,qw->ncpq", x, mh, mw)


def _local_kernel(kernel: Array, dtype) -> Array:
    """The 2-D averaging kernel of Torch7's local normalisations: a 2-D kernel as given, a
    1-D one as its outer product with itself (Torch7 applies it along rows, then columns)."""
    kernel = jnp.asarray(kernel, dtype)
    return jnp.outer(kernel, kernel) if kernel.ndim == 1 else kernel


def _local_mean(x: Array, kernel2d: Array) -> Array:
    """``sum_c conv(x[c], k) / (sum(k) * C)``, zero padded to keep the size: the (N, 1, H, W)
    weighted local mean over all planes that Torch7's ``meanestimator`` computes."""
    kh, kw = kernel2d.shape
    planes = x.shape[1]
    total = conv2d(
        jnp.sum(x, axis=1, keepdims=True), kernel2d[None, None], padding=(kh // 2, kw // 2)
    )
    return total / (jnp.sum(kernel2d) * planes)


def _edge_coefficients(x: Array, kernel2d: Array) -> Array:
    """Torch7's ``coef``: the local mean of an all-ones input, which corrects the zero
    padding at the borders (1 away from them), shape (1, 1, H, W)."""
    ones = jnp.ones((1,) + x.shape[1:], x.dtype)
    return _local_mean(ones, kernel2d)


def subtractive_norm(x: Array, kernel: Array) -> Array:
    """Torch7 SpatialSubtractiveNormalization of an NCHW batch: every plane minus the local
    mean of all planes, ``x - mean / coef`` (`_local_mean`, `_edge_coefficients`)."""
    x = _as_float(x)
    k = _local_kernel(kernel, x.dtype)
    return x - _local_mean(x, k) / _edge_coefficients(x, k)


def divisive_norm(
    x: Array, kernel: Array, threshold: float = 1e-4, thresval: float = 1e-4
) -> Array:
    """Torch7 SpatialDivisiveNormalization of an NCHW batch: every plane divided by the local
    standard deviation over all planes.

    ``std = sqrt(local mean of x^2) / coef``; where it is not above `threshold` it is replaced
    by `thresval` (Torch7's Threshold); ``out = x / std``.
    """
    x = _as_float(x)
    k = _local_kernel(kernel, x.dtype)
    std = jnp.sqrt(_local_mean(jnp.square(x), k)) / _edge_coefficients(x, k)
    return x / jnp.where(std > threshold, std, jnp.asarray(thresval, x.dtype))


def contrastive_norm(
    x: Array, kernel: Array, threshold: float = 1e-4, thresval: float = 1e-4
) -> Array:
    """Torch7 SpatialContrastiveNormalization: `subtractive_norm`, then `divisive_norm`."""
    return divisive_norm(subtractive_norm(x, kernel), kernel, threshold, thresval)


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


# ---- more Torch7 layers (issue 19)


def tanh_shrink(x: Array) -> Array:
    """Torch7 TanhShrink: ``x - tanh(x)``."""
    return x - jnp.tanh(x)


def gated_linear(x: Array, axis: int) -> Array:
    """Torch7 GatedLinearUnit (THNN GatedLinear): the first half of `axis` times the sigmoid of
    the second half, ``a * sigmoid(b)``."""
    a, b = jnp.split(x, 2, axis=axis)
    return a * jax.nn.sigmoid(b)


def crelu(x: Array, axis: int) -> Array:
    """Torch7 CReLU: ``[relu(x), relu(-x)]`` joined along `axis` (the feature axis)."""
    return jnp.concatenate([relu(x), relu(-x)], axis=axis)


def maxout(x: Array, weight: Array, bias: Array, pieces: int) -> Array:
    """Torch7 Maxout: ``max_k (W x + b)[k * outputSize + o]`` over the `pieces` linear maps
    (Linear, View(pieces, outputSize), Max); the gradient goes to the first maximum."""
    y = linear(x, weight, bias)
    y = jnp.reshape(y, y.shape[:-1] + (pieces, y.shape[-1] // pieces))
    return max_along(y, y.ndim - 2)


def layer_norm(x: Array, weight: Array | None, bias: Array | None, eps: float) -> Array:
    """Torch7 LayerNormalization over the last axis: ``sqrt(n) * (x - mean) / sqrt(sum (x -
    mean)^2 + eps)`` (Normalize(2, eps) of the centred row, times sqrt(n)), then ``* weight +
    bias`` when affine."""
    n = x.shape[-1]
    c = x - jnp.mean(x, axis=-1, keepdims=True)
    y = normalize(c, 2.0, eps) * np.sqrt(n).astype(x.dtype)
    if weight is not None:
        lead = (1,) * (x.ndim - 1)
        y = y * jnp.reshape(weight, lead + (n,)) + jnp.reshape(bias, lead + (n,))
    return y


def white_noise(x: Array, mean: float, std: float, key: Array) -> Array:
    """Torch7 WhiteNoise in training: ``x + N(mean, std^2)`` noise, one draw per element."""
    return x + (mean + std * jax.random.normal(key, x.shape, x.dtype))


def weighted_euclidean(x: Array, templates: Array, diag_cov: Array) -> Array:
    """Torch7 WeightedEuclidean: ``y_j = || diagCov_j * (x - w_j) ||`` for the columns ``w_j``
    of the (D, outputSize) templates and diagonal covariances, for a (D,) or (N, D) input."""
    lead = (1,) * (x.ndim - 1)
    shape = lead + templates.shape
    d = (x[..., :, None] - jnp.reshape(templates, shape)) * jnp.reshape(diag_cov, shape)
    return jnp.sqrt(jnp.sum(d * d, axis=-2))


def mixture_table(gater: Array, experts: Array, dim: int) -> Array:
    """Torch7 MixtureTable: ``sum_i gater[..., i] * expert_i`` for the experts stacked along
    `dim` of `experts`, and an (N, E) gater of a batch or an (E,) gater of one sample."""
    shape = [1] * experts.ndim
    if gater.ndim == 2:
        shape[0] = gater.shape[0]
    shape[dim] = gater.shape[-1]
    return jnp.sum(jnp.reshape(gater, shape) * experts, axis=dim)


def mv(m: Array, v: Array, trans: bool = False) -> Array:
    """Torch7 MV: the matrix-vector product ``M v`` (``M^T v`` with `trans`), or a batch of
    them for an (N, R, C) ``M`` and an (N, C) ``v``."""
    if trans:
        m = jnp.swapaxes(m, -1, -2)
    return jnp.einsum("...rc,...c->...r", m, v)


def pixel_shuffle(x: Array, r: int) -> Array:
    """Torch7 PixelShuffle of an NCHW batch: ``(N, C r^2, H, W) -> (N, C, H r, W r)``, with
    ``y[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]``."""
    n, c, h, w = x.shape
    y = jnp.reshape(x, (n, c // (r * r), r, r, h, w))
    y = jnp.transpose(y, (0, 1, 4, 2, 5, 3))
    return jnp.reshape(y, (n, c // (r * r), h * r, w * r))


def zero_grad(x: object) -> object:
    """Torch7 ZeroGrad: `x` (an array or a table) itself, with a zero gradient."""
    return jax.tree.map(lax.stop_gradient, x)


def one_hot(indices: Array, n: int, dtype: object = jnp.float32) -> Array:
    """Torch7 OneHot: a trailing axis of size `n` with a one at each (0-based) index."""
    return jax.nn.one_hot(indices.astype(jnp.int32), n, dtype=dtype)


def upsample_nearest_nd(x: Array, scale: int) -> Array:
    """Torch7 UpSampling, nearest: every axis after (N, C) enlarged `scale` times by repeating
    each element (SpatialUpSamplingNearest, VolumetricUpSamplingNearest)."""
    for axis in range(2, x.ndim):
        x = jnp.repeat(x, scale, axis=axis)
    return x


def upsample_linear_nd(x: Array, out: tuple[int, ...]) -> Array:
    """Torch7 UpSampling, linear: bilinear (NCHW) or trilinear (NCDHW) interpolation to the
    sizes `out`, corners aligned, one interpolation matrix per axis (see `_bilinear_matrix`)."""
    x = _as_float(x)
    for i, size in enumerate(out):
        axis = 2 + i
        m = jnp.asarray(_bilinear_matrix(x.shape[axis], size), x.dtype)
        x = jnp.moveaxis(jnp.tensordot(x, m, axes=[[axis], [1]]), -1, axis)
    return x


def replication_pad3d(x: Array, pads: tuple[int, int, int, int, int, int]) -> Array:
    """Torch7 VolumetricReplicationPadding of the last three axes (T, H, W), amounts
    ``(left, right, top, bottom, front, back)``: edges repeated outwards; a negative amount
    crops."""
    pl, pr, pt, pb, pf, pk = pads
    pairs = [(pf, pk), (pt, pb), (pl, pr)]
    widths = [(0, 0)] * (x.ndim - 3) + [(max(a, 0), max(b, 0)) for a, b in pairs]
    y = jnp.pad(x, widths, mode="edge")
    crop = tuple(
        slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(pairs, y.shape[-3:], strict=True)
    )
    return y[(...,) + crop]


def adaptive_max_pool2d(x: Array, out_hw: Pair) -> Array:
    """Torch7 SpatialAdaptiveMaxPooling of an NCHW batch: the max over the windows
    ``[floor(i*H/oH), ceil((i+1)*H/oH))`` (likewise along the width)."""
    rows = adaptive_pool_bounds(x.shape[-2], out_hw[0])
    cols = adaptive_pool_bounds(x.shape[-1], out_hw[1])
    out = [
        jnp.stack([jnp.max(x[..., r0:r1, c0:c1], axis=(-2, -1)) for c0, c1 in cols], axis=-1)
        for r0, r1 in rows
    ]
    return jnp.stack(out, axis=-2)


def temporal_subsampling(x: Array, weight: Array, bias: Array, kW: int, dW: int) -> Array:
    """Torch7 TemporalSubSampling of an (N, T, F) batch: ``y[t, i] = bias[i] + weight[i] *
    sum_{k < kW} x[t*dW + k, i]``."""
    sums = lax.reduce_window(x, 0.0, lax.add, (1, kW, 1), (1, dW, 1), "VALID")
    return sums * weight[None, None, :] + bias[None, None, :]


def feature_lp_pool(x: Array, width: int, stride: int, power: float) -> Array:
    """Torch7 FeatureLPPooling over axis 1 of a batch (N, F, ...): ``y[f] = (sum_{j < width}
    x[f*stride + j]^power)^(1/power)`` (THNN raises ``x`` to the power as it is, no abs)."""
    window = (1, width) + (1,) * (x.ndim - 2)
    strides = (1, stride) + (1,) * (x.ndim - 2)
    sums = lax.reduce_window(x**power, 0.0, lax.add, window, strides, "VALID")
    return sums ** (1.0 / power)


def full_conv_nd(
    x: Array,
    weight: Array,
    bias: Array | None,
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    adj: tuple[int, ...],
) -> Array:
    """`full_conv2d` for any number of spatial axes (Torch7 VolumetricFullConvolution with 3):
    the transpose of a strided convolution, weight (nIn, nOut, *kernel), output size
    ``(size - 1)*stride - 2*pad + kernel + adj`` on each axis."""
    x = _as_float(x, weight)
    nd = x.ndim - 2
    kernel = weight.shape[2:]
    pads = [
        (k - 1 - int(p), k - 1 - int(p) + int(a))
        for k, p, a in zip(kernel, padding, adj, strict=True)
    ]
    axes = "DHW"[3 - nd :]
    y = lax.conv_general_dilated(
        x,
        jnp.flip(weight, tuple(range(2, 2 + nd))),
        window_strides=(1,) * nd,
        padding=pads,
        lhs_dilation=tuple(int(s) for s in stride),
        dimension_numbers=("NC" + axes, "IO" + axes, "NC" + axes),
    )
    if bias is not None:
        y = y + channel_view(bias, y.ndim)
    return y


def depthwise_conv2d(
    x: Array, weight: Array, bias: Array | None, stride: Pair, padding: Pair
) -> Array:
    """Torch7 SpatialDepthWiseConvolution of an NCHW batch: each input plane ``i`` convolved
    with its own ``nOutputPlane`` kernels ``weight[o, i]`` (weight (nOut, nIn, kH, kW), bias
    (nOut, nIn)); output plane ``i*nOut + o``."""
    x = _as_float(x, weight)
    n_out, n_in = weight.shape[:2]
    kernel = jnp.reshape(jnp.swapaxes(weight, 0, 1), (n_in * n_out, 1) + weight.shape[2:])
    y = lax.conv_general_dilated(
        x,
        kernel,
        window_strides=tuple(int(s) for s in stride),
        padding=[(int(p), int(p)) for p in padding],
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        feature_group_count=n_in,
    )
    if bias is not None:
        y = y + channel_view(jnp.reshape(jnp.swapaxes(bias, 0, 1), (-1,)), y.ndim)
    return y


def local_conv2d(
    x: Array, weight: Array, bias: Array, stride: Pair, padding: Pair, out_hw: Pair
) -> Array:
    """Torch7 SpatialConvolutionLocal of an NCHW batch: a convolution whose kernel differs at
    every output position, ``out[n, o, p, q] = bias[o, p, q] + sum_{i, kh, kw} weight[p, q, o,
    i, kh, kw] * xpad[n, i, p*dH + kh, q*dW + kw]`` (weight (oH, oW, nOut, nIn, kH, kW))."""
    x = _as_float(x, weight)
    kh, kw = weight.shape[-2:]
    patches = lax.conv_general_dilated_patches(
        x,
        (kh, kw),
        tuple(int(s) for s in stride),
        [(int(p), int(p)) for p in padding],
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
    )  # (N, nIn*kH*kW, oH, oW), features in (i, kh, kw) order
    oh, ow = out_hw
    w = jnp.reshape(weight, (oh, ow, weight.shape[2], -1))
    y = jnp.einsum("nfpq,pqof->nopq", patches, w, precision=lax.Precision.HIGHEST)
    return y + bias[None]


def temporal_row_conv(
    x: Array, weight: Array, bias: Array | None, kW: int, dW: int, padW: int
) -> Array:
    """Torch7 TemporalRowConvolution of an (N, inputFrameSize, nInputFrame) batch: each
    feature row convolved with its own kernel, ``out[n, f, t] = bias[f] + sum_k weight[f, 0,
    k] * xpad[n, f, t*dW + k]`` (weight (inputFrameSize, 1, kW))."""
    x = _as_float(x, weight)
    y = lax.conv_general_dilated(
        x,
        weight,
        window_strides=(int(dW),),
        padding=[(int(padW), int(padW))],
        dimension_numbers=("NCH", "OIH", "NCH"),
        feature_group_count=x.shape[1],
    )
    if bias is not None:
        y = y + channel_view(bias, y.ndim)
    return y


def linear_weight_norm(v: Array, g: Array, eps: float) -> Array:
    """Torch7 LinearWeightNorm's weight: ``g * v / max(||v_row||, eps)`` for the (out, in)
    direction `v` and the (out, 1) lengths `g`."""
    norm = jnp.maximum(jnp.sqrt(jnp.sum(v * v, axis=1, keepdims=True)), eps)
    return v * (g / norm)


def partial_linear(x: Array, weight: Array, bias: Array | None, columns: Array) -> Array:
    """Torch7 PartialLinear: `linear` restricted to the output columns (rows of `weight`)
    listed in `columns`, with the (1, out) bias's matching entries."""
    b = None if bias is None else jnp.take(bias[0], columns)
    return linear(x, jnp.take(weight, columns, axis=0), b)


def full_conv2d_map(
    x: Array, weight: Array, bias: Array, conn_table: Array | np.ndarray, stride: Pair
) -> Array:
    """Torch7 SpatialFullConvolutionMap: `full_conv2d` whose plane connections come from a
    table, ``output[o] = bias[o] + sum_k fullconv(x[i], weight[k])`` over rows
    ``conn_table[k] == (i, o)`` (each input pixel scatters its kernel, no padding)."""
    conn = jnp.asarray(conn_table, dtype=jnp.int32)
    n_out, n_in = bias.shape[0], x.shape[1]
    dense = jnp.zeros((n_in, n_out) + weight.shape[1:], weight.dtype)
    dense = dense.at[conn[:, 0], conn[:, 1]].add(weight)
    return full_conv2d(x, dense, bias, stride=stride)


def dynamic_k_max(x: Array, k: int) -> Array:
    """Torch7 TemporalDynamicKMaxPooling of an (N, T, F) batch: the `k` largest values of each
    feature over time, kept in their time order."""
    xt = jnp.swapaxes(x, 1, 2)  # (N, F, T)
    _, idx = lax.top_k(xt, k)
    idx = jnp.sort(idx, axis=-1)
    return jnp.swapaxes(jnp.take_along_axis(xt, idx, axis=-1), 1, 2)


def fractional_max_pool3d(
    x: Array, out: tuple[int, int, int], pool: tuple[int, int, int], samples: Array
) -> Array:
    """Torch7 VolumetricFractionalMaxPooling of an NCTHW batch: `fractional_max_pool2d` with a
    third axis. `out` and `pool` are (T, H, W); `samples` (N, C, 3) are Torch7's
    ``randomSamples`` in its order (time, width, height)."""
    x = _as_float(x)
    n, c = x.shape[:2]
    samples = samples.astype(x.dtype)
    order = (0, 2, 1)  # the sample of axis T, H, W
    y = x
    for a in range(3):
        axis = 2 + a
        idx = fractional_starts(samples[..., order[a]], x.shape[axis], out[a], pool[a])
        taps = jnp.reshape(jnp.arange(pool[a]), (1,) * idx.ndim + (-1,))
        idx = jnp.reshape(idx[..., None] + taps, (n, c, -1))
        shape = [n, c, 1, 1, 1]
        shape[axis] = out[a] * pool[a]
        y = jnp.take_along_axis(y, jnp.reshape(idx, shape), axis=axis)
    to, ho, wo = out
    pt, ph, pw = pool
    return jnp.max(jnp.reshape(y, (n, c, to, pt, ho, ph, wo, pw)), axis=(3, 5, 7))


def max_unpool_nd(
    y: Array, pooled_input: Array, kernel: tuple[int, ...], padding: tuple[int, ...]
) -> Array:
    """Torch7 SpatialMaxUnpooling / VolumetricMaxUnpooling: `y` (the pooled size) placed where
    the max pooling of `pooled_input` (windows of `kernel`, stride equal to the kernel,
    `padding`) found each window's first maximum, zeros elsewhere; the output has
    `pooled_input`'s shape."""
    nd = len(kernel)
    lead = y.shape[:2]
    sizes, out = pooled_input.shape[2:], y.shape[2:]
    grid = tuple(o * k for o, k in zip(out, kernel, strict=True))
    # the pooling's window grid over the padded input: padding (never the max) is -inf
    widths = [(0, 0), (0, 0)] + [
        (p, max(g - s - p, 0)) for s, g, p in zip(sizes, grid, padding, strict=True)
    ]
    xp = jnp.pad(pooled_input, widths, constant_values=-jnp.inf)
    xp = xp[(...,) + tuple(slice(0, g) for g in grid)]
    split = lead + tuple(v for o, k in zip(out, kernel, strict=True) for v in (o, k))
    windows = jnp.reshape(xp, split)
    order = (0, 1) + tuple(2 + 2 * a for a in range(nd)) + tuple(3 + 2 * a for a in range(nd))
    windows = jnp.reshape(jnp.transpose(windows, order), lead + tuple(out) + (-1,))
    first = jax.nn.one_hot(jnp.argmax(windows, axis=-1), windows.shape[-1], dtype=y.dtype)
    placed = first * y[..., None]  # (N, C, *out, prod(kernel))
    placed = jnp.reshape(placed, lead + tuple(out) + tuple(kernel))
    back = (0, 1) + tuple(v for a in range(nd) for v in (2 + a, 2 + nd + a))
    placed = jnp.reshape(jnp.transpose(placed, back), lead + grid)
    # grid position g is input position g - pad: shift back, zeros beyond the grid
    widths = [(0, 0), (0, 0)] + [
        (0, max(s + p - g, 0)) for s, g, p in zip(sizes, grid, padding, strict=True)
    ]
    placed = jnp.pad(placed, widths)
    return placed[(...,) + tuple(slice(p, p + s) for s, p in zip(sizes, padding, strict=True))]
