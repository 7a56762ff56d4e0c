"""Layers built on products and norms (torch/nn doc/simple.md and table.md): MM, Bilinear,
Euclidean, Cosine, Normalize, and the WeightNorm decorator."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import int_arg, number_arg
from . import functional as F  # noqa: N812
from .module import Module, _type_name


def _uniform(shape: tuple, stdv: float) -> Any:
    return _random.uniform(-stdv, stdv, shape)


class MM(Module):
    """nn.MM([transA=False], [transB=False]): ``{A, B}`` -> ``A @ B``.

    Two matrices, or two batches (N, ., .) of them; `transA`/`transB` transpose one first.
    """

    def __init__(self, transA: bool = False, transB: bool = False) -> None:
        super().__init__()
        self.transA = bool(transA)
        self.transB = bool(transB)

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ModuleError(
                self._describe(), f"expected a table of two arrays, got {shape_str(input)}"
            )
        a, b = input
        nd = getattr(a, "ndim", None)
        ok = nd in (2, 3) and getattr(b, "ndim", None) == nd
        if ok:
            inner_a = a.shape[-2] if self.transA else a.shape[-1]
            inner_b = b.shape[-1] if self.transB else b.shape[-2]
            ok = inner_a == inner_b and (nd == 2 or a.shape[0] == b.shape[0])
        if not ok:
            raise ModuleError(
                self._describe(),
                f"expected two matrices or two (N, ., .) batches whose sizes match for a "
                f"product (transA={self.transA}, transB={self.transB}), got {shape_str(input)}",
            )
        self.output = F.mm(a, b, self.transA, self.transB)
        return self.output


class Bilinear(Module):
    """nn.Bilinear(inputSize1, inputSize2, outputSize, [bias=True]): ``{x1, x2}`` ->
    ``y_k = x1^T W_k x2 + b_k``.

    Input: two arrays (N, inputSize1) and (N, inputSize2) (or two vectors); output
    (N, outputSize) (or (outputSize,)). ``weight`` is (outputSize, inputSize1, inputSize2);
    weight and bias start uniform in ``[-1/sqrt(inputSize1), 1/sqrt(inputSize1)]``.
    """

    def __init__(
        self, inputSize1: int, inputSize2: int, outputSize: int, bias: bool = True
    ) -> None:
        super().__init__()
        n1 = int_arg(self, "inputSize1", "the size of the first input", inputSize1)
        n2 = int_arg(self, "inputSize2", "the size of the second input", inputSize2)
        k = int_arg(self, "outputSize", "the size of the output", outputSize)
        self.weight = np.zeros((k, n1, n2), np.float32)
        self.bias = np.zeros((k,), np.float32)
        self.reset()
        if not bias:
            self.unregister("bias")

    def reset(self, stdv: float | None = None) -> Bilinear:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(inputSize1)``; a given one
        is scaled by ``sqrt(3)``."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.weight.shape[1])
        self.weight = _uniform(self.weight.shape, stdv)
        if self.bias is not None:
            self.bias = _uniform(self.bias.shape, stdv)
        return self

    def updateOutput(self, input: Any) -> Any:
        k, n1, n2 = self.weight.shape
        ok = isinstance(input, (list, tuple)) and len(input) == 2
        if ok:
            a, b = input
            nd = getattr(a, "ndim", None)
            ok = nd in (1, 2) and getattr(b, "ndim", None) == nd
            ok = ok and a.shape[-1] == n1 and b.shape[-1] == n2 and a.shape[:-1] == b.shape[:-1]
        if not ok:
            raise ModuleError(
                self._describe(),
                f"expected a table of two arrays (N, {n1}) and (N, {n2}), or two vectors "
                f"({n1},) and ({n2},), got {shape_str(input)}",
            )
        single = a.ndim == 1
        y = F.bilinear(a.reshape(-1, n1), b.reshape(-1, n2), self.weight, self.bias)
        self.output = y[0] if single else y
        return self.output

    def __repr__(self) -> str:
        k, n1, n2 = self.weight.shape
        return f"nn.Bilinear({n1}x{n2} -> {k})" + (" without bias" if self.bias is None else "")


def _vector_or_rows(module: Module, input: Any, size: int) -> None:
    if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != size:
        raise ModuleError(
            module._describe(),
            f"expected input of size {size} in the last dimension, (N, {size}) or ({size},), "
            f"got {shape_str(input)}",
        )


class Euclidean(Module):
    """nn.Euclidean(inputSize, outputSize): ``y_j = ||w_j - x||``, the distances from the input
    to `outputSize` learnt centres ``w_j`` (the columns of the (inputSize, outputSize) weight,
    uniform in ``[-1/sqrt(inputSize), 1/sqrt(inputSize)]``). Input (N, inputSize) or
    (inputSize,)."""

    def __init__(self, inputSize: int, outputSize: int) -> None:
        super().__init__()
        n = int_arg(self, "inputSize", "the size of each input sample", inputSize)
        k = int_arg(self, "outputSize", "the number of centres", outputSize)
        self.weight = np.zeros((n, k), np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> Euclidean:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(inputSize)``."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.weight.shape[0])
        self.weight = _uniform(self.weight.shape, stdv)
        return self

    def updateOutput(self, input: Any) -> Any:
        _vector_or_rows(self, input, self.weight.shape[0])
        self.output = F.euclidean(input, self.weight)
        return self.output


class Cosine(Module):
    """nn.Cosine(inputSize, outputSize): ``y_j = w_j . x / (||w_j|| ||x||)``, the cosine
    similarity to `outputSize` learnt vectors (the rows of the (outputSize, inputSize)
    weight). Input (N, inputSize) or (inputSize,).

    The weight starts uniform in ``[-1/sqrt(outputSize), 1/sqrt(outputSize)]``, as Torch7's
    ``reset`` (which reads the weight's first size) does.
    """

    def __init__(self, inputSize: int, outputSize: int) -> None:
        super().__init__()
        n = int_arg(self, "inputSize", "the size of each input sample", inputSize)
        k = int_arg(self, "outputSize", "the number of learnt vectors", outputSize)
        self.weight = np.zeros((k, n), np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> Cosine:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(outputSize)``."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.weight.shape[0])
        self.weight = _uniform(self.weight.shape, stdv)
        return self

    def updateOutput(self, input: Any) -> Any:
        _vector_or_rows(self, input, self.weight.shape[1])
        self.output = F.cosine(input, self.weight)
        return self.output


class Normalize(Module):
    """nn.Normalize(p, [eps=1e-10]): each row of an (N, D) input (or the vector) divided by its
    p-norm ``(sum |x|^p + eps)^(1/p)``; ``p = math.inf`` uses ``max |x| + eps``."""

    def __init__(self, p: float, eps: float = 1e-10) -> None:
        super().__init__()
        if p != math.inf:
            p = number_arg(self, "p", "the norm's order", p, 0, low_open=True)
        self.p = float(p)
        self.eps = number_arg(self, "eps", "added to the norm", eps, 0)

    def updateOutput(self, input: Any) -> Any:
        if getattr(input, "ndim", None) not in (1, 2):
            raise ModuleError(
                self._describe(), f"expected a (D,) or (N, D) input, got {shape_str(input)}"
            )
        self.output = F.normalize(input, self.p, self.eps)
        return self.output

    def __repr__(self) -> str:
        p = int(self.p) if self.p.is_integer() else f"{self.p:f}"
        return f"nn.Normalize({p})"


class WeightNorm(Module):
    """nn.WeightNorm(module, [outputDim=0]): reparametrises `module`'s weight as
    ``w = g * v / ||v||`` (Salimans and Kingma, 2016), with the norm over all dims but
    `outputDim` (0-based).

    The learnt parameters become ``v`` (outputs x the rest) and ``g`` (one per output), plus
    the module's bias; its ``weight`` turns into a buffer recomputed from them at every pass
    (so it always holds the weight last used). ``v`` starts normal with std
    ``sqrt(2 / fan-in)`` and ``g`` at ``||v||``, and the bias at 0, as in Torch7.
    """

    def __init__(self, module: Module, outputDim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module) or getattr(module, "weight", None) is None:
            raise ModuleError(
                "nn.WeightNorm", f"expected a module with a weight, got {module!r:.60}"
            )
        shape = tuple(module.weight.shape)
        self.outputDim = int_arg(self, "outputDim", "the weight's output dim", outputDim, 0)
        if self.outputDim >= len(shape):
            raise ModuleError(
                "nn.WeightNorm",
                f"expected outputDim below the weight's {len(shape)} dims, got {outputDim}",
            )
        self.modules = [module]
        self.weightSize = shape
        rows = shape[self.outputDim]
        rest = math.prod(shape) // rows
        v = _random.normal(0.0, math.sqrt(2 / rest), (rows, rest))
        shape_only = _random.is_shape_only()
        g = np.zeros((rows,), np.float32) if shape_only else np.linalg.norm(np.asarray(v), axis=1)
        self.register_parameter("v", v)
        self.register_parameter("g", g)
        arrays = module.own_arrays()
        if "bias" in arrays and not shape_only:  # (a checkpoint's load writes its own)
            module.bias = np.zeros(tuple(module.bias.shape), np.float32)
        if arrays["weight"][0] != "buffer":
            module.unregister("weight")
            module.register_buffer("weight", np.zeros(shape, np.float32))
        if "gradWeight" in module.own_arrays():  # left by a checkpoint's rebuilt module
            module.unregister("gradWeight")
        if not shape_only:
            module.weight = F.weight_norm(self.v, self.g, self.outputDim, shape)

    @property
    def module(self) -> Module:
        """The decorated module."""
        return self.modules[0]

    def updateOutput(self, input: Any) -> Any:
        inner = self.modules[0]
        inner.weight = F.weight_norm(self.v, self.g, self.outputDim, self.weightSize)
        try:
            self.output = inner._run(input)
        except ModuleError as e:
            raise e.within(0).with_traceback(None) from e.__cause__
        return self.output

    def __repr__(self) -> str:
        return f"{_type_name(self)} @ {self.modules[0]!r}"


class WeightedEuclidean(Module):
    """nn.WeightedEuclidean(inputSize, outputSize): ``y_j = || c_j * (x - w_j) ||``, Euclidean
    with a learnt diagonal covariance per centre.

    ``weight`` (the centres ``w_j`` as columns) and ``diagCov`` (the ``c_j``) are both
    (inputSize, outputSize) parameters; the weight starts uniform in
    ``[-1/sqrt(inputSize), 1/sqrt(inputSize)]``, diagCov at 1. Input (N, inputSize) or
    (inputSize,).
    """

    def __init__(self, inputSize: int, outputSize: int) -> None:
        super().__init__()
        n = int_arg(self, "inputSize", "the size of each input sample", inputSize)
        k = int_arg(self, "outputSize", "the number of centres", outputSize)
        self.weight = np.zeros((n, k), np.float32)
        self.register_parameter("diagCov", np.ones((n, k), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> WeightedEuclidean:
        """The weight uniform in ``[-stdv, stdv]`` (``1/sqrt(inputSize)`` by default); diagCov
        back to 1."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.weight.shape[0])
        self.weight = _uniform(self.weight.shape, stdv)
        self.diagCov = np.ones(self.weight.shape, np.float32)
        return self

    def updateOutput(self, input: Any) -> Any:
        _vector_or_rows(self, input, self.weight.shape[0])
        self.output = F.weighted_euclidean(input, self.weight, self.diagCov)
        return self.output


class MV(Module):
    """nn.MV([trans=False]): ``{M, v}`` -> ``M v`` (``M^T v`` with `trans`): an (R, C) matrix
    and a (C,) vector, or an (N, R, C) batch and an (N, C) batch of vectors."""

    def __init__(self, trans: bool = False) -> None:
        super().__init__()
        if not isinstance(trans, (bool, np.bool_)):
            raise ModuleError(
                "nn.MV",
                f"expected trans (transpose the matrix before the product) to be a bool, "
                f"got {trans!r}",
            )
        self.trans = bool(trans)

    def updateOutput(self, input: Any) -> Any:
        ok = isinstance(input, (list, tuple)) and len(input) == 2
        if ok:
            m, v = input
            nd = getattr(m, "ndim", None)
            ok = nd in (2, 3) and getattr(v, "ndim", None) == nd - 1
            if ok:
                inner = m.shape[-2] if self.trans else m.shape[-1]
                ok = inner == v.shape[-1] and (nd == 2 or m.shape[0] == v.shape[0])
        if not ok:
            raise ModuleError(
                self._describe(),
                "expected {M, v}: an (R, C) matrix and a (C,) vector, or an (N, R, C) batch and "
                f"an (N, C) batch (C and R swapped with trans={self.trans}), got "
                f"{shape_str(input)}",
            )
        self.output = F.mv(m, v, self.trans)
        return self.output
