"""Pooling layers (torch/nn doc/convolution.md, "Spatial Modules"): SpatialMaxPooling,
SpatialAveragePooling, SpatialAdaptiveAveragePooling, SpatialSubSampling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _random
from .._shape import (
    check_output_size,
    conv_output_size,
    int_arg,
    pool_output_size,
    spatial_batch,
    unbatch,
)
from . import functional as F  # noqa: N812
from . import lowering
from .module import Module


class _Pooling(Module):
    """Shared shell of max and average pooling: window, padding, ceil mode, output shape."""

    def __init__(self, kW: int, kH: int, dW: int, dH: int, padW: int, padH: int) -> None:
        super().__init__()
        self.kW = int_arg(self, "kW", "the kernel width", kW)
        self.kH = int_arg(self, "kH", "the kernel height", kH)
        self.dW = int_arg(self, "dW", "the step of the window along the width", dW)
        self.dH = int_arg(self, "dH", "the step of the window along the height", dH)
        self.padW = int_arg(self, "padW", "the zeros added on the left and right", padW, 0)
        self.padH = int_arg(self, "padH", "the zeros added on the top and bottom", padH, 0)
        if self.padW > self.kW // 2 or self.padH > self.kH // 2:
            raise ValueError(
                f"{type(self).__name__}: pad should be at most half of the kernel size, got "
                f"pad {self.padW},{self.padH} for kernel {self.kW}x{self.kH}"
            )
        self.ceil_mode = False

    def ceil(self) -> _Pooling:
        """Round the output size up (a last, partial window is kept); returns self."""
        self.ceil_mode = True
        return self

    def floor(self) -> _Pooling:
        """Round the output size down (the default); returns self."""
        self.ceil_mode = False
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = pool_output_size(inShape[-2], self.kH, self.dH, self.padH, self.ceil_mode)
        w = pool_output_size(inShape[-1], self.kW, self.dW, self.padW, self.ceil_mode)
        return (*inShape[:-2], h, w)

    def _window(self) -> dict:
        return {
            "kernel": (self.kH, self.kW),
            "stride": (self.dH, self.dW),
            "padding": (self.padH, self.padW),
            "ceil_mode": self.ceil_mode,
        }

    def _batch(self, input: Any) -> tuple[Any, bool]:
        x, batched = spatial_batch(self, input)
        check_output_size(self, x, x.shape[1], self.outputShape(x.shape)[2:])
        return x, batched

    def __repr__(self) -> str:
        s = f"nn.{type(self).__name__}({self.kW}x{self.kH}, {self.dW},{self.dH}"
        if self.padW != 0 or self.padH != 0:
            s += f", {self.padW},{self.padH}"
        return s + ")"


class SpatialMaxPooling(_Pooling):
    """nn.SpatialMaxPooling(kW, kH, [dW=kW], [dH=kH], [padW=0], [padH=0]).

    Max over kW x kH windows of each plane of a CHW sample or NCHW batch; ``.ceil()`` /
    ``.floor()`` choose the rounding of the output size (floor by default).

    Output size: ``oH = floor((H + 2*padH - kH) / dH) + 1`` (``ceil`` in ceil mode), minus one
    if the last window would start in the bottom padding; ``oW`` likewise. Padding never wins.

    Example:
        >>> from nets import nn
        >>> nn.SpatialMaxPooling(2, 2, 2, 2).ceil().forward(jnp.ones((3, 7, 7))).shape
        (3, 4, 4)
    """

    def __init__(
        self,
        kW: int,
        kH: int,
        dW: int | None = None,
        dH: int | None = None,
        padW: int = 0,
        padH: int = 0,
    ) -> None:
        # dW=None means "as kW"; dW=0 is refused, not read as the default (Torch7's `dW or kW`)
        dW = kW if dW is None else dW
        dH = kH if dH is None else dH
        super().__init__(kW, kH, dW, dH, padW, padH)

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        self.output = unbatch(lowering.max_pool2d(x, **self._window()), batched)
        return self.output


class SpatialAveragePooling(_Pooling):
    """nn.SpatialAveragePooling(kW, kH, [dW=1], [dH=1], [padW=0], [padH=0]).

    Mean over kW x kH windows of each plane; the output size is SpatialMaxPooling's. By default
    (Torch7) the zero padding inside a window counts in the divisor;
    ``setCountExcludePad()`` (or ``count_include_pad=False``) divides by the number of input
    elements only. Note Torch7's default stride here is 1, not the kernel size.
    """

    def __init__(
        self,
        kW: int,
        kH: int,
        dW: int = 1,
        dH: int = 1,
        padW: int = 0,
        padH: int = 0,
        *,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kW, kH, dW, dH, padW, padH)
        self.count_include_pad = bool(count_include_pad)

    def setCountIncludePad(self) -> SpatialAveragePooling:
        """Count the padding in each window's divisor (the default); returns self."""
        self.count_include_pad = True
        return self

    def setCountExcludePad(self) -> SpatialAveragePooling:
        """Divide by the number of input elements in each window only; returns self."""
        self.count_include_pad = False
        return self

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        y = F.avg_pool2d(x, **self._window(), count_include_pad=self.count_include_pad)
        self.output = unbatch(y, batched)
        return self.output


class SpatialAdaptiveAveragePooling(Module):
    """nn.SpatialAdaptiveAveragePooling(W, H): averages each plane down to H x W.

    Output cell ``(i, j)`` averages rows ``floor(i*iH/H)`` to ``ceil((i+1)*iH/H) - 1`` and the
    matching columns, so any input size maps to exactly ``(C, H, W)``.
    """

    def __init__(self, W: int, H: int) -> None:
        super().__init__()
        self.W = int_arg(self, "W", "the output width", W)
        self.H = int_arg(self, "H", "the output height", H)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        return (*inShape[:-2], self.H, self.W)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        self.output = unbatch(F.adaptive_avg_pool2d(x, (self.H, self.W)), batched)
        return self.output


class SpatialSubSampling(Module):
    """nn.SpatialSubSampling(nInputPlane, kW, kH, [dW=1], [dH=1]): LeNet's trainable pooling.

    Per plane ``c``: ``weight[c] * (sum over the kW x kH window) + bias[c]``. Output size
    ``oH = floor((H - kH) / dH) + 1``. Parameters ``weight (nInputPlane,)`` and
    ``bias (nInputPlane,)`` start uniform in ``[-1/sqrt(kW*kH), 1/sqrt(kW*kH)]``.
    """

    def __init__(self, nInputPlane: int, kW: int, kH: int, dW: int = 1, dH: int = 1) -> None:
        super().__init__()
        self.nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        self.kW = int_arg(self, "kW", "the kernel width", kW)
        self.kH = int_arg(self, "kH", "the kernel height", kH)
        self.dW = int_arg(self, "dW", "the step of the window along the width", dW)
        self.dH = int_arg(self, "dH", "the step of the window along the height", dH)
        self.register_parameter("weight", np.zeros((nInputPlane,), np.float32))
        self.register_parameter("bias", np.zeros((nInputPlane,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> SpatialSubSampling:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*kH)`` (given stdv times sqrt(3))."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.kW * self.kH)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = conv_output_size(inShape[-2], self.kH, self.dH)
        w = conv_output_size(inShape[-1], self.kW, self.dW)
        return (*inShape[:-2], h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nInputPlane, self.outputShape(x.shape)[2:])
        y = F.subsampling(x, self.weight, self.bias, (self.kH, self.kW), (self.dH, self.dW))
        self.output = unbatch(y, batched)
        return self.output
