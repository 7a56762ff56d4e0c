"""Simple layers (torch/nn doc/simple.md): Linear, Identity, View, Reshape, MulConstant, Dropout,
SpatialDropout, SpatialZeroPadding, LinearWeightNorm, PartialLinear. Each is a thin shell over
one `nets.nn.functional` call."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import check_output_size, int_arg, number_arg, spatial_batch, unbatch
from . import functional as F  # noqa: N812
from .module import Module, _type_name


def _sizes_arg(sizes: tuple, who: str) -> tuple[int, ...]:
    """Accept ``View(2, 3)`` as well as ``View((2, 3))``; every size an int."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
        raise ValueError(f"{who}: expected one or more integer sizes, got {sizes!r}")
    return tuple(int(s) for s in sizes)


class Linear(Module):
    """nn.Linear(inputSize, outputSize, [bias=True]): ``y = W x + b``.

    Args:
        inputSize: size of the last input dimension.
        outputSize: size of the output.
        bias: learn an additive bias (default True); without it ``bias`` is None.

    Input ``(N, inputSize)`` or ``(inputSize,)``; output ``(N, outputSize)`` or
    ``(outputSize,)``. Parameters ``weight (outputSize, inputSize)`` and ``bias (outputSize,)``
    start uniform in ``[-1/sqrt(inputSize), 1/sqrt(inputSize)]`` (Torch7's ``reset``).

    Example:
        >>> from nets import nn
        >>> nn.Linear(4, 3).forward(jnp.ones((2, 4))).shape
        (2, 3)
    """

    def __init__(self, inputSize: int, outputSize: int, bias: bool = True) -> None:
        super().__init__()
        inputSize = int_arg(self, "inputSize", "the size of each input sample", inputSize)
        outputSize = int_arg(self, "outputSize", "the size of each output sample", outputSize)
        self.register_parameter("weight", np.zeros((outputSize, inputSize), np.float32))
        self.register_parameter("bias", np.zeros((outputSize,), np.float32))
        self.reset()
        if not bias:
            self.unregister("bias")

    def noBias(self) -> Linear:
        """Remove the bias (Torch7); returns self."""
        self.unregister("bias")
        return self

    def reset(self, stdv: float | None = None) -> Linear:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(inputSize)``.

        A given ``stdv`` is multiplied by ``sqrt(3)``, as Torch7 does, so that it is the
        standard deviation of the draw.
        """
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.weight.shape[1])
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def updateOutput(self, input: Any) -> Any:
        n_in = self.weight.shape[1]
        if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != n_in:
            raise ModuleError(
                self._describe(),
                f"expected input of size {n_in} in the last dimension, (N, {n_in}) or "
                f"({n_in},), got {shape_str(input)}",
            )
        self.output = F.linear(input, self.weight, self.bias)
        return self.output

    def __repr__(self) -> str:
        out, n_in = self.weight.shape
        return f"nn.Linear({n_in} -> {out})" + (" without bias" if self.bias is None else "")


class Identity(Module):
    """nn.Identity(): passes its input (an array or a table) through unchanged."""

    def updateOutput(self, input: Any) -> Any:
        self.output = input
        return self.output


class View(Module):
    """nn.View(sizes...): reshapes each sample to ``sizes``, keeping the batch dimension.

    One size may be -1 (inferred). As in Torch7, an input holding a whole number of views is a
    batch of that many: ``View(400)`` maps ``(N, 16, 5, 5)`` to ``(N, 400)`` and ``(16, 5, 5)``
    to ``(400,)``. Unlike Torch7, a batch of one keeps its batch axis: when everything after the
    first dimension is exactly one view, the first dimension is the batch (``(1, 16, 5, 5)`` ->
    ``(1, 400)``). ``setNumInputDims(n)`` says outright how many dimensions one sample has.

    Example:
        >>> from nets import nn
        >>> nn.View(16 * 5 * 5).forward(jnp.ones((8, 16, 5, 5))).shape
        (8, 400)
    """

    def __init__(self, *sizes: int) -> None:
        super().__init__()
        self.size = _sizes_arg(sizes, "nn.View")
        if any(s < -1 or s == 0 for s in self.size) or self.size.count(-1) > 1:
            raise ValueError(f"nn.View: sizes must be positive, with at most one -1; got {sizes}")
        self.numElements = math.prod(s for s in self.size if s != -1)
        self.numInputDims = None

    def setNumInputDims(self, numInputDims: int) -> View:
        """Declare how many dimensions one sample has (makes a batch of one unambiguous)."""
        self.numInputDims = int(numInputDims)
        return self

    def _batch_size(self, shape: tuple[int, ...]) -> int | None:
        """Torch7 View.lua's ``batchsize``: None for a single sample."""
        nd = len(shape)
        if self.numInputDims is None and nd >= 2 and -1 not in self.size:
            if math.prod(shape[1:]) == self.numElements:
                return shape[0]  # (N, ...) with one view per row: a batch, even of one
        sample_dims = self.numInputDims if self.numInputDims is not None else nd
        sample_dims = min(sample_dims, nd)
        n = math.prod(shape[nd - sample_dims :])
        if n % self.numElements != 0:
            raise ModuleError(
                self._describe(),
                f"input view ({'x'.join(map(str, shape))}) and desired view "
                f"({'x'.join(map(str, self.size))}) do not match",
            )
        bsz = 1 if -1 in self.size else n // self.numElements
        bsz *= math.prod(shape[: nd - sample_dims])
        if bsz == 1 and (self.numInputDims is None or nd <= self.numInputDims):
            return None
        return bsz

    def updateOutput(self, input: Any) -> Any:
        bsz = self._batch_size(tuple(input.shape))
        shape = self.size if bsz is None else (bsz, *self.size)
        self.output = jnp.reshape(input, shape)
        return self.output

    def __repr__(self) -> str:
        return f"nn.View({'x'.join(map(str, self.size))})"


