"""Output-size formulas of Torch7's spatial layers, shared by the layers and by `nets.summary`.

All functions work on plain Python ints (no arrays), so they can run before any tracing and
inside shape inference. The formulas are THNN's (`lib/THNN/generic/SpatialConvolutionMM.c`,
`SpatialMaxPooling.c`, `SpatialAveragePooling.c`).
"""

from __future__ import annotations

import math

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "adaptive_pool_bounds",
]


def conv_output_size(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Convolution output length on one axis: ``floor((size + 2*pad - kernel) / stride) + 1``.

    May return a value below 1; callers report that as "too small".
    """
    return (size + 2 * pad - kernel) // stride + 1


def pool_output_size(
    size: int, kernel: int, stride: int, pad: int = 0, ceil_mode: bool = False
) -> int:
    """Output length of Torch7's max/average pooling along one axis.

    ``floor`` (or ``ceil`` in ceil mode) of ``(size + 2*pad - kernel) / stride``, plus one. With
    padding, the last window must start inside the input or the left padding, so a window that
    would start in the right padding only is dropped (THNN's ``--outputHeight`` rule).
    """
    span = size + 2 * pad - kernel
    if ceil_mode:
        out = math.ceil(span / stride) + 1
    else:
        out = span // stride + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def adaptive_pool_bounds(size: int, out: int) -> list[tuple[int, int]]:
    """Adaptive pooling windows ``[floor(i*size/out), ceil((i+1)*size/out))`` for each i."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]
