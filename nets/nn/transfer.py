"""Transfer functions (torch/nn doc/transfer.md): ReLU, LeakyReLU, ELU, Tanh, Sigmoid, SoftMax,
LogSoftMax, PReLU, RReLU, SoftPlus, SoftSign, SoftShrink, HardShrink, Threshold, HardTanh, ReLU6,
LogSigmoid, SoftMin, SpatialSoftMax, SpatialLogSoftMax, TanhShrink. Element-wise ones take any
shape; the SoftMax family works over the feature dim."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import ModuleError, shape_str
from .._shape import array_input, bool_arg, int_arg, number_arg
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


# ---- issue 19: the rest of Torch7's transfer functions


class PReLU(Module):
    """nn.PReLU([nOutputPlane=0]): ``x`` if positive, else ``a * x`` with a learnt slope ``a``.

    Args:
        nOutputPlane: 0 (default) for one slope shared by every element, else one slope per
            channel: dim 0 of a vector, dim 1 of any larger input (Torch7's THNN rule, so a
            3D input is read as (N, C, L)).

    The weight starts at 0.25. Output has the input's shape.
    """

    def __init__(self, nOutputPlane: int = 0) -> None:
        super().__init__()
        self.nOutputPlane = int_arg(
            self, "nOutputPlane", "the number of channels, 0 for one shared slope", nOutputPlane, 0
        )
        self.weight = np.full((max(self.nOutputPlane, 1),), 0.25, np.float32)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        n = self.nOutputPlane
        if n > 0:
            dim = 1 if x.ndim > 1 else 0
            if x.ndim == 0 or x.shape[dim] != n:
                raise ModuleError(
                    self._describe(),
                    f"expected {n} channels in dim {dim} of the input, got {shape_str(x)}",
                )
        self.output = F.prelu(x, self.weight, n == 0)
        return self.output


class RReLU(Module):
    """nn.RReLU([l=1/8], [u=1/3], [inplace=False]): randomized leaky ReLU.

    In training, ``x`` if positive, else ``r * x`` with ``r`` drawn uniformly in ``[l, u]`` for
    each element (from the `nets.manual_seed` stream; the gradient is ``r`` too); in
    evaluation ``r = (l + u) / 2``. Any input shape.
    """

    def __init__(self, l: float = 1 / 8, u: float = 1 / 3, inplace: bool = False) -> None:  # noqa: E741
        super().__init__()
        self.lower = number_arg(self, "l", "the lower bound of the slope", l, 0)
        self.upper = number_arg(self, "u", "the upper bound of the slope", u, self.lower)
        self.inplace = bool_arg(self, "inplace", "the in-place flag", inplace)

    def updateOutput(self, input: Any) -> Any:
        key = self.next_key() if self.train else None
        self.output = F.rrelu(array_input(self, input), self.lower, self.upper, key)
        return self.output

    def __repr__(self) -> str:
        return f"nn.RReLU (l:{self.lower:f}, u:{self.upper:f})"


class SoftPlus(Module):
    """nn.SoftPlus([beta=1]): ``log(1 + exp(beta * x)) / beta``, and ``x`` where
    ``beta * x > 20`` (Torch7's threshold against overflow)."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = number_arg(self, "beta", "the sharpness", beta, 0, low_open=True)
        self.threshold = 20.0

    def updateOutput(self, input: Any) -> Any:
        self.output = F.softplus(array_input(self, input), self.beta, self.threshold)
        return self.output


class SoftSign(Module):
    """nn.SoftSign(): ``x / (1 + |x|)``, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.softsign(array_input(self, input))
        return self.output


class SoftShrink(Module):
    """nn.SoftShrink([lambda=0.5]): ``x - lambda`` above ``lambda``, ``x + lambda`` below
    ``-lambda``, 0 between."""

    def __init__(self, lam: float = 0.5) -> None:
        super().__init__()
        setattr(self, "lambda", number_arg(self, "lambda", "the shrinkage threshold", lam, 0))

    def updateOutput(self, input: Any) -> Any:
        self.output = F.soft_shrink(array_input(self, input), self.__dict__["lambda"])
        return self.output


class HardShrink(Module):
    """nn.HardShrink([lambda=0.5]): ``x`` where ``|x| > lambda``, 0 elsewhere."""

    def __init__(self, lam: float = 0.5) -> None:
        super().__init__()
        setattr(self, "lambda", number_arg(self, "lambda", "the shrinkage threshold", lam, 0))

    def updateOutput(self, input: Any) -> Any:
        self.output = F.hard_shrink(array_input(self, input), self.__dict__["lambda"])
        return self.output


class Threshold(Module):
    """nn.Threshold([th=1e-6], [v=0], [inplace=False]): ``x`` where ``x > th``, else ``v``."""

    def __init__(self, th: float = 1e-6, v: float = 0.0, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = number_arg(self, "th", "the threshold", th)
        self.val = number_arg(self, "v", "the value below the threshold", v)
        self.inplace = bool_arg(self, "inplace", "the in-place flag", inplace)
        if self.inplace and self.val > self.threshold:
            raise ModuleError(
                "nn.Threshold",
                f"in-place processing requires value ({self.val:g}) not to exceed threshold "
                f"({self.threshold:g})",
            )

    def updateOutput(self, input: Any) -> Any:
        self.output = F.threshold(array_input(self, input), self.threshold, self.val)
        return self.output


class HardTanh(Module):
    """nn.HardTanh([min_value=-1], [max_value=1], [inplace=False]): ``x`` clipped to
    ``[min_value, max_value]``; the gradient is 0 outside the open interval."""

    def __init__(
        self, min_value: float = -1.0, max_value: float = 1.0, inplace: bool = False
    ) -> None:
        super().__init__()
        self.min_val = number_arg(self, "min_value", "the lower bound", min_value)
        self.max_val = number_arg(
            self, "max_value", "the upper bound", max_value, self.min_val, low_open=True
        )
        self.inplace = bool_arg(self, "inplace", "the in-place flag", inplace)

    def updateOutput(self, input: Any) -> Any:
        self.output = F.hardtanh(array_input(self, input), self.min_val, self.max_val)
        return self.output


class ReLU6(Module):
    """nn.ReLU6([inplace=False]): ``min(max(0, x), 6)``; gradient 0 at and beyond 0 and 6."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool_arg(self, "inplace", "the in-place flag", inplace)

    def updateOutput(self, input: Any) -> Any:
        self.output = F.hardtanh(array_input(self, input), 0.0, 6.0)
        return self.output


class LogSigmoid(Module):
    """nn.LogSigmoid(): ``log(1 / (1 + exp(-x)))``, computed stably."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.log_sigmoid(array_input(self, input))
        return self.output


class SoftMin(Module):
    """nn.SoftMin(): ``exp(-x_i) / sum_j exp(-x_j)`` over the features (dims as SoftMax)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.softmin(input, _feature_axis(self, input))
        return self.output


class SpatialSoftMax(Module):
    """nn.SpatialSoftMax(): SoftMax over the planes at each pixel of a (C, H, W) sample or an
    (N, C, H, W) batch (Torch7 runs the same THNN kernel as SoftMax, so vectors and (N, C)
    batches work too)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.softmax(input, _feature_axis(self, input))
        return self.output


class SpatialLogSoftMax(Module):
    """nn.SpatialLogSoftMax(): LogSoftMax over the planes at each pixel (see SpatialSoftMax)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.log_softmax(input, _feature_axis(self, input))
        return self.output


class TanhShrink(Module):
    """nn.TanhShrink(): ``x - tanh(x)``, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.tanh_shrink(array_input(self, input))
        return self.output