class Reshape(Module):
    """nn.Reshape(sizes..., [batchMode]): reshapes to ``sizes``, keeping a batch dimension.

    Without ``batchMode`` the input is a single sample when it has exactly ``prod(sizes)``
    elements and its first dimension is not 1, else a batch along dim 0 (Torch7's rule).
    ``batchMode=True``/``False`` forces either reading.
    """

    def __init__(self, *sizes: Any, batchMode: bool | None = None) -> None:
        super().__init__()
        if sizes and isinstance(sizes[-1], bool):
            batchMode, sizes = sizes[-1], sizes[:-1]
        self.size = _sizes_arg(sizes, "nn.Reshape")
        if any(s < 1 for s in self.size):
            raise ValueError(f"nn.Reshape: sizes must be positive, got {self.size}")
        self.nelement = math.prod(self.size)
        self.batchMode = batchMode

    def updateOutput(self, input: Any) -> Any:
        n = math.prod(input.shape)
        single = self.batchMode is False or (
            self.batchMode is None and n == self.nelement and input.shape[0] != 1
        )
        per_sample = n if single else n // max(input.shape[0], 1)
        if per_sample != self.nelement or (not single and input.ndim == 0):
            raise ModuleError(
                self._describe(),
                f"expected {self.nelement} elements per sample, got input of shape "
                f"{shape_str(input)}",
            )
        shape = self.size if single else (input.shape[0], *self.size)
        self.output = jnp.reshape(input, shape)
        return self.output

    def __repr__(self) -> str:
        return f"nn.Reshape({'x'.join(map(str, self.size))})"


class MulConstant(Module):
    """nn.MulConstant(constant_scalar, [inplace=False]): multiplies the input by a constant."""

    def __init__(self, constant_scalar: float, inplace: bool = False) -> None:
        super().__init__()
        number_arg(
            self, "constant_scalar", "the factor the input is multiplied by", constant_scalar
        )
        self.constant_scalar = constant_scalar
        self.inplace = inplace

    def updateOutput(self, input: Any) -> Any:
        self.output = input * self.constant_scalar
        return self.output


