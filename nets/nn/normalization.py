"""Normalization layers: BatchNormalization, SpatialBatchNormalization,
VolumetricBatchNormalization, SpatialCrossMapLRN, and the local normalisations
SpatialSubtractiveNormalization, SpatialDivisiveNormalization and
SpatialContrastiveNormalization."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import int_arg, number_arg, spatial_batch, unbatch, volumetric_batch
from . import functional as F  # noqa: N812
from . import lowering
from .module import Module


class BatchNormalization(Module):
    """nn.BatchNormalization(nOutput, [eps=1e-5], [momentum=0.1], [affine=True]).

    Normalises each of the ``nOutput`` features of an ``(N, nOutput)`` batch:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias``. In training mode the batch statistics
    are used and the buffers ``running_mean``/``running_var`` move towards them by ``momentum``
    (with the unbiased batch variance, as Torch7); in evaluation mode the running statistics are
    used. A single sample ``(nOutput,)`` is accepted in evaluation mode only.

    Parameters (if ``affine``): ``weight`` uniform in [0, 1) and ``bias`` zero, as Torch7's
    ``reset``; buffers start at mean 0, variance 1.
    """

    nDim = 2

    def __init__(
        self, nOutput: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True
    ) -> None:
        super().__init__()
        nOutput = int_arg(self, "nOutput", "the number of features (planes)", nOutput)
        self.eps = number_arg(self, "eps", "added to the variance", eps, 0.0, low_open=True)
        self.momentum = number_arg(
            self, "momentum", "the running statistics' rate", momentum, 0.0, 1.0
        )
        self.affine = bool(affine)
        if affine:
            self.register_parameter("weight", np.zeros((nOutput,), np.float32))
            self.register_parameter("bias", np.zeros((nOutput,), np.float32))
        else:
            self.weight = None
            self.bias = None
        self.register_buffer("running_mean", np.zeros((nOutput,), np.float32))
        self.register_buffer("running_var", np.ones((nOutput,), np.float32))
        self.reset()

    def reset(self) -> BatchNormalization:
        """weight uniform in [0, 1), bias 0, running mean 0 and variance 1 (Torch7)."""
        if self.affine:
            self.weight = _random.uniform(0.0, 1.0, self.weight.shape)
            self.bias = np.zeros(self.bias.shape, np.float32)
        self.running_mean = np.zeros(self.running_mean.shape, np.float32)
        self.running_var = np.ones(self.running_var.shape, np.float32)
        return self

    def _as_batch(self, input: Any) -> tuple[Any, bool]:
        n = self.running_mean.shape[0]
        if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != n:
            raise ModuleError(
                self._describe(),
                f"expected a (N, {n}) batch or a ({n},) sample, got {shape_str(input)}",
            )
        return (input, True) if input.ndim == 2 else (input[None], False)

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._as_batch(input)
        if self.train and x.size // x.shape[1] < 2:
            raise ModuleError(
                self._describe(),
                f"training mode needs more than one value per feature to estimate the batch "
                f"variance, got input of shape {shape_str(input)}; call evaluate() to use "
                "the running statistics",
            )
        y, mean, var = lowering.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            train=self.train,
            momentum=self.momentum,
            eps=self.eps,
        )
        if self.train:
            self.running_mean = mean
            self.running_var = var
        self.output = y if batched else y[0]
        return self.output

    def __repr__(self) -> str:
        return f"nn.{type(self).__name__} ({self.nDim}D) ({self.running_mean.shape[0]})"


class SpatialBatchNormalization(BatchNormalization):
    """nn.SpatialBatchNormalization(nFeature, [eps=1e-5], [momentum=0.1], [affine=True]).

    BatchNormalization over the planes of an NCHW batch (or a CHW sample): statistics are
    taken over N, H and W for each plane.
    """

    nDim = 4

    def _as_batch(self, input: Any) -> tuple[Any, bool]:
        return spatial_batch(self, input, self.running_mean.shape[0])


class SpatialCrossMapLRN(Module):
    """nn.SpatialCrossMapLRN([size=5], [alpha=1e-4], [beta=0.75], [k=1]): AlexNet's LRN.

    ``y[c] = x[c] / (k + alpha/size * sum of x[c']^2 over the size channels around c)^beta``,
    channels ``c - (size-1)//2 .. c + size//2``, cut at the edges. CHW or NCHW input.
    """

    def __init__(
        self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
    ) -> None:
        super().__init__()
        self.size = int_arg(self, "size", "the number of channels summed over", size)
        self.alpha = number_arg(self, "alpha", "the scale of the sum of squares", alpha)
        self.beta = number_arg(self, "beta", "the exponent", beta)
        self.k = number_arg(self, "k", "the additive constant", k)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        y = F.cross_map_lrn(x, self.size, self.alpha, self.beta, self.k)
        self.output = unbatch(y, batched)
        return self.output


class VolumetricBatchNormalization(BatchNormalization):
    """nn.VolumetricBatchNormalization(nFeature, [eps=1e-5], [momentum=0.1], [affine=True])

    BatchNormalization over the planes of an NCTHW batch: statistics are taken over N, T, H
    and W for each plane. A single CTHW sample is accepted in evaluation mode only (Torch7).
    """

    nDim = 5

    def _as_batch(self, input: Any) -> tuple[Any, bool]:
        x, batched = volumetric_batch(self, input, self.running_mean.shape[0])
        if self.train and not batched:
            raise ModuleError(
                self._describe(),
                f"training mode expected a 5D (N, C, T, H, W) batch, got {shape_str(input)}; "
                "a single 4D sample is normalised in evaluation mode only (call evaluate())",
            )
        return x, batched


def _averaging_kernel(module: Module, kernel: Any) -> np.ndarray:
    """Torch7's checks of a local normalisation's kernel: 1-D or 2-D, odd sizes."""
    k = np.asarray(np.ones((9, 9), np.float32) if kernel is None else kernel)
    if k.ndim not in (1, 2) or k.size == 0 or not np.issubdtype(k.dtype, np.number):
        raise ModuleError(
            "nn." + type(module).__name__,
            f"expected the averaging kernel to be a 1D or 2D array of numbers, got shape "
            f"{k.shape} ({k.dtype})",
        )
    if any(n % 2 == 0 for n in k.shape):
        raise ModuleError(
            "nn." + type(module).__name__,
            f"expected an averaging kernel with odd sizes, got shape {k.shape}",
        )
    return k.astype(np.float32)


class _LocalNormalization(Module):
    """Shared shell: ``nInputPlane``, the averaging kernel (a buffer), the input check."""

    def __init__(self, nInputPlane: int = 1, kernel: Any = None) -> None:
        super().__init__()
        self.nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        self.register_buffer("kernel", _averaging_kernel(self, kernel))

    def _batch(self, input: Any) -> tuple[Any, bool]:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        return x, batched


class _Thresholded(_LocalNormalization):
    """Adds the divisive normalisation's ``threshold`` and ``thresval`` (default: threshold)."""

    def __init__(
        self,
        nInputPlane: int = 1,
        kernel: Any = None,
        threshold: float = 1e-4,
        thresval: float | None = None,
    ) -> None:
        super().__init__(nInputPlane, kernel)
        self.threshold = number_arg(
            self, "threshold", "the smallest standard deviation divided by", threshold
        )
        thresval = self.threshold if thresval is None else thresval
        self.thresval = number_arg(
            self, "thresval", "the divisor used below the threshold", thresval
        )


class SpatialSubtractiveNormalization(_LocalNormalization):
    """nn.SpatialSubtractiveNormalization([nInputPlane=1], [kernel=ones(9, 9)])

    Subtracts from every plane of a CHW sample or NCHW batch the weighted local mean of all
    planes: ``y[c] = x[c] - mean / coef`` with ``mean = sum_c' conv(x[c'], k) / (sum(k) *
    nInputPlane)`` (zero padded to keep the size) and ``coef`` the same mean of an all-ones
    input, which undoes the zero padding's pull near the borders. A 1-D kernel acts along rows
    and columns (its outer product with itself). Its sizes must be odd; it is kept as given in
    the buffer ``kernel`` (Torch7 keeps it divided by its sum times nInputPlane).
    """

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        self.output = unbatch(F.subtractive_norm(x, self.kernel), batched)
        return self.output


class SpatialDivisiveNormalization(_Thresholded):
    """nn.SpatialDivisiveNormalization([nInputPlane=1], [kernel=ones(9, 9)], [threshold=1e-4],
    [thresval=threshold])

    Divides every plane of a CHW sample or NCHW batch by the weighted local standard deviation
    of all planes: ``std = sqrt(mean of x^2) / coef`` (the means as in
    SpatialSubtractiveNormalization), replaced by ``thresval`` where it is not above
    ``threshold``; ``y[c] = x[c] / std``.
    """

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        y = F.divisive_norm(x, self.kernel, self.threshold, self.thresval)
        self.output = unbatch(y, batched)
        return self.output


class SpatialContrastiveNormalization(_Thresholded):
    """nn.SpatialContrastiveNormalization([nInputPlane=1], [kernel=ones(9, 9)],
    [threshold=1e-4], [thresval=threshold])

    SpatialSubtractiveNormalization followed by SpatialDivisiveNormalization with the same
    kernel: every plane loses its local mean and is divided by its local standard deviation.
    """

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        y = F.contrastive_norm(x, self.kernel, self.threshold, self.thresval)
        self.output = unbatch(y, batched)
        return self.output


class LayerNormalization(Module):
    """nn.LayerNormalization(nOutput, [bias=0], [eps=1e-10], [affine=True]): each sample's
    ``nOutput`` features centred and scaled (Ba, Kiros and Hinton, 2016, section 3).

    ``y = sqrt(nOutput) * (x - mean) / sqrt(sum (x - mean)^2 + eps)``, then ``y * weight + bias``
    when affine, with ``weight`` starting at 1 and ``bias`` at `bias`. Torch7 builds it as a
    Sequential (ConcatTable of Identity and Mean/Replicate, CSubTable, Normalize(2, eps),
    MulConstant(sqrt(nOutput)), CMul, Add); the maths is that chain's, here one layer with the
    CMul's weight and the Add's bias. Input (nOutput,) or (N, nOutput).
    """

    def __init__(
        self, nOutput: int, bias: float = 0.0, eps: float = 1e-10, affine: bool = True
    ) -> None:
        super().__init__()
        self.nOutput = int_arg(self, "nOutput", "the number of features", nOutput)
        bias = number_arg(self, "bias", "the bias's starting value", bias)
        self.eps = number_arg(self, "eps", "added to the squared norm", eps, 0)
        self.affine = bool(affine)
        self.register_parameter("weight", np.ones((self.nOutput,), np.float32))
        self.register_parameter("bias", np.full((self.nOutput,), bias, np.float32))
        if not self.affine:
            self.unregister("weight")
            self.unregister("bias")

    def updateOutput(self, input: Any) -> Any:
        n = self.nOutput
        if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != n:
            raise ModuleError(
                self._describe(), f"expected input (N, {n}) or ({n},), got {shape_str(input)}"
            )
        self.output = F.layer_norm(input, self.weight, self.bias, self.eps)
        return self.output

    def __repr__(self) -> str:
        return f"nn.LayerNormalization({self.nOutput})"
