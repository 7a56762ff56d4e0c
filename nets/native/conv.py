"""`conv2d` on oneDNN's kernels: forward, input gradient and weight gradient, as FFI calls.

The arrays keep Torch's NCHW shapes; each call asks XLA to hand its activations over in NHWC
memory (``input_layouts``/``output_layouts``), the layout oneDNN's direct convolutions run
fastest in, so XLA transposes once where a network enters or leaves a run of native
convolutions rather than around each one. Weights stay OIHW; oneDNN reorders them into its
blocked format inside the call.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import load

# Major-to-minor order of an NCHW-shaped array stored as NHWC.
NHWC = (0, 2, 3, 1)
Pair = tuple[int, int]


def supported(w_shape, dtype, groups: int = 1) -> bool:
    """Whether the native kernels take a convolution with this weight: float32, 4-D, no
    channel groups, and the library loaded. Anything else stays on XLA's path, never an
    error."""
    return len(w_shape) == 4 and groups == 1 and jnp.dtype(dtype) == jnp.float32 and load()


def _attrs(stride: Pair, padding: Pair, dilation: Pair) -> dict:
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    return {
        "stride_h": np.int64(sh),
        "stride_w": np.int64(sw),
        "dilation_h": np.int64(dh),
        "dilation_w": np.int64(dw),
        "pad_top": np.int64(ph),
        "pad_bottom": np.int64(ph),
        "pad_left": np.int64(pw),
        "pad_right": np.int64(pw),
    }


def out_hw(x_shape, w_shape, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    return tuple(
        (x_shape[2 + i] + 2 * padding[i] - dilation[i] * (w_shape[2 + i] - 1) - 1) // stride[i] + 1
        for i in range(2)
    )


def _forward(x, weight, bias, stride, padding, dilation, relu=False):
    n, o = x.shape[0], weight.shape[0]
    shape = (n, o, *out_hw(x.shape, weight.shape, stride, padding, dilation))
    has_bias = bias is not None
    b = bias if has_bias else jnp.zeros((1,), x.dtype)
    return jax.ffi.ffi_call(
        "NetsDnnlConvForward",
        jax.ShapeDtypeStruct(shape, x.dtype),
        input_layouts=[NHWC, None, None],
        output_layouts=NHWC,
        vmap_method="sequential",
    )(x, weight, b, **_attrs(stride, padding, dilation), has_bias=has_bias, relu=relu)


def _backward_data(g, weight, x_shape, stride, padding, dilation):
    return jax.ffi.ffi_call(
        "NetsDnnlConvBackwardData",
        jax.ShapeDtypeStruct(x_shape, g.dtype),
        input_layouts=[NHWC, None],
        output_layouts=NHWC,
        vmap_method="sequential",
    )(g, weight, **_attrs(stride, padding, dilation))


def _backward_weights(x, g, w_shape, stride, padding, dilation):
    return jax.ffi.ffi_call(
        "NetsDnnlConvBackwardWeights",
        (jax.ShapeDtypeStruct(w_shape, x.dtype), jax.ShapeDtypeStruct(w_shape[:1], x.dtype)),
        input_layouts=[NHWC, NHWC],
        output_layouts=[None, None],
        vmap_method="sequential",
    )(x, g, **_attrs(stride, padding, dilation))


@partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5))
def conv2d(x, weight, bias, stride: Pair, padding: Pair, dilation: Pair = (1, 1)):
    """Cross-correlation of an NCHW float32 batch with OIHW weights (bias may be None), on
    oneDNN; the contract of `nets.nn.functional.conv2d` with ``groups=1``."""
    return _forward(x, weight, bias, stride, padding, dilation)


def _conv2d_fwd(x, weight, bias, stride, padding, dilation):
    return _forward(x, weight, bias, stride, padding, dilation), (x, weight, bias is not None)


def _conv2d_bwd(stride, padding, dilation, res, g):
    x, weight, has_bias = res
    dx = _backward_data(g, weight, x.shape, stride, padding, dilation)
    dw, db = _backward_weights(x, g, weight.shape, stride, padding, dilation)
    return dx, dw, (db if has_bias else None)


conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)
