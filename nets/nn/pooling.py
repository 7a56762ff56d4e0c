"""Pooling layers (torch/nn doc/convolution.md): SpatialMaxPooling, SpatialAveragePooling,
SpatialAdaptiveAveragePooling, SpatialSubSampling, SpatialDilatedMaxPooling,
SpatialFractionalMaxPooling, SpatialLPPooling, TemporalMaxPooling, VolumetricMaxPooling,
VolumetricAveragePooling; SpatialAdaptiveMaxPooling, TemporalSubSampling,
VolumetricDilatedMaxPooling, FeatureLPPooling, TemporalDynamicKMaxPooling,
VolumetricFractionalMaxPooling, SpatialMaxUnpooling and VolumetricMaxUnpooling."""

from __future__ import annotations

import math
import numbers
import uuid
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import (
    check_frames,
    check_output_size,
    conv_output_size,
    frames_batch,
    int_arg,
    number_arg,
    pool_output_size,
    spatial_batch,
    unbatch,
    volumetric_batch,
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
        _remember_input_shape(self, inShape)
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
        self.handoff()["input"] = x  # for a SpatialMaxUnpooling partner later in the pass
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


class _AdaptivePooling(Module):
    """Pooling of each plane of a CHW sample or NCHW batch to exactly H x W; a subclass names
    the reduction (`pool`, a `functional` op taking the input and (H, W))."""

    pool: Any

    def __init__(self, W: int, H: int) -> None:
        super().__init__()
        self.W = int_arg(self, "W", "the output width", W)
        self.H = int_arg(self, "H", "the output height", H)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        return (*inShape[:-2], self.H, self.W)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        self.output = unbatch(self.pool(x, (self.H, self.W)), batched)
        return self.output


class SpatialAdaptiveAveragePooling(_AdaptivePooling):
    """nn.SpatialAdaptiveAveragePooling(W, H): averages each plane down to H x W.

    Output cell ``(i, j)`` averages rows ``floor(i*iH/H)`` to ``ceil((i+1)*iH/H) - 1`` and the
    matching columns, so any input size maps to exactly ``(C, H, W)``.
    """

    pool = staticmethod(F.adaptive_avg_pool2d)


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


class SpatialDilatedMaxPooling(SpatialMaxPooling):
    """nn.SpatialDilatedMaxPooling(kW, kH, [dW=kW], [dH=kH], [padW=0], [padH=0], [dilationW=1],
    [dilationH=1])

    SpatialMaxPooling over windows whose taps are ``dilationW``/``dilationH`` apart: the window
    of output ``(y, x)`` reads rows ``y*dH - padH + i*dilationH`` (``i < kH``) and the columns
    likewise. Output size as SpatialMaxPooling's with the window's extent
    ``dilation*(k-1) + 1`` for ``k``; ``.ceil()``/``.floor()`` choose the rounding.
    """

    def __init__(
        self,
        kW: int,
        kH: int,
        dW: int | None = None,
        dH: int | None = None,
        padW: int = 0,
        padH: int = 0,
        dilationW: int = 1,
        dilationH: int = 1,
    ) -> None:
        super().__init__(kW, kH, dW, dH, padW, padH)
        self.dilationW = int_arg(
            self, "dilationW", "the spacing of the window's columns", dilationW
        )
        self.dilationH = int_arg(self, "dilationH", "the spacing of the window's rows", dilationH)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        eh, ew = self.dilationH * (self.kH - 1) + 1, self.dilationW * (self.kW - 1) + 1
        h = pool_output_size(inShape[-2], eh, self.dH, self.padH, self.ceil_mode)
        w = pool_output_size(inShape[-1], ew, self.dW, self.padW, self.ceil_mode)
        return (*inShape[:-2], h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        y = F.max_pool_nd(
            x,
            (self.kH, self.kW),
            (self.dH, self.dW),
            (self.padH, self.padW),
            (self.dilationH, self.dilationW),
            self.ceil_mode,
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", {self.dilationW},{self.dilationH})"


class SpatialFractionalMaxPooling(Module):
    """nn.SpatialFractionalMaxPooling(poolSizeW, poolSizeH, outW, outH) or
    nn.SpatialFractionalMaxPooling(poolSizeW, poolSizeH, ratioW, ratioH)

    Fractional max pooling (Graham, 2014): each plane is max-pooled by ``poolSizeW x
    poolSizeH`` windows whose starts step pseudo-randomly by 1 or 2 (Torch7's
    ``generateIntervals``, `functional.fractional_starts`), to exactly ``outH x outW``, or to
    ``floor(H*ratioH) x floor(W*ratioW)`` when given ratios in (0, 1).

    Each sample and plane draws its own two numbers in [0, 1) (Torch7's ``randomSamples``),
    from the `nets.manual_seed` stream like Dropout's masks, anew at every forward in training
    mode. ``fixPoolingRegions()`` keeps the regions fixed, as in Torch7; unlike Torch7, the
    regions are also fixed in evaluation mode, so that inference is deterministic and a
    backward without a training forward sees the forward's own regions. The fixed regions come
    from ``seed``, drawn from the stream when the layer is built.
    """

    def __init__(self, poolSizeW: int, poolSizeH: int, arg1: float, arg2: float) -> None:
        super().__init__()
        self.poolSizeW = int_arg(self, "poolSizeW", "the width of each window", poolSizeW, 2)
        self.poolSizeH = int_arg(self, "poolSizeH", "the height of each window", poolSizeH, 2)
        self.outW = self.outH = self.ratioW = self.ratioH = None
        if _is_count(arg1) and _is_count(arg2):
            self.outW = int_arg(self, "outW", "the output width", arg1)
            self.outH = int_arg(self, "outH", "the output height", arg2)
        elif _is_count(arg1) or _is_count(arg2):
            raise ModuleError(
                "nn.SpatialFractionalMaxPooling",
                f"expected both sizes (integers >= 1) or both ratios in (0, 1), got "
                f"{arg1!r}, {arg2!r}",
            )
        else:
            meaning = "the output's {} as a fraction of the input's"
            self.ratioW = number_arg(self, "ratioW", meaning.format("width"), arg1, 0, 1, True)
            self.ratioH = number_arg(self, "ratioH", meaning.format("height"), arg2, 0, 1, True)
        self.newRandomPool = False
        self.seed = 0 if _random.is_shape_only() else int(_random.generator().integers(2**31))

    def fixPoolingRegions(self, val: bool = True) -> SpatialFractionalMaxPooling:
        """Stop (or with False, resume) drawing new regions at each training forward."""
        self.newRandomPool = bool(val)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        if self.ratioW is None:
            return (*inShape[:-2], self.outH, self.outW)
        h, w = math.floor(inShape[-2] * self.ratioH), math.floor(inShape[-1] * self.ratioW)
        return (*inShape[:-2], h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        oh, ow = self.outputShape(x.shape)[2:]
        check_output_size(self, x, x.shape[1], (oh, ow))
        for axis, out, pool, size in (
            ("H", oh, self.poolSizeH, x.shape[2]),
            ("W", ow, self.poolSizeW, x.shape[3]),
        ):
            if out + pool - 1 >= size:
                raise ModuleError(
                    self._describe(),
                    f"poolSize{axis} ({pool}) too large relative to the input's "
                    f"{'height' if axis == 'H' else 'width'} ({size}): expected "
                    f"out{axis} + poolSize{axis} - 1 < {size}, got {out} + {pool} - 1 "
                    f"in input of shape {shape_str(input)}",
                )
        fixed = self.newRandomPool or not self.train
        key = jax.random.key(self.seed) if fixed else self.next_key()
        samples = jax.random.uniform(key, (x.shape[0], x.shape[1], 2))
        y = F.fractional_max_pool2d(x, (oh, ow), (self.poolSizeH, self.poolSizeW), samples)
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        w = self.outW if self.ratioW is None else f"{self.ratioW:g}"
        h = self.outH if self.ratioH is None else f"{self.ratioH:g}"
        return f"nn.SpatialFractionalMaxPooling({w}x{h}, {self.poolSizeW},{self.poolSizeH})"


def _is_count(value: Any) -> bool:
    """Torch7 reads an argument >= 1 as an output size, one below 1 as a ratio."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= 1


class SpatialLPPooling(Module):
    """nn.SpatialLPPooling(nInputPlane, pnorm, kW, kH, [dW=kW], [dH=kH])

    The p-norm of each window of each plane: ``(sum over the kW x kH window of x^p)^(1/p)``,
    no padding; output size ``floor((H - kH) / dH) + 1``. As in Torch7 (a Sequential of Power,
    SpatialAveragePooling, MulConstant and Power(1/p)), ``x^p`` of a negative x is NaN for a
    non-integer p, and p = 2 is ``sqrt(sum x^2)``. Torch7 prints it as that Sequential; here it
    is one layer, printed ``nn.SpatialLPPooling(p, kWxkH, dW,dH)``.
    """

    def __init__(
        self,
        nInputPlane: int,
        pnorm: float,
        kW: int,
        kH: int,
        dW: int | None = None,
        dH: int | None = None,
    ) -> None:
        super().__init__()
        self.nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        self.pnorm = number_arg(self, "pnorm", "the norm's exponent p", pnorm, 0, low_open=True)
        self.kW = int_arg(self, "kW", "the kernel width", kW)
        self.kH = int_arg(self, "kH", "the kernel height", kH)
        dW = self.kW if dW is None else dW
        dH = self.kH if dH is None else dH
        self.dW = int_arg(self, "dW", "the step of the window along the width", dW)
        self.dH = int_arg(self, "dH", "the step of the window along the height", dH)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = conv_output_size(inShape[-2], self.kH, self.dH)
        w = conv_output_size(inShape[-1], self.kW, self.dW)
        return (*inShape[:-2], h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nInputPlane, self.outputShape(x.shape)[2:])
        y = F.lp_pool2d(x, self.pnorm, (self.kH, self.kW), (self.dH, self.dW))
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return f"nn.SpatialLPPooling({self.pnorm:g}, {self.kW}x{self.kH}, {self.dW},{self.dH})"


class TemporalMaxPooling(Module):
    """nn.TemporalMaxPooling(kW, [dW=kW])

    Max over windows of ``kW`` frames, ``dW`` apart, of a ``(nInputFrame, frameSize)``
    sequence or an ``(N, nInputFrame, frameSize)`` batch, each feature apart; output
    ``floor((nInputFrame - kW) / dW) + 1`` frames of the same size.
    """

    def __init__(self, kW: int, dW: int | None = None) -> None:
        super().__init__()
        self.kW = int_arg(self, "kW", "the number of frames in each window", kW)
        dW = self.kW if dW is None else dW
        self.dW = int_arg(self, "dW", "the step of the window in frames", dW)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape, without computing."""
        return (*inShape[:-2], conv_output_size(inShape[-2], self.kW, self.dW), inShape[-1])

    def updateOutput(self, input: Any) -> Any:
        x, batched = frames_batch(self, input)
        check_frames(self, input, self.kW)
        y = F.max_pool_nd(jnp.swapaxes(x, 1, 2), (self.kW,), (self.dW,))
        self.output = unbatch(jnp.swapaxes(y, 1, 2), batched)
        return self.output


class VolumetricMaxPooling(Module):
    """nn.VolumetricMaxPooling(kT, kW, kH, [dT=kT], [dW=kW], [dH=kH], [padT=0], [padW=0],
    [padH=0])

    Max over ``kT x kH x kW`` windows of each plane of a CTHW sample or NCTHW batch; the
    output size on each axis is SpatialMaxPooling's (``.ceil()``/``.floor()`` choose the
    rounding); padding, at most half the kernel, never wins.
    """

    def __init__(
        self,
        kT: int,
        kW: int,
        kH: int,
        dT: int | None = None,
        dW: int | None = None,
        dH: int | None = None,
        padT: int = 0,
        padW: int = 0,
        padH: int = 0,
    ) -> None:
        super().__init__()
        self.kT = int_arg(self, "kT", "the kernel depth (time)", kT)
        self.kW = int_arg(self, "kW", "the kernel width", kW)
        self.kH = int_arg(self, "kH", "the kernel height", kH)
        dT, dW, dH = (k if d is None else d for k, d in ((kT, dT), (kW, dW), (kH, dH)))
        self.dT = int_arg(self, "dT", "the step of the window along the time", dT)
        self.dW = int_arg(self, "dW", "the step of the window along the width", dW)
        self.dH = int_arg(self, "dH", "the step of the window along the height", dH)
        self.padT = int_arg(self, "padT", "the padding before and after in time", padT, 0)
        self.padW = int_arg(self, "padW", "the padding on the left and right", padW, 0)
        self.padH = int_arg(self, "padH", "the padding on the top and bottom", padH, 0)
        if self.padT > self.kT // 2 or self.padW > self.kW // 2 or self.padH > self.kH // 2:
            raise ModuleError(
                "nn.VolumetricMaxPooling",
                f"pad should be at most half of the kernel size, got pad "
                f"{self.padT},{self.padW},{self.padH} for kernel {self.kT}x{self.kW}x{self.kH}",
            )
        self.ceil_mode = False

    def ceil(self) -> VolumetricMaxPooling:
        """Round the output size up (a last, partial window is kept); returns self."""
        self.ceil_mode = True
        return self

    def floor(self) -> VolumetricMaxPooling:
        """Round the output size down (the default); returns self."""
        self.ceil_mode = False
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        _remember_input_shape(self, inShape)
        sizes = zip(
            inShape[-3:],
            (self.kT, self.kH, self.kW),
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            strict=True,
        )
        return (*inShape[:-3], *(pool_output_size(*a, self.ceil_mode) for a in sizes))

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        check_output_size(self, x, x.shape[1], self.outputShape(x.shape)[2:])
        self.handoff()["input"] = x  # for a VolumetricMaxUnpooling partner later in the pass
        y = F.max_pool_nd(
            x,
            (self.kT, self.kH, self.kW),
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            ceil_mode=self.ceil_mode,
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = f"nn.{type(self).__name__}({self.kT}x{self.kW}x{self.kH}, {self.dT},{self.dW},{self.dH}"
        if self.padT or self.padW or self.padH:
            s += f", {self.padT},{self.padW},{self.padH}"
        return s + ")"


class VolumetricAveragePooling(Module):
    """nn.VolumetricAveragePooling(kT, kW, kH, [dT=kT], [dW=kW], [dH=kH])

    Mean over ``kT x kH x kW`` windows of each plane of a CTHW sample or NCTHW batch, without
    padding; output size ``floor((T - kT) / dT) + 1`` on each axis. Unlike
    SpatialAveragePooling, the strides default to the kernel size (Torch7).
    """

    def __init__(
        self,
        kT: int,
        kW: int,
        kH: int,
        dT: int | None = None,
        dW: int | None = None,
        dH: int | None = None,
    ) -> None:
        super().__init__()
        self.kT = int_arg(self, "kT", "the kernel depth (time)", kT)
        self.kW = int_arg(self, "kW", "the kernel width", kW)
        self.kH = int_arg(self, "kH", "the kernel height", kH)
        dT, dW, dH = (k if d is None else d for k, d in ((kT, dT), (kW, dW), (kH, dH)))
        self.dT = int_arg(self, "dT", "the step of the window along the time", dT)
        self.dW = int_arg(self, "dW", "the step of the window along the width", dW)
        self.dH = int_arg(self, "dH", "the step of the window along the height", dH)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        sizes = zip(
            inShape[-3:], (self.kT, self.kH, self.kW), (self.dT, self.dH, self.dW), strict=True
        )
        return (*inShape[:-3], *(conv_output_size(*a) for a in sizes))

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        check_output_size(self, x, x.shape[1], self.outputShape(x.shape)[2:])
        y = F.avg_pool_nd(x, (self.kT, self.kH, self.kW), (self.dT, self.dH, self.dW))
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return (
            f"nn.VolumetricAveragePooling({self.kT}x{self.kW}x{self.kH}, "
            f"{self.dT},{self.dW},{self.dH})"
        )


# ---- more Torch7 pooling layers (issue 19)


class SpatialAdaptiveMaxPooling(_AdaptivePooling):
    """nn.SpatialAdaptiveMaxPooling(W, H): max pooling of each plane of a CHW sample or NCHW
    batch to exactly ``H x W``; output cell ``(i, j)`` takes the max over rows
    ``[floor(i*iH/H), ceil((i+1)*iH/H))`` and the same columns along the width."""

    pool = staticmethod(F.adaptive_max_pool2d)


class TemporalSubSampling(Module):
    """nn.TemporalSubSampling(inputFrameSize, kW, [dW=1]): ``y[t, i] = bias[i] + weight[i] *
    sum_{k < kW} x[t*dW + k, i]`` over a ``(nInputFrame, inputFrameSize)`` sequence (or an
    (N, nInputFrame, inputFrameSize) batch); ``floor((nInputFrame - kW) / dW) + 1`` output
    frames. ``weight`` and ``bias`` (inputFrameSize,) start uniform in
    ``[-1/sqrt(kW), 1/sqrt(kW)]``."""

    def __init__(self, inputFrameSize: int, kW: int, dW: int = 1) -> None:
        super().__init__()
        self.inputFrameSize = int_arg(
            self, "inputFrameSize", "the size of each input frame", inputFrameSize
        )
        self.kW = int_arg(self, "kW", "the number of frames in each window", kW)
        self.dW = int_arg(self, "dW", "the step of the window in frames", dW)
        self.weight = np.zeros((self.inputFrameSize,), np.float32)
        self.bias = np.zeros((self.inputFrameSize,), np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> TemporalSubSampling:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(kW)``."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.kW)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape, without computing."""
        return (*inShape[:-2], conv_output_size(inShape[-2], self.kW, self.dW), inShape[-1])

    def updateOutput(self, input: Any) -> Any:
        x, batched = frames_batch(self, input, self.inputFrameSize)
        check_frames(self, input, self.kW)
        y = F.temporal_subsampling(x, self.weight, self.bias, self.kW, self.dW)
        self.output = unbatch(y, batched)
        return self.output


class VolumetricDilatedMaxPooling(VolumetricMaxPooling):
    """nn.VolumetricDilatedMaxPooling(kT, kW, kH, [dT=kT], [dW=kW], [dH=kH], [padT=0],
    [padW=0], [padH=0], [dilationT=1], [dilationW=1], [dilationH=1])

    VolumetricMaxPooling whose window taps are ``dilation`` apart: a window covers
    ``dilation*(k-1) + 1`` inputs along each axis (the output size uses that extent).
    """

    def __init__(
        self,
        kT: int,
        kW: int,
        kH: int,
        dT: int | None = None,
        dW: int | None = None,
        dH: int | None = None,
        padT: int = 0,
        padW: int = 0,
        padH: int = 0,
        dilationT: int = 1,
        dilationW: int = 1,
        dilationH: int = 1,
    ) -> None:
        super().__init__(kT, kW, kH, dT, dW, dH, padT, padW, padH)
        self.dilationT = int_arg(self, "dilationT", "the spacing of the taps in time", dilationT)
        self.dilationW = int_arg(self, "dilationW", "the spacing of the taps in width", dilationW)
        self.dilationH = int_arg(self, "dilationH", "the spacing of the taps in height", dilationH)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        sizes = zip(
            inShape[-3:],
            (self.kT, self.kH, self.kW),
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            (self.dilationT, self.dilationH, self.dilationW),
            strict=True,
        )
        return (
            *inShape[:-3],
            *(
                pool_output_size(n, r * (k - 1) + 1, d, p, self.ceil_mode)
                for n, k, d, p, r in sizes
            ),
        )

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        check_output_size(self, x, x.shape[1], self.outputShape(x.shape)[2:])
        y = F.max_pool_nd(
            x,
            (self.kT, self.kH, self.kW),
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            (self.dilationT, self.dilationH, self.dilationW),
            self.ceil_mode,
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", {self.dilationT},{self.dilationW},{self.dilationH})"


class FeatureLPPooling(Module):
    """nn.FeatureLPPooling(width, stride, power, batch_mode): Lp pooling across features,
    ``y[f] = (sum_{j < width} x[f*stride + j]^power)^(1/power)`` along the feature dimension:
    dim 0 of a 1-3D input, or dim 1 of a 2-4D batch with ``batch_mode``; that dimension becomes
    ``(F - width) / stride + 1``. As THNN, ``2 <= width <= 16`` and ``1 <= stride <= 4``, and
    ``x`` is raised to the power as it is (keep it positive for odd or fractional powers).
    """

    def __init__(self, width: int, stride: int, power: float, batch_mode: bool) -> None:
        super().__init__()
        self.width = int_arg(self, "width", "the features pooled together", width, 2)
        if self.width > 16:
            raise ModuleError("nn.FeatureLPPooling", f"expected width <= 16, got {width}")
        self.stride = int_arg(self, "stride", "the step between pools", stride)
        if self.stride > 4:
            raise ModuleError("nn.FeatureLPPooling", f"expected stride <= 4, got {stride}")
        self.power = number_arg(self, "power", "the norm's exponent", power, 0, low_open=True)
        if not isinstance(batch_mode, (bool, np.bool_)):
            raise ModuleError(
                "nn.FeatureLPPooling", f"expected batch_mode to be a bool, got {batch_mode!r}"
            )
        self.batch_mode = bool(batch_mode)

    def updateOutput(self, input: Any) -> Any:
        lo = 2 if self.batch_mode else 1
        ndim = getattr(input, "ndim", None)
        if ndim is None or not lo <= ndim <= lo + 2:
            mode = "batch mode" if self.batch_mode else "non-batch mode"
            raise ModuleError(
                self._describe(),
                f"expected an input of {lo} to {lo + 2} dimensions for {mode}, "
                f"got {shape_str(input)}",
            )
        x = input if self.batch_mode else input[None]
        if x.shape[1] < self.width:
            raise ModuleError(
                self._describe(),
                f"expected at least width = {self.width} features (dim {lo - 1} of the input), "
                f"got {shape_str(input)}",
            )
        y = F.feature_lp_pool(x, self.width, self.stride, self.power)
        self.output = y if self.batch_mode else y[0]
        return self.output

    def __repr__(self) -> str:
        return (
            f"nn.FeatureLPPooling(w{self.width} s{self.stride} power {self.power:g} "
            f"batch {int(self.batch_mode)}"
        )


class TemporalDynamicKMaxPooling(Module):
    """nn.TemporalDynamicKMaxPooling(minK, [factor=0]): the ``k`` largest values of each feature
    of a ``(nInputFrame, frameSize)`` sequence (or an (N, ...) batch), kept in time order, with
    ``k = max(minK, ceil(factor * nInputFrame))`` (Kalchbrenner et al., 2014). ``k`` depends on
    the input's length only, so it is fixed when a network is compiled for that length.
    """

    def __init__(self, minK: int, factor: float = 0.0) -> None:
        super().__init__()
        self.minK = int_arg(self, "minK", "the smallest k", minK)
        self.factor = number_arg(self, "factor", "k's share of the sequence length", factor, 0)

    def updateOutput(self, input: Any) -> Any:
        x, batched = frames_batch(self, input)
        length = x.shape[1]
        k = max(self.minK, math.ceil(self.factor * length))
        if length < k:
            raise ModuleError(
                self._describe(),
                f"input sequence length ({length}) too small for the desired k value ({k}), "
                f"got input of shape {shape_str(input)}",
            )
        self.output = unbatch(F.dynamic_k_max(x, k), batched)
        return self.output


class VolumetricFractionalMaxPooling(Module):
    """nn.VolumetricFractionalMaxPooling(poolSizeT, poolSizeW, poolSizeH, outT, outW, outH) or
    nn.VolumetricFractionalMaxPooling(poolSizeT, poolSizeW, poolSizeH, ratioT, ratioW, ratioH)

    SpatialFractionalMaxPooling for volumes (CTHW samples, NCTHW batches): pseudo-random
    ``poolSizeT x poolSizeH x poolSizeW`` windows, to exactly ``outT x outH x outW`` or to the
    input's size times the ratios. Each sample and plane draws three numbers in [0, 1), anew at
    every training forward; ``fixPoolingRegions()`` and evaluation mode keep the regions from
    ``seed``, as SpatialFractionalMaxPooling does.
    """

    def __init__(
        self,
        poolSizeT: int,
        poolSizeW: int,
        poolSizeH: int,
        arg1: float,
        arg2: float,
        arg3: float,
    ) -> None:
        super().__init__()
        self.poolSizeT = int_arg(self, "poolSizeT", "the depth of each window", poolSizeT, 2)
        self.poolSizeW = int_arg(self, "poolSizeW", "the width of each window", poolSizeW, 2)
        self.poolSizeH = int_arg(self, "poolSizeH", "the height of each window", poolSizeH, 2)
        self.outT = self.outW = self.outH = None
        self.ratioT = self.ratioW = self.ratioH = None
        names = ("T", "W", "H")
        if all(_is_count(a) for a in (arg1, arg2, arg3)):
            for name, a in zip(names, (arg1, arg2, arg3), strict=True):
                setattr(self, "out" + name, int_arg(self, "out" + name, "an output size", a))
        elif any(_is_count(a) for a in (arg1, arg2, arg3)):
            raise ModuleError(
                "nn.VolumetricFractionalMaxPooling",
                f"expected three sizes (integers >= 1) or three ratios in (0, 1), got "
                f"{arg1!r}, {arg2!r}, {arg3!r}",
            )
        else:
            for name, a in zip(names, (arg1, arg2, arg3), strict=True):
                ratio = number_arg(self, "ratio" + name, "an output share", a, 0, 1, True)
                setattr(self, "ratio" + name, ratio)
        self.newRandomPool = False
        self.seed = 0 if _random.is_shape_only() else int(_random.generator().integers(2**31))

    def fixPoolingRegions(self, val: bool = True) -> VolumetricFractionalMaxPooling:
        """Stop (or with False, resume) drawing new regions at each training forward."""
        self.newRandomPool = bool(val)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        if self.ratioT is None:
            return (*inShape[:-3], self.outT, self.outH, self.outW)
        ratios = (self.ratioT, self.ratioH, self.ratioW)
        return (
            *inShape[:-3],
            *(math.floor(s * r) for s, r in zip(inShape[-3:], ratios, strict=True)),
        )

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        out = self.outputShape(x.shape)[2:]
        check_output_size(self, x, x.shape[1], out)
        pools = (self.poolSizeT, self.poolSizeH, self.poolSizeW)
        for axis, o, pool, size in zip("THW", out, pools, x.shape[2:], strict=True):
            if o + pool - 1 >= size:
                raise ModuleError(
                    self._describe(),
                    f"poolSize{axis} ({pool}) too large relative to the input's size along "
                    f"{axis} ({size}): expected out{axis} + poolSize{axis} - 1 < {size}, got "
                    f"{o} + {pool} - 1 in input of shape {shape_str(input)}",
                )
        fixed = self.newRandomPool or not self.train
        key = jax.random.key(self.seed) if fixed else self.next_key()
        samples = jax.random.uniform(key, (x.shape[0], x.shape[1], 3))
        y = F.fractional_max_pool3d(x, out, pools, samples)
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        sizes = (
            (self.outT, self.outW, self.outH)
            if self.ratioT is None
            else (f"{self.ratioT:g}", f"{self.ratioW:g}", f"{self.ratioH:g}")
        )
        return (
            f"nn.VolumetricFractionalMaxPooling({'x'.join(map(str, sizes))}, "
            f"{self.poolSizeT},{self.poolSizeW},{self.poolSizeH})"
        )


# The last input shape of each pooling module that has an unpooling partner, by its
# handoffKey: plain tuples, read by the partner's outputShape (shape inference, nets.summary),
# as Torch7's unpooling read the pooling's ``iheight`` and ``iwidth``.
_INPUT_SHAPES: dict[str, tuple[int, ...]] = {}


def _remember_input_shape(pool: Module, shape: tuple[int, ...]) -> None:
    key = pool.__dict__.get("handoffKey")
    if key is not None:
        _INPUT_SHAPES[key] = tuple(int(d) for d in shape)


class _MaxUnpooling(Module):
    """What Spatial- and VolumetricMaxUnpooling share: the partner pooling module, held as the
    one child (so it is printed and saved with the unpooling), whose input of the same pass
    gives the positions of the maxima."""

    _partner: type = Module
    _axes = ("W", "H")

    def __init__(self, poolingModule: Module) -> None:
        super().__init__()
        name = type(self).__name__
        if type(poolingModule) is not self._partner:
            raise ModuleError(
                f"nn.{name}",
                f"expected an nn.{self._partner.__name__} as poolingModule, got "
                f"{type(poolingModule).__name__}",
            )
        for a in self._axes:
            k, d = getattr(poolingModule, "k" + a), getattr(poolingModule, "d" + a)
            if k != d:
                raise ModuleError(
                    f"nn.{name}",
                    f"expected the pooling module's kernel to equal its stride, got k{a}={k} "
                    f"and d{a}={d}",
                )
        if "handoffKey" not in poolingModule.__dict__:
            # names the pooling module's handoff, so that a rebuilt copy finds it too
            poolingModule.handoffKey = uuid.uuid4().hex
        self.modules = [poolingModule]

    @property
    def pooling(self) -> Module:
        """The partner pooling module (Torch7's ``pooling``)."""
        return self.modules[0]

    def _unpool(self, input: Any, batched_input: Any, batched: bool) -> Any:
        pool = self.pooling
        x = pool.handoff().get("input")
        if x is None:
            raise ModuleError(
                self._describe(),
                f"its {pool._describe()} has not run in this pass: run both in one network "
                "(e.g. one nn.Sequential), the pooling first",
            )
        want = pool.outputShape(x.shape)
        if batched_input.shape != want:
            shown = want if batched else want[1:]
            raise ModuleError(
                self._describe(),
                f"expected an input of the pooling's output shape {shown}, got {shape_str(input)}",
            )
        kernel = tuple(getattr(pool, "k" + a) for a in reversed(self._axes))
        padding = tuple(getattr(pool, "pad" + a) for a in reversed(self._axes))
        return unbatch(F.max_unpool_nd(batched_input, x, kernel, padding), batched)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The pooling module's last input shape (from its last pass or shape inference), with
        `inShape`'s batch axis; the pooling must have seen an input first."""
        pooled = _INPUT_SHAPES.get(self.pooling.__dict__["handoffKey"])
        if pooled is None:
            raise ModuleError(
                self._describe(),
                "its output shape is its pooling module's input shape, and that module has "
                "not seen an input yet: run or infer the pooling first",
            )
        n = len(self._axes) + 1  # a sample's dimensions
        return (*inShape[: len(inShape) - n], *pooled[len(pooled) - n :])

    def __repr__(self) -> str:
        return f"nn.{type(self).__name__} associated to {self.pooling!r}"


class SpatialMaxUnpooling(_MaxUnpooling):
    """nn.SpatialMaxUnpooling(poolingModule): the inverse of an nn.SpatialMaxPooling whose
    kernel equals its stride: each input value goes back to where that pooling found its
    window's maximum (the first one), zeros elsewhere, at the pooling's input size.

    The pooling module must run earlier in the same forward pass (one network, as in a
    SegNet-style encoder-decoder): its input of that pass gives the positions.
    """

    _partner = SpatialMaxPooling

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        self.output = self._unpool(input, x, batched)
        return self.output


class VolumetricMaxUnpooling(_MaxUnpooling):
    """nn.VolumetricMaxUnpooling(poolingModule): SpatialMaxUnpooling for an
    nn.VolumetricMaxPooling whose kernel equals its stride (CTHW samples, NCTHW batches)."""

    _partner = VolumetricMaxPooling
    _axes = ("W", "H", "T")

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        self.output = self._unpool(input, x, batched)
        return self.output
