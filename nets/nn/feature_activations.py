"""Activations that change the feature size (torch/nn doc/transfer.md, simple.md): CReLU
doubles it, GatedLinearUnit halves it, Maxout takes the maximum of learnt linear pieces."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import array_input, bool_arg, int_arg
from . import functional as F  # noqa: N812
from .module import Module


class CReLU(Module):
    """nn.CReLU(nInputDims, [inplace=False]): ``[relu(x), relu(-x)]`` joined along the feature
    dimension, which doubles: dim 0 of a sample of `nInputDims` dims, dim 1 of a batch of them
    (Torch7 flattens each sample and joins the halves, the same layout)."""

    def __init__(self, nInputDims: int, inplace: bool = False) -> None:
        super().__init__()
        self.nInputDims = int_arg(self, "nInputDims", "the dimensions of one sample", nInputDims)
        self.inplace = bool_arg(self, "inplace", "the in-place flag", inplace)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        n = self.nInputDims
        if x.ndim not in (n, n + 1):
            raise ModuleError(
                self._describe(),
                f"expected a sample of {n} dimensions or a batch of them ({n + 1}), "
                f"got {shape_str(x)}",
            )
        self.output = F.crelu(x, x.ndim - n)
        return self.output

    def __repr__(self) -> str:
        return "nn.CReLU()"


class GatedLinearUnit(Module):
    """nn.GatedLinearUnit([dim]): splits the input in two halves ``a, b`` along `dim` (0-based;
    the last dimension by default) and returns ``a * sigmoid(b)``; that dimension halves."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None:
            dim = int_arg(self, "dim", "the dimension halved, 0-based", dim, None)
        self.dim = dim

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input, 1)
        d = x.ndim - 1 if self.dim is None else self.dim
        if not -x.ndim <= d < x.ndim or x.shape[d] % 2:
            raise ModuleError(
                self._describe(),
                f"expected an even size in dim {d} of the input (the halving dimension), "
                f"got {shape_str(x)}",
            )
        self.output = F.gated_linear(x, d)
        return self.output


class Maxout(Module):
    """nn.Maxout(inputSize, outputSize, maxoutNumber): ``y_o = max_k (W x + b)[k * outputSize
    + o]``, the maximum of `maxoutNumber` linear pieces.

    Torch7 builds it as ``Sequential(Linear(inputSize, outputSize * maxoutNumber),
    View(maxoutNumber, outputSize), Max)``; here the Linear's ``weight`` and ``bias`` are the
    module's own (same shapes, same uniform start), so the printed form is one line. Torch7's
    fourth argument ``preprocess`` (a module between View and Max) is refused: write that
    Sequential out. Input ``(inputSize,)`` or ``(N, inputSize)``.
    """

    def __init__(
        self, inputSize: int, outputSize: int, maxoutNumber: int, preprocess: Any = None
    ) -> None:
        super().__init__()
        n_in = int_arg(self, "inputSize", "the size of each input sample", inputSize)
        self.outputSize = int_arg(self, "outputSize", "the size of each output", outputSize)
        self.maxoutNumber = int_arg(self, "maxoutNumber", "the linear pieces", maxoutNumber)
        if preprocess is not None:
            raise ModuleError(
                "nn.Maxout",
                "expected no preprocess module; write nn.Sequential(nn.Linear(inputSize, "
                "outputSize * maxoutNumber), nn.View(maxoutNumber, outputSize), preprocess, "
                "nn.Max(1, 2)) instead",
            )
        self.weight = np.zeros((self.outputSize * self.maxoutNumber, n_in), np.float32)
        self.bias = np.zeros((self.outputSize * self.maxoutNumber,), np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> Maxout:
        """Linear's reset: uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(inputSize)``."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.weight.shape[1])
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def updateOutput(self, input: Any) -> Any:
        n_in = self.weight.shape[1]
        if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != n_in:
            raise ModuleError(
                self._describe(),
                f"expected input (N, {n_in}) or ({n_in},), got {shape_str(input)}",
            )
        self.output = F.maxout(input, self.weight, self.bias, self.maxoutNumber)
        return self.output

    def __repr__(self) -> str:
        n_in = self.weight.shape[1]
        return f"nn.Maxout({n_in} -> {self.outputSize}, {self.maxoutNumber} pieces)"
