"""Layers over the dimensions of one array (torch/nn doc/simple.md): reductions (Max, Min, Sum,
Mean), slices (Narrow, Select, Index), re-arrangements (Transpose, Squeeze, Unsqueeze,
Replicate, Padding) and copies (Copy, Contiguous).

Dimensions and indices are 0-based; a negative dimension or index counts from the end, as in
Python. Where Torch7 takes ``nInputDims``, an input with one more dimension is a batch and the
dimension is shifted by one.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from .._errors import ModuleError, shape_str
from .._shape import array_input, int_arg
from . import functional as F  # noqa: N812
from .module import Module


def _optional_int(module: Module, name: str, meaning: str, value: Any, minimum: int | None):
    return None if value is None else int_arg(module, name, meaning, value, minimum)


def _axis(module: Module, input: Any, dim: int, n_input_dims: int | None = None) -> int:
    """`dim` as a non-negative axis of `input`, shifted past a batch dim (Torch7's rule)."""
    x = array_input(module, input, 1)
    if dim >= 0 and n_input_dims is not None and x.ndim == n_input_dims + 1:
        dim += 1
    if not -x.ndim <= dim < x.ndim:
        raise ModuleError(
            module._describe(), f"expected an input with a dimension {dim}, got {shape_str(x)}"
        )
    return dim % x.ndim


class _Reduction(Module):
    """Max/Min/Sum/Mean: the reduction over one dimension; a vector gives a (1,) output."""

    def __init__(self, dimension: int = 0, nInputDims: int | None = None) -> None:
        super().__init__()
        self.dimension = int_arg(
            self, "dimension", "the dimension reduced, 0-based", dimension, None
        )
        self.nInputDims = _optional_int(
            self, "nInputDims", "the dimensions of one sample", nInputDims, 1
        )

    def _reduce(self, x: Any, axis: int) -> Any:
        raise NotImplementedError

    def updateOutput(self, input: Any) -> Any:
        axis = _axis(self, input, self.dimension, self.nInputDims)
        out = self._reduce(input, axis)
        self.output = jnp.reshape(out, (1,)) if input.ndim == 1 else out
        return self.output


class Max(_Reduction):
    """nn.Max([dimension=0], [nInputDims]): the maximum over `dimension`.

    The dimension is removed (a vector gives a ``(1,)`` output, as in Torch7); the gradient
    goes to the first maximal element.
    """

    def _reduce(self, x: Any, axis: int) -> Any:
        return F.max_along(x, axis)


class Min(_Reduction):
    """nn.Min([dimension=0], [nInputDims]): the minimum over `dimension` (see Max)."""

    def _reduce(self, x: Any, axis: int) -> Any:
        return F.min_along(x, axis)


class Sum(_Reduction):
    """nn.Sum([dimension=0], [nInputDims], [sizeAverage=False], [squeeze=True]): the sum over
    `dimension` (divided by its size with `sizeAverage`); the dimension is removed unless
    ``squeeze=False`` (a vector always gives a ``(1,)`` output, as in Torch7)."""

    def __init__(
        self,
        dimension: int = 0,
        nInputDims: int | None = None,
        sizeAverage: bool = False,
        squeeze: bool = True,
    ) -> None:
        super().__init__(dimension, nInputDims)
        self.sizeAverage = bool(sizeAverage)
        self.squeeze = bool(squeeze)

    def _reduce(self, x: Any, axis: int) -> Any:
        out = jnp.sum(x, axis=axis, keepdims=not self.squeeze)
        return out / x.shape[axis] if self.sizeAverage else out


class Mean(Sum):
    """nn.Mean([dimension=0], [nInputDims]): the mean over `dimension` (Sum with sizeAverage)."""

    def __init__(self, dimension: int = 0, nInputDims: int | None = None) -> None:
        super().__init__(dimension, nInputDims, True)


class Narrow(Module):
    """nn.Narrow(dimension, offset, [length=1]): the slice ``offset .. offset + length - 1``
    along `dimension`.

    A negative `length` counts from the end: -1 keeps everything from `offset` on, -2 all but
    the last, and so on (Torch7's rule); a negative `offset` counts from the end, as in Python.
    """

    def __init__(self, dimension: int, offset: int, length: int = 1) -> None:
        super().__init__()
        self.dimension = int_arg(
            self, "dimension", "the dimension narrowed, 0-based", dimension, None
        )
        self.index = int_arg(self, "offset", "the first index kept, 0-based", offset, None)
        self.length = int_arg(self, "length", "how many indices to keep", length, None)
        if self.length == 0:
            raise ModuleError("nn.Narrow", "expected length to be non-zero, got 0")

    def updateOutput(self, input: Any) -> Any:
        axis = _axis(self, input, self.dimension)
        size = input.shape[axis]
        start = self.index + size if self.index < 0 else self.index
        length = size - start + self.length + 1 if self.length < 0 else self.length
        if not (0 <= start and length >= 1 and start + length <= size):
            raise ModuleError(
                self._describe(),
                f"expected offset {self.index} and length {self.length} to fit in dimension "
                f"{axis} of size {size} (input {shape_str(input)})",
            )
        self.output = lax.slice_in_dim(input, start, start + length, axis=axis)
        return self.output


class Select(Module):
    """nn.Select(dimension, index): the slice at `index` of `dimension`, which is removed."""

    def __init__(self, dimension: int, index: int) -> None:
        super().__init__()
        self.dimension = int_arg(self, "dimension", "the dimension selected in", dimension, None)
        self.index = int_arg(self, "index", "the index selected, 0-based", index, None)

    def updateOutput(self, input: Any) -> Any:
        axis = _axis(self, input, self.dimension)
        size = input.shape[axis]
        if not -size <= self.index < size:
            raise ModuleError(
                self._describe(),
                f"expected index {self.index} within dimension {axis} of size {size} "
                f"(input {shape_str(input)})",
            )
        self.output = jnp.take(input, self.index % size, axis=axis)
        return self.output


class Index(Module):
    """nn.Index(dimension): ``{t, index}`` -> the entries of `t` at the 0-based integer vector
    `index` along `dimension` (``t:index(dimension, index)``); no gradient for the index."""

    def __init__(self, dimension: int) -> None:
        super().__init__()
        self.dimension = int_arg(self, "dimension", "the dimension indexed", dimension, None)

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ModuleError(
                self._describe(),
                f"expected a table {{tensor, index}} of 2 arrays, got {shape_str(input)}",
            )
        t, index = input
        axis = _axis(self, t, self.dimension)
        dtype = getattr(index, "dtype", None)
        if dtype is None or index.ndim != 1 or not jnp.issubdtype(dtype, jnp.integer):
            raise ModuleError(
                self._describe(),
                f"expected the index (element 1) to be a 1-D integer array, got "
                f"{shape_str(index)} of {dtype}",
            )
        self.output = jnp.take(t, index, axis=axis)
        return self.output


class Transpose(Module):
    """nn.Transpose({dim1, dim2}, ...): swaps each pair of dimensions in turn.

    Pairs are 0-based: ``nn.Transpose((0, 1), (2, 3))``. After ``setNumInputDims(n)`` the
    dims count within the last n (the sample's), so batches work too.
    """

    def __init__(self, *permutations: tuple[int, int]) -> None:
        super().__init__()
        pairs = []
        for p in permutations:
            if not (isinstance(p, (tuple, list)) and len(p) == 2):
                raise ModuleError(
                    "nn.Transpose", f"expected pairs of dimensions such as (0, 1), got {p!r}"
                )
            pairs.append(tuple(int_arg(self, "dim", "a dimension swapped", d, None) for d in p))
        self.permutations = tuple(pairs)
        self.numInputDims = None

    def setNumInputDims(self, numInputDims: int) -> Transpose:
        """Count the dims within the last `numInputDims` of the input (the sample's)."""
        self.numInputDims = int_arg(self, "numInputDims", "the sample's dims", numInputDims)
        return self

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        offset = x.ndim - self.numInputDims if self.numInputDims is not None else 0
        for a, b in self.permutations:
            a, b = a + offset, b + offset
            if not (0 <= a < x.ndim and 0 <= b < x.ndim):
                raise ModuleError(
                    self._describe(),
                    f"cannot swap dims {a} and {b} of an input of shape {shape_str(x)}",
                )
            x = jnp.swapaxes(x, a, b)
        self.output = x
        return x


class Squeeze(Module):
    """nn.Squeeze([dim], [numInputDims]): removes dimension `dim` if its size is 1, or every
    dimension of size 1. With `numInputDims`, a batch of one keeps its batch dimension."""

    def __init__(self, dim: int | None = None, numInputDims: int | None = None) -> None:
        super().__init__()
        self.dim = _optional_int(self, "dim", "the dimension squeezed, 0-based", dim, None)
        self.numInputDims = _optional_int(
            self, "numInputDims", "the dimensions of one sample", numInputDims, 1
        )

    def setNumInputDims(self, numInputDims: int) -> Squeeze:
        """Declare how many dimensions one sample has."""
        self.numInputDims = int_arg(self, "numInputDims", "the sample's dims", numInputDims)
        return self

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        batch = self.numInputDims is not None and x.ndim == self.numInputDims + 1
        if self.dim is not None:
            axis = _axis(self, x, self.dim, self.numInputDims)
            self.output = jnp.squeeze(x, axis) if x.shape[axis] == 1 else x
        else:
            keep = 0 if batch and x.shape[0] == 1 else None
            axes = tuple(i for i, s in enumerate(x.shape) if s == 1 and i != keep)
            self.output = jnp.squeeze(x, axes)
        return self.output


class Unsqueeze(Module):
    """nn.Unsqueeze(pos, [numInputDims]): inserts a dimension of size 1 at position `pos`
    (0-based, ``0 .. ndim``); with `numInputDims`, `pos` counts within the sample's dims."""

    def __init__(self, pos: int, numInputDims: int | None = None) -> None:
        super().__init__()
        self.pos = int_arg(self, "pos", "where the new dimension goes, 0-based", pos, 0)
        self.numInputDims = _optional_int(
            self, "numInputDims", "the dimensions of one sample", numInputDims, 0
        )

    def setNumInputDims(self, numInputDims: int) -> Unsqueeze:
        """Declare how many dimensions one sample has."""
        self.numInputDims = int_arg(self, "numInputDims", "the sample's dims", numInputDims, 0)
        return self

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        sample = x.ndim if self.numInputDims is None else self.numInputDims
        pos = self.pos + x.ndim - sample
        if x.ndim < sample or pos > x.ndim:
            raise ModuleError(
                self._describe(),
                f"invalid position {self.pos} for an input of shape {shape_str(x)} "
                f"(numInputDims {self.numInputDims})",
            )
        self.output = jnp.expand_dims(x, pos)
        return self.output

    def __repr__(self) -> str:
        return f"nn.Unsqueeze(dim {self.pos})"


class Replicate(Module):
    """nn.Replicate(nFeature, [dim=0], [ndim]): repeats the input `nFeature` times along a new
    dimension inserted at `dim`; with `ndim` (a sample's dims), a batch gets it at ``dim + 1``."""

    def __init__(self, nFeature: int, dim: int = 0, ndim: int | None = None) -> None:
        super().__init__()
        self.nfeatures = int_arg(self, "nFeature", "the number of copies", nFeature)
        self.dim = int_arg(self, "dim", "where the new dimension goes, 0-based", dim, 0)
        self.ndim = _optional_int(self, "ndim", "the dimensions of one sample", ndim, 0)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        rdim = self.dim + (1 if self.ndim is not None and x.ndim > self.ndim else 0)
        if rdim > x.ndim:
            raise ModuleError(
                self._describe(),
                f"not enough input dimensions to replicate along dimension {rdim}: "
                f"got {shape_str(x)}",
            )
        y = jnp.expand_dims(x, rdim)
        self.output = jnp.repeat(y, self.nfeatures, axis=rdim)
        return self.output


class Padding(Module):
    """nn.Padding(dim, pad, [nInputDim], [value=0], [index=0]): adds ``|pad|`` entries of
    `value` along `dim`: after the end for ``pad > 0``, before the start for ``pad < 0``.

    `index` (0-based) moves the padding inward: it goes after the first `index` entries
    (``pad < 0``) or before the last `index` entries (``pad > 0``). With `nInputDim`, an input
    of another number of dims is a batch and `dim` is shifted by one.
    """

    def __init__(
        self,
        dim: int,
        pad: int,
        nInputDim: int | None = None,
        value: float = 0.0,
        index: int = 0,
    ) -> None:
        super().__init__()
        self.dim = int_arg(self, "dim", "the dimension padded, 0-based", dim, None)
        self.pad = int_arg(self, "pad", "how many entries, the sign says where", pad, None)
        self.nInputDim = _optional_int(
            self, "nInputDim", "the dimensions of one sample", nInputDim, 1
        )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModuleError(
                "nn.Padding", f"expected value (the fill) to be a number, got {value!r}"
            )
        self.value = float(value)
        self.index = int_arg(self, "index", "the offset of the padding, 0-based", index, 0)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input, 1)
        dim = self.dim
        if self.nInputDim is not None and x.ndim != self.nInputDim and dim >= 0:
            dim += 1
        axis = _axis(self, x, dim)
        if self.index > x.shape[axis]:
            raise ModuleError(
                self._describe(),
                f"expected index {self.index} at most the size {x.shape[axis]} of dimension "
                f"{axis} (input {shape_str(x)})",
            )
        self.output = F.pad_along(x, axis, self.pad, self.index, self.value)
        return self.output


