"""Output-size formulas of Torch7's spatial layers, shared by the layers and by `nets.summary`.

All functions work on plain Python ints (no arrays), so they can run before any tracing and
inside shape inference. The formulas are THNN's (`lib/THNN/generic/SpatialConvolutionMM.c`,
`SpatialMaxPooling.c`, `SpatialAveragePooling.c`). The checks of constructor arguments
(`int_arg`, `number_arg`) live here too, so every layer refuses a bad size the same way.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from nets._errors import ModuleError, shape_str

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "adaptive_pool_bounds",
    "spatial_batch",
    "volumetric_batch",
    "frames_batch",
    "check_frames",
    "unbatch",
    "check_output_size",
    "int_arg",
    "number_arg",
    "array_input",
    "bool_arg",
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


def array_input(module: Any, x: Any, min_ndim: int = 0) -> Any:
    """`x` itself if it is an array of at least `min_ndim` dims (not a table, not a number).

    Raises:
        ModuleError: ``nn.Exp: expected an array, got a table of 1 [(2,)]``.
    """
    ndim = getattr(x, "ndim", None)
    if ndim is None or ndim < min_ndim:
        need = "an array" if min_ndim == 0 else f"an array of at least {min_ndim} dimensions"
        raise ModuleError(module._describe(), f"expected {need}, got {shape_str(x)}")
    return x


def volumetric_batch(module: Any, x: Any, planes: int | None = None) -> tuple[Any, bool]:
    """`spatial_batch` for volumes: a CTHW sample or an NCTHW batch, returned as a batch."""
    ndim = getattr(x, "ndim", None)
    if ndim not in (4, 5):
        raise ModuleError(
            module._describe(),
            f"expected a 4D (C, T, H, W) sample or a 5D (N, C, T, H, W) batch, got {shape_str(x)}",
        )
    if planes is not None and x.shape[-4] != planes:
        raise ModuleError(
            module._describe(),
            f"expected {planes} input planes (dim {ndim - 4} of the input), "
            f"got {x.shape[-4]} in input of shape {shape_str(x)}",
        )
    return (x, True) if ndim == 5 else (x[None], False)


def frames_batch(module: Any, x: Any, frame_size: int | None = None) -> tuple[Any, bool]:
    """A (nFrame, frameSize) sequence or an (N, nFrame, frameSize) batch of them (Torch7's
    temporal layers), returned as a batch, plus whether it was one."""
    ndim = getattr(x, "ndim", None)
    if ndim not in (2, 3):
        raise ModuleError(
            module._describe(),
            "expected a 2D (nInputFrame, frameSize) sequence or a 3D (N, nInputFrame, "
            f"frameSize) batch, got {shape_str(x)}",
        )
    if frame_size is not None and x.shape[-1] != frame_size:
        raise ModuleError(
            module._describe(),
            f"expected frames of size {frame_size} (dim {ndim - 1} of the input), "
            f"got {x.shape[-1]} in input of shape {shape_str(x)}",
        )
    return (x, True) if ndim == 3 else (x[None], False)


def check_frames(module: Any, x: Any, kernel: int) -> None:
    """Torch7's "input sequence smaller than kernel size" check of a temporal layer's input,
    a (nFrame, frameSize) sequence or an (N, nFrame, frameSize) batch."""
    if x.shape[-2] < kernel:
        raise ModuleError(
            module._describe(),
            f"input sequence smaller than kernel size: expected at least kW={kernel} frames "
            f"(dim {x.ndim - 2} of the input), got {x.shape[-2]} in input of shape {shape_str(x)}",
        )


def unbatch(y: Any, batched: bool) -> Any:
    """Undo `spatial_batch`: drop the added batch axis of a single sample."""
    return y if batched else y[0]


def check_output_size(module: Any, x4: Any, planes_out: int, out_hw: tuple[int, ...]) -> None:
    """Torch7's "output size is too small" check, with both sizes in the message (any number
    of spatial axes: `x4` is a batch, `out_hw` the output's spatial size)."""
    if min(out_hw) < 1:
        given = "x".join(str(d) for d in x4.shape[1:])
        calc = "x".join(str(d) for d in (planes_out, *out_hw))
        raise ModuleError(
            module._describe(),
            f"input is too small: given input size ({given}), calculated output size ({calc}); "
            "expected the (padded) input to be at least as large as the kernel",
        )


# ----------------------------------------------------------------------- constructor arguments
# Constructors call these on each argument, so a bad size is refused where it is written (not at
# the first forward, nor silently replaced by a default), naming the module, Torch7's meaning of
# the argument and the value given.


def _who(module: Any) -> str:
    cls = type(module)
    return ("nn." if cls.__module__.startswith("nets.") else "") + cls.__name__


def int_arg(module: Any, name: str, meaning: str, value: Any, minimum: int | None = 1) -> int:
    """`value` as an int, refused unless it is an integer (not a bool) of at least `minimum`.

    Raises:
        ModuleError: ``nn.Linear: expected inputSize (the size of each input sample) to be an
            integer >= 1, got 0``.
    """
    bound = "" if minimum is None else f" >= {minimum}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ModuleError(
            _who(module),
            f"expected {name} ({meaning}) to be an integer{bound}, got {value!r} "
            f"({type(value).__name__})",
        )
    if minimum is not None and value < minimum:
        raise ModuleError(
            _who(module), f"expected {name} ({meaning}) to be an integer{bound}, got {value!r}"
        )
    return int(value)


def number_arg(
    module: Any,
    name: str,
    meaning: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """`value` as a finite float in ``[low, high]`` (``(low, high]`` with `low_open`)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "" if low is None else (f" > {low:g}" if low_open else f" >= {low:g}")
        hi = "" if high is None else f" <= {high:g}"
        joint = " and" if lo and hi else ""
        raise ModuleError(
            _who(module),
            f"expected {name} ({meaning}) to be a finite number{lo}{joint}{hi}, got {value!r}",
        )
    return float(value)


def bool_arg(module: Any, name: str, meaning: str, value: Any) -> bool:
    """`value` as a bool, refused unless it is one (Torch7: "in-place flag must be boolean")."""
    if not isinstance(value, (bool, np.bool_)):
        raise ModuleError(_who(module), f"expected {name} ({meaning}) to be a bool, got {value!r}")
    return bool(value)
