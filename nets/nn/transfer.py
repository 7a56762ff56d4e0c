"""Transfer functions (torch/nn doc/transfer.md): ReLU, LeakyReLU, ELU, Tanh, Sigmoid, SoftMax,
LogSoftMax. Element-wise ones take any shape; SoftMax/LogSoftMax work over the feature dim."""

from __future__ import annotations

from typing import Any

from .._errors import ModuleError, shape_str
from .._shape import number_arg
from . import functional as F  # noqa: N812
from .module import Module


class ReLU(Module):
    """nn.ReLU([inplace=False]): ``max(0, x)``, with gradient 0 at 0 as Torch7."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def updateOutput(self, input: Any) -> Any:
        self.output = F.relu(input)
        return self.output


class LeakyReLU(Module):
    """nn.LeakyReLU([negval=0.01], [inplace=False]): ``x`` if positive, else ``negval * x``."""

    def __init__(self, negval: float = 1 / 100, inplace: bool = False) -> None:
        super().__init__()
        self.negval = number_arg(self, "negval", "the slope for negative inputs", negval)
        self.inplace = inplace

    def updateOutput(self, input: Any) -> Any:
        self.output = F.leaky_relu(input, self.negval)
        return self.output

    def __repr__(self) -> str:
        return f"nn.LeakyReLU({self.negval:g})"


class ELU(Module):
    """nn.ELU([alpha=1], [inplace=False]): ``x`` if positive, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = number_arg(self, "alpha", "the scale of the negative part", alpha)
        self.inplace = inplace

    def updateOutput(self, input: Any) -> Any:
        self.output = F.elu(input, self.alpha)
        return self.output

    def __repr__(self) -> str:
        return f"nn.ELU (alpha:{self.alpha:f})"


class Tanh(Module):
    """nn.Tanh(): hyperbolic tangent, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.tanh(input)
        return self.output


class Sigmoid(Module):
    """nn.Sigmoid(): ``1 / (1 + exp(-x))``, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.sigmoid(input)
        return self.output


def _feature_axis(module: Module, input: Any) -> int:
    """Torch7's rule: dim 0 of a vector or CHW sample, dim 1 of an (N, C) or NCHW batch."""
    ndim = getattr(input, "ndim", None)
    if ndim not in (1, 2, 3, 4):
        raise ModuleError(
            module._describe(),
            f"expected a 1D (C,), 2D (N, C), 3D (C, H, W) or 4D (N, C, H, W) input, "
            f"got {shape_str(input)}",
        )
    return 0 if ndim in (1, 3) else 1


class SoftMax(Module):
    """nn.SoftMax(): ``exp(x_i) / sum_j exp(x_j)`` over the features.

    The features are dim 0 of a ``(C,)`` or ``(C, H, W)`` sample and dim 1 of an ``(N, C)`` or
    ``(N, C, H, W)`` batch (per pixel for spatial input), as Torch7.
    """

    def updateOutput(self, input: Any) -> Any:
        self.output = F.softmax(input, _feature_axis(self, input))
        return self.output


class LogSoftMax(Module):
    """nn.LogSoftMax(): ``log(SoftMax(x))``, computed stably, over the features (see SoftMax)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.log_softmax(input, _feature_axis(self, input))
        return self.output