def _check_p(p: float, who: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{who}: illegal percentage, expected 0 <= p < 1, got {p!r}")
    return float(p)


class Dropout(Module):
    """nn.Dropout([p=0.5], [v1=False], [inplace=False], [stochasticInference=False]).

    In training, zeroes each element with probability ``p`` and scales the rest by
    ``1/(1-p)`` (Torch7's default "v2"), so evaluation is the identity. With ``v1=True``,
    training does not rescale and evaluation multiplies by ``1-p`` instead. Masks come from the
    `nets.manual_seed` stream (reproducible). Any input shape.
    """

    def __init__(
        self,
        p: float = 0.5,
        v1: bool = False,
        inplace: bool = False,
        stochasticInference: bool = False,
    ) -> None:
        super().__init__()
        self.p = _check_p(p, "nn.Dropout")
        self.v2 = not v1
        self.inplace = inplace
        self.stochastic_inference = stochasticInference

    def setp(self, p: float) -> Dropout:
        """Change the drop probability."""
        self.p = _check_p(p, "nn.Dropout")
        return self

    def updateOutput(self, input: Any) -> Any:
        if (self.train or self.stochastic_inference) and self.p > 0:
            out = F.dropout(input, self.p, self.next_key())
            if not self.v2:
                out = out * (1 - self.p)
        elif self.v2:
            out = input
        else:
            out = input * (1 - self.p)
        self.output = out
        return out

    def __repr__(self) -> str:
        return f"nn.Dropout({self.p:f})"


class SpatialDropout(Module):
    """nn.SpatialDropout([p=0.5], [stochasticInference=False]): drops whole feature maps.

    Torch7's semantics, which differ from Dropout's: in training each plane of a CHW sample or
    NCHW batch is zeroed with probability ``p`` and kept *unscaled*; in evaluation the input is
    multiplied by ``1-p``.
    """

    def __init__(self, p: float = 0.5, stochasticInference: bool = False) -> None:
        super().__init__()
        self.p = _check_p(p, "nn.SpatialDropout")
        self.stochastic_inference = stochasticInference

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        if self.train or self.stochastic_inference:
            y = F.spatial_dropout(x, self.p, self.next_key())
        else:
            y = x * (1 - self.p)
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return f"nn.SpatialDropout({self.p:f})"


class SpatialZeroPadding(Module):
    """nn.SpatialZeroPadding(pad_l, [pad_r=pad_l], [pad_t=pad_l], [pad_b=pad_l]).

    Pads each plane of a CHW sample or NCHW batch with zeros; a negative amount crops that side.
    Output ``(N, C, H + pad_t + pad_b, W + pad_l + pad_r)``.
    """

    def __init__(
        self,
        pad_l: int,
        pad_r: int | None = None,
        pad_t: int | None = None,
        pad_b: int | None = None,
    ) -> None:
        super().__init__()
        meaning = "zeros added on the {} (negative crops)"
        self.pad_l = int_arg(self, "pad_l", meaning.format("left"), pad_l, None)
        pad_r, pad_t, pad_b = (self.pad_l if v is None else v for v in (pad_r, pad_t, pad_b))
        self.pad_r = int_arg(self, "pad_r", meaning.format("right"), pad_r, None)
        self.pad_t = int_arg(self, "pad_t", meaning.format("top"), pad_t, None)
        self.pad_b = int_arg(self, "pad_b", meaning.format("bottom"), pad_b, None)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        h = x.shape[2] + self.pad_t + self.pad_b
        w = x.shape[3] + self.pad_l + self.pad_r
        check_output_size(self, x, x.shape[1], (h, w))
        y = F.zero_pad2d(x, self.pad_l, self.pad_r, self.pad_t, self.pad_b)
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return f"{_type_name(self)}(l={self.pad_l}, r={self.pad_r}, t={self.pad_t}, b={self.pad_b})"


# ---- more Torch7 linear layers (issue 19)


def _check_rows(module: Module, input: Any, size: int) -> None:
    if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != size:
        raise ModuleError(
            module._describe(),
            f"expected input of size {size} in the last dimension, (N, {size}) or ({size},), "
            f"got {shape_str(input)}",
        )


class LinearWeightNorm(Module):
    """nn.LinearWeightNorm(inputSize, outputSize, [bias=True], [eps=1e-16]): Linear with a
    weight-normalised weight, ``W = g * v / max(||v_row||, eps)`` (Salimans and Kingma, 2016).

    The parameters are Torch7's: the direction ``v`` (outputSize, inputSize), the lengths ``g``
    (outputSize, 1) and ``bias``, with ``gradV``, ``gradG``, ``gradBias``. They start as
    Linear's uniform weight (``v``) and its row norms (``g``). ``updateWeightMatrix()`` returns
    the weight ``W``; ``toLinear()`` and ``LinearWeightNorm.fromLinear(linear)`` convert.
    """

    def __init__(
        self, inputSize: int, outputSize: int, bias: bool = True, eps: float = 1e-16
    ) -> None:
        super().__init__()
        self.inputSize = int_arg(self, "inputSize", "the size of each input sample", inputSize)
        self.outputSize = int_arg(self, "outputSize", "the size of each output", outputSize)
        self.eps = number_arg(self, "eps", "the smallest row norm", eps, 0)
        self.register_parameter("v", np.zeros((self.outputSize, self.inputSize), np.float32))
        self.register_parameter("g", np.zeros((self.outputSize, 1), np.float32))
        self.register_parameter("bias", np.zeros((self.outputSize,), np.float32))
        self.reset()
        if not bias:
            self.unregister("bias")

    def reset(self, stdv: float | None = None) -> LinearWeightNorm:
        """``v`` uniform in ``[-stdv, stdv]`` (``1/sqrt(inputSize)`` by default), ``g`` its row
        norms, the bias uniform in the same range."""
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(self.inputSize)
        w = _random.uniform(-stdv, stdv, self.v.shape)
        if isinstance(w, jax.ShapeDtypeStruct):  # a checkpoint is rebuilding it: shapes only
            self.v, self.g = w, _random.uniform(0, 1, self.g.shape)
        else:
            self.initFromWeight(w)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def initFromWeight(self, weight: Any) -> LinearWeightNorm:
        """Set ``v`` to `weight` and ``g`` to its row norms (at least eps); returns self."""
        w = jnp.asarray(weight, jnp.float32)
        if w.shape != (self.outputSize, self.inputSize):
            raise ModuleError(
                self._describe(),
                f"expected a weight of shape ({self.outputSize}, {self.inputSize}), got "
                f"{shape_str(w)}",
            )
        self.g = jnp.maximum(jnp.linalg.norm(w, axis=1, keepdims=True), self.eps)
        self.v = w
        return self

    def updateWeightMatrix(self) -> Any:
        """The weight ``g * v / max(||v_row||, eps)``."""
        return F.linear_weight_norm(self.v, self.g, self.eps)

    @staticmethod
    def fromLinear(linear: Linear) -> LinearWeightNorm:
        """The LinearWeightNorm computing what `linear` computes."""
        out, n_in = linear.weight.shape
        module = LinearWeightNorm(n_in, out, linear.bias is not None)
        module.initFromWeight(linear.weight)
        if linear.bias is not None:
            module.bias = linear.bias
        return module

    def toLinear(self) -> Linear:
        """A Linear with this layer's current weight and bias."""
        module = Linear(self.inputSize, self.outputSize, self.bias is not None)
        module.weight = self.updateWeightMatrix()
        if self.bias is not None:
            module.bias = self.bias
        return module

    def updateOutput(self, input: Any) -> Any:
        _check_rows(self, input, self.inputSize)
        self.output = F.linear(input, self.updateWeightMatrix(), self.bias)
        return self.output

    def __repr__(self) -> str:
        tail = " without bias" if self.bias is None else ""
        return f"nn.LinearWeightNorm({self.inputSize} -> {self.outputSize}){tail}"


class PartialLinear(Module):
    """nn.PartialLinear(inputsize, outputsize, [bias=True]): a Linear whose output can be
    restricted to some of its columns: after ``setPartition(indices)`` (0-based output
    indices) it computes only those outputs, ``x @ weight[indices].T + bias[0, indices]``;
    ``resetPartition()`` restores all of them.

    ``weight`` (outputsize, inputsize) starts N(0, 1) (Torch7 keeps it in a LookupTable) and
    ``bias`` (1, outputsize) at zero. The partition is part of the layer's structure: changing
    it recompiles the networks that hold it.
    """

    def __init__(self, inputsize: int, outputsize: int, bias: bool = True) -> None:
        super().__init__()
        self.inputsize = int_arg(self, "inputsize", "the size of each input sample", inputsize)
        self.outputsize = int_arg(self, "outputsize", "the size of the full output", outputsize)
        self.register_parameter("weight", _random.normal(0, 1, (self.outputsize, self.inputsize)))
        self.register_parameter("bias", np.zeros((1, self.outputsize), np.float32))
        if not bias:
            self.unregister("bias")
        self.resetPartition()

    def setPartition(self, indices: Any) -> PartialLinear:
        """Compute only the outputs `indices` (0-based); returns self."""
        idx = np.asarray(indices).ravel()
        if (
            idx.size == 0
            or not np.issubdtype(idx.dtype, np.integer)
            or idx.min() < 0
            or idx.max() >= self.outputsize
        ):
            raise ModuleError(
                self._describe(),
                f"expected a non-empty list of output indices in [0, {self.outputsize}), "
                f"got {np.asarray(indices).tolist()!r}",
            )
        self.partition = tuple(int(i) for i in idx)
        return self

    def resetPartition(self) -> PartialLinear:
        """Compute every output again; returns self."""
        self.partition = tuple(range(self.outputsize))
        return self

    def updateOutput(self, input: Any) -> Any:
        _check_rows(self, input, self.inputsize)
        columns = np.asarray(self.partition, np.int32)
        self.output = F.partial_linear(input, self.weight, self.bias, columns)
        return self.output

    def __repr__(self) -> str:
        tail = " without bias" if self.bias is None else ""
        return f"nn.PartialLinear({self.inputsize} -> {self.outputsize}){tail}"
