"""Layers that are random in training (torch/nn doc/simple.md, convolution.md): WhiteNoise
and VolumetricDropout (Dropout and SpatialDropout are in `nets.nn.simple`). Their draws come
from the `nets.manual_seed` stream, so they are reproducible."""

from __future__ import annotations

from typing import Any

from .._errors import ModuleError
from .._shape import array_input, number_arg, unbatch, volumetric_batch
from . import functional as F  # noqa: N812
from .module import Module


class WhiteNoise(Module):
    """nn.WhiteNoise([mean=0], [std=0.1]): in training, ``x + n`` with ``n ~ N(mean, std^2)``
    drawn for every element; in evaluation, ``x + mean``. The gradient passes unchanged. Any
    input shape."""

    def __init__(self, mean: float = 0.0, std: float = 0.1) -> None:
        super().__init__()
        self.mean = number_arg(self, "mean", "the noise's mean", mean)
        self.std = number_arg(self, "std", "the noise's standard deviation", std, 0)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        if self.train:
            self.output = F.white_noise(x, self.mean, self.std, self.next_key())
        else:
            self.output = x + self.mean
        return self.output

    def __repr__(self) -> str:
        return f"nn.WhiteNoise mean: {self.mean:f}, std: {self.std:f}"


class VolumetricDropout(Module):
    """nn.VolumetricDropout([p=0.5], [stochasticInference=False]): SpatialDropout for volumes.

    In training each (T, H, W) volume of a CTHW sample or NCTHW batch is zeroed with
    probability ``p`` and kept unscaled; in evaluation the input is multiplied by ``1 - p``
    (Torch7's semantics, as SpatialDropout's).
    """

    def __init__(self, p: float = 0.5, stochasticInference: bool = False) -> None:
        super().__init__()
        self.setp(p)
        self.stochastic_inference = bool(stochasticInference)

    def setp(self, p: float) -> VolumetricDropout:
        """Change the drop probability (``0 <= p < 1``)."""
        self.p = number_arg(self, "p", "the drop probability", p, 0)
        if self.p >= 1:
            raise ModuleError("nn.VolumetricDropout", f"expected p < 1, got {p!r}")
        return self

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        if self.train or self.stochastic_inference:
            y = F.spatial_dropout(x, self.p, self.next_key())
        else:
            y = x * (1 - self.p)
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return f"nn.VolumetricDropout({self.p:f})"
