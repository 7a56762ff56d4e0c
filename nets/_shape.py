"""Output-size formulas of Torch7's spatial layers, shared by the layers and by `nets.summary`.

All functions work on plain Python ints (no arrays), so they can run before any tracing and
inside shape inference. The formulas are THNN's (`lib/THNN/generic/SpatialConvolutionMM.c`,
`SpatialMaxPooling.c`, `SpatialAveragePooling.c`).
"""

from __future__ import annotations

import math
from typing import Any

from nets._errors import ModuleError, shape_str

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "adaptive_pool_bounds",
    "spatial_batch",
    "unbatch",
    "check_output_size",
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


# ----------------------------------------------------------------------------- input checks
# Layers call these from updateOutput, before any maths: shapes are static even under tracing,
# so the errors come out as plain Python exceptions naming the module, never as XLA dumps.


def spatial_batch(module: Any, x: Any, planes: int | None = None) -> tuple[Any, bool]:
    """Check a CHW sample or NCHW batch and return it as a batch, plus whether it was one.

    Raises:
        ModuleError: the input is not 3D/4D, or (with `planes`) has another number of planes.
    """
    ndim = getattr(x, "ndim", None)
    if ndim not in (3, 4):
        raise ModuleError(
            module._describe(),
            f"expected a 3D (C, H, W) sample or a 4D (N, C, H, W) batch, got {shape_str(x)}",
        )
    if planes is not None and x.shape[-3] != planes:
        raise ModuleError(
            module._describe(),
            f"expected {planes} input planes (dim {ndim - 3} of the input), "
            f"got {x.shape[-3]} in input of shape {shape_str(x)}",
        )
    if ndim == 4:
        return x, True
    return x[None], False


def unbatch(y: Any, batched: bool) -> Any:
    """Undo `spatial_batch`: drop the added batch axis of a single sample."""
    return y if batched else y[0]


def check_output_size(module: Any, x4: Any, planes_out: int, out_hw: tuple[int, int]) -> None:
    """Torch7's "output size is too small" check, with both sizes in the message."""
    if out_hw[0] < 1 or out_hw[1] < 1:
        given = "x".join(str(d) for d in x4.shape[1:])
        calc = f"{planes_out}x{out_hw[0]}x{out_hw[1]}"
        raise ModuleError(
            module._describe(),
            f"input is too small: given input size ({given}), calculated output size ({calc}); "
            "expected the (padded) input to be at least as large as the kernel",
        )