# Torch7's tensor type names, for scripts that pass them to Copy
_TORCH_TYPES = {
    "torch.FloatTensor": "float32",
    "torch.CudaTensor": "float32",
    "torch.DoubleTensor": "float64",
    "torch.CudaDoubleTensor": "float64",
    "torch.HalfTensor": "float16",
    "torch.CudaHalfTensor": "float16",
    "torch.ByteTensor": "uint8",
    "torch.CharTensor": "int8",
    "torch.ShortTensor": "int16",
    "torch.IntTensor": "int32",
    "torch.LongTensor": "int64",
}


def _dtype_name(name: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(jnp.dtype(_TORCH_TYPES.get(value, value)))
    except TypeError as e:
        raise ModuleError(
            "nn.Copy",
            f"expected {name} to be a dtype name ('float16') or a Torch7 type name "
            f"('torch.HalfTensor'), got {value!r}",
        ) from e


class Copy(Module):
    """nn.Copy([intype], [outtype], [forceCopy], [dontCast]): the input converted to
    `outtype`: a dtype name (``'float16'``) or a Torch7 type name (``'torch.HalfTensor'``);
    default: unchanged. The gradient comes back in the input's type. JAX arrays are immutable,
    so a copy and a view are the same thing (`forceCopy` changes nothing)."""

    def __init__(
        self,
        intype: str | None = None,
        outtype: str | None = None,
        forceCopy: bool = False,
        dontCast: bool = False,
    ) -> None:
        super().__init__()
        self.intype = _dtype_name("intype", intype)
        self.outtype = _dtype_name("outtype", outtype)
        self.forceCopy = bool(forceCopy)
        self.dontCast = bool(dontCast)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        self.output = x if self.outtype is None else x.astype(self.outtype)
        return self.output


class Contiguous(Module):
    """nn.Contiguous(): the input itself (JAX arrays have no strides to make contiguous)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = array_input(self, input)
        return self.output


class Collapse(Module):
    """nn.Collapse(nInputDim): flattens each sample of `nInputDim` dims to a vector: an input
    of more dims is a batch, ``(N, ...) -> (N, -1)``, else ``(...) -> (-1,)``."""

    def __init__(self, nInputDim: int) -> None:
        super().__init__()
        self.nInputDim = int_arg(self, "nInputDim", "the dimensions of one sample", nInputDim, 0)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        if x.ndim > self.nInputDim:
            self.output = jnp.reshape(x, (x.shape[0], -1))
        else:
            self.output = jnp.reshape(x, (-1,))
        return self.output

    def __repr__(self) -> str:
        return f"nn.Collapse({self.nInputDim})"
