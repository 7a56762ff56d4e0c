"""Table layers: modules whose input or output is a list of arrays (torch/nn doc/table.md).

CAddTable, JoinTable; SelectTable, NarrowTable, FlattenTable, SplitTable; the element-wise
CSubTable, CMulTable, CDivTable, CMaxTable, CMinTable; the pair layers PairwiseDistance,
DotProduct, CosineDistance; CAddTensorTable, ZipTable, ZipTableOneToMany and MixtureTable.
Indices into a table are 0-based.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .._errors import ModuleError, shape_str
from .._shape import int_arg, number_arg
from . import functional as F  # noqa: N812
from .module import Module


def _expect_table(module: Module, input: Any) -> list:
    if not isinstance(input, (list, tuple)) or not input:
        raise ModuleError(
            module._describe(),
            f"expected a non-empty list (table) of arrays, got {shape_str(input)}",
        )
    return list(input)


class CAddTable(Module):
    """nn.CAddTable([inplace]): the element-wise sum of a list of same-shaped arrays."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def updateOutput(self, input: Any) -> Any:
        xs = _expect_table(self, input)
        for i, x in enumerate(xs[1:], start=1):
            if x.shape != xs[0].shape:
                raise ModuleError(
                    self._describe(),
                    f"expected arrays of one shape, got {shape_str(xs[0])} at [0] "
                    f"and {shape_str(x)} at [{i}]",
                )
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        self.output = out
        return out


class JoinTable(Module):
    """nn.JoinTable(dim, [nInputDims]): concatenates a list of arrays along `dim` (0-based).

    With `nInputDims`, an input with one more dimension is taken as a batch and `dim` is shifted
    by one, as in Torch7.
    """

    def __init__(self, dim: int, nInputDims: int | None = None) -> None:
        super().__init__()
        self.dimension = int_arg(self, "dim", "the dimension joined along, 0-based", dim, None)
        if nInputDims is not None:
            nInputDims = int_arg(self, "nInputDims", "the dimensions of one sample", nInputDims)
        self.nInputDims = nInputDims

    def updateOutput(self, input: Any) -> Any:
        xs = _expect_table(self, input)
        d = self.dimension
        if self.nInputDims is not None and xs[0].ndim == self.nInputDims + 1:
            d += 1
        if not -xs[0].ndim <= d < xs[0].ndim:
            raise ModuleError(
                self._describe(), f"cannot join along dim {d}: inputs have shape {shape_str(xs[0])}"
            )
        self.output = jnp.concatenate(xs, axis=d)
        return self.output

    def __repr__(self) -> str:
        return (
            f"nn.JoinTable({self.dimension})"
            if self.nInputDims is None
            else f"nn.JoinTable({self.dimension}, {self.nInputDims})"
        )


# ---- issue 19: the rest of Torch7's table layers


def _same_shapes(module: Module, xs: list, count: int | None = None) -> list:
    """A table of `count` (or any number of) arrays of one shape."""
    if count is not None and len(xs) != count:
        raise ModuleError(
            module._describe(), f"expected a table of {count} arrays, got {shape_str(xs)}"
        )
    for i, x in enumerate(xs):
        if getattr(x, "shape", None) != getattr(xs[0], "shape", None) or not hasattr(x, "ndim"):
            raise ModuleError(
                module._describe(),
                f"expected arrays of one shape, got {shape_str(xs[0])} at [0] "
                f"and {shape_str(x)} at [{i}]",
            )
    return xs


class SelectTable(Module):
    """nn.SelectTable(index): the element at `index` (0-based; negative counts from the end)
    of a table; the gradient is zero for every other element."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = int_arg(self, "index", "the element selected, 0-based", index, None)

    def updateOutput(self, input: Any) -> Any:
        xs = _expect_table(self, input)
        if not -len(xs) <= self.index < len(xs):
            raise ModuleError(
                self._describe(),
                f"expected a table with an element {self.index}, got {shape_str(xs)}",
            )
        self.output = xs[self.index]
        return self.output

    def __repr__(self) -> str:
        return f"nn.SelectTable({self.index})"


class NarrowTable(Module):
    """nn.NarrowTable(offset, [length=1]): the sub-table of `length` elements from `offset`
    (0-based); a negative `length` counts from the end (-1: to the last element)."""

    def __init__(self, offset: int, length: int = 1) -> None:
        super().__init__()
        self.offset = int_arg(self, "offset", "the first element kept, 0-based", offset, 0)
        self.length = int_arg(self, "length", "how many elements to keep", length, None)
        if self.length == 0:
            raise ModuleError("nn.NarrowTable", "expected length to be non-zero, got 0")

    def updateOutput(self, input: Any) -> Any:
        xs = _expect_table(self, input)
        n = len(xs) - self.offset + self.length + 1 if self.length < 0 else self.length
        if n < 1 or self.offset + n > len(xs):
            raise ModuleError(
                self._describe(),
                f"expected offset {self.offset} and length {self.length} to fit in a table of "
                f"{len(xs)}, got {shape_str(xs)}",
            )
        self.output = xs[self.offset : self.offset + n]
        return self.output


def _flatten(value: Any, into: list) -> None:
    if isinstance(value, (list, tuple)):
        for v in value:
            _flatten(v, into)
    else:
        into.append(value)


class FlattenTable(Module):
    """nn.FlattenTable(): a nested table as one flat table of its arrays, depth first."""

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)):
            raise ModuleError(self._describe(), f"expected a table, got {shape_str(input)}")
        flat: list = []
        _flatten(input, flat)
        self.output = flat
        return flat


class SplitTable(Module):
    """nn.SplitTable(dimension, [nInputDims]): an array as the table of its slices along
    `dimension` (0-based, negative from the end); with `nInputDims`, an input with one more
    dimension is a batch and `dimension` is shifted by one."""

    def __init__(self, dimension: int, nInputDims: int | None = None) -> None:
        super().__init__()
        self.dimension = int_arg(self, "dimension", "the dimension split, 0-based", dimension, None)
        if nInputDims is not None:
            nInputDims = int_arg(self, "nInputDims", "the dimensions of one sample", nInputDims)
        self.nInputDims = nInputDims

    def updateOutput(self, input: Any) -> Any:
        ndim = getattr(input, "ndim", None)
        if ndim is None or ndim == 0:
            raise ModuleError(
                self._describe(),
                f"expected an array of at least 1 dimension, got {shape_str(input)}",
            )
        d = self.dimension
        if d >= 0 and self.nInputDims is not None and ndim == self.nInputDims + 1:
            d += 1
        if not -ndim <= d < ndim:
            raise ModuleError(
                self._describe(), f"cannot split along dim {d}: input has shape {shape_str(input)}"
            )
        d %= ndim
        self.output = [jnp.take(input, i, axis=d) for i in range(input.shape[d])]
        return self.output


class CSubTable(Module):
    """nn.CSubTable(): ``x[0] - x[1]`` for a table of two same-shaped arrays."""

    def updateOutput(self, input: Any) -> Any:
        a, b = _same_shapes(self, _expect_table(self, input), 2)
        self.output = a - b
        return self.output


class CMulTable(Module):
    """nn.CMulTable(): the element-wise product of a table of same-shaped arrays."""

    def updateOutput(self, input: Any) -> Any:
        xs = _same_shapes(self, _expect_table(self, input))
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        self.output = out
        return out


class CDivTable(Module):
    """nn.CDivTable(): ``x[0] / x[1]`` for a table of two same-shaped arrays."""

    def updateOutput(self, input: Any) -> Any:
        a, b = _same_shapes(self, _expect_table(self, input), 2)
        self.output = a / b
        return self.output


class CMaxTable(Module):
    """nn.CMaxTable(): the element-wise maximum of a table of same-shaped arrays; the gradient
    goes to the first array holding the maximum (Torch7)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.cmax_table(_same_shapes(self, _expect_table(self, input)))
        return self.output


class CMinTable(Module):
    """nn.CMinTable(): the element-wise minimum of a table of same-shaped arrays (see
    CMaxTable)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.cmin_table(_same_shapes(self, _expect_table(self, input)))
        return self.output


def _pair(module: Module, input: Any) -> list:
    """Two same-shaped (D,) vectors or (N, D) batches."""
    a, b = _same_shapes(module, _expect_table(module, input), 2)
    if a.ndim not in (1, 2):
        raise ModuleError(
            module._describe(),
            f"expected a table of two (D,) vectors or two (N, D) arrays, got {shape_str(input)}",
        )
    return [a, b]


class PairwiseDistance(Module):
    """nn.PairwiseDistance([p=2]): ``||a - b||_p`` for a table ``{a, b}`` of two (N, D) arrays
    (output ``(N,)``) or two (D,) vectors (output ``(1,)``)."""

    def __init__(self, p: float = 2) -> None:
        super().__init__()
        self.norm = number_arg(self, "p", "the norm's order", p, 1)

    def updateOutput(self, input: Any) -> Any:
        a, b = _pair(self, input)
        self.output = F.pairwise_distance(a, b, self.norm)
        return self.output


class DotProduct(Module):
    """nn.DotProduct(): ``sum_j a_j b_j`` for a table ``{a, b}`` of two (N, D) arrays (output
    ``(N,)``) or two (D,) vectors (output ``(1,)``)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.dot_product(*_pair(self, input))
        return self.output


class CosineDistance(Module):
    """nn.CosineDistance(): ``a.b / (|a| |b|)`` for a table ``{a, b}`` of two (N, D) arrays
    (output ``(N,)``) or two (D,) vectors (output ``(1,)``)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.cosine_distance(*_pair(self, input))
        return self.output


# ---- more Torch7 table layers (issue 19)


class CAddTensorTable(Module):
    """nn.CAddTensorTable(): ``{a, {b_0, b_1, ...}}`` -> ``{a + b_0, a + b_1, ...}``; ``a``'s
    gradient is the sum of the outputs' gradients."""

    def updateOutput(self, input: Any) -> Any:
        ok = isinstance(input, (list, tuple)) and len(input) == 2 and hasattr(input[0], "shape")
        ok = ok and isinstance(input[1], (list, tuple))
        if ok:
            ok = all(getattr(b, "shape", None) == input[0].shape for b in input[1])
        if not ok:
            raise ModuleError(
                self._describe(),
                "expected {a, {b_0, b_1, ...}}: an array and a table of arrays of its shape, "
                f"got {shape_str(input)}",
            )
        a, bs = input
        self.output = [a + b for b in bs]
        return self.output


class ZipTable(Module):
    """nn.ZipTable(): ``{{a, b}, {c, d}}`` -> ``{{a, c}, {b, d}}``: the j-th output table holds
    the j-th element of every input table (tables of one length)."""

    def updateOutput(self, input: Any) -> Any:
        tables = _expect_table(self, input)
        lengths = [len(t) if isinstance(t, (list, tuple)) else None for t in tables]
        if None in lengths or len(set(lengths)) != 1:
            raise ModuleError(
                self._describe(),
                f"expected a table of tables of one length, got {shape_str(input)}",
            )
        self.output = [list(col) for col in zip(*tables, strict=True)]
        return self.output


class ZipTableOneToMany(Module):
    """nn.ZipTableOneToMany(): ``{e, {a, b, c}}`` -> ``{{e, a}, {e, b}, {e, c}}``; ``e``'s
    gradient is the sum of its copies' gradients."""

    def updateOutput(self, input: Any) -> Any:
        ok = isinstance(input, (list, tuple)) and len(input) == 2
        if not ok or not isinstance(input[1], (list, tuple)):
            raise ModuleError(
                self._describe(),
                f"expected {{element, table}}: a table of 2, the second a table, got "
                f"{shape_str(input)}",
            )
        e, table = input
        self.output = [[e, v] for v in table]
        return self.output


class MixtureTable(Module):
    """nn.MixtureTable([dim]): ``{gater, experts}`` -> ``sum_i gater[:, i] * expert_i``, a
    mixture of experts.

    The gater is (N, E) for a batch or (E,) for one sample; the experts are a table of E
    arrays of one shape (each (N, ...) or (...)), or one array with the E experts along `dim`
    (0-based; by default 1 for a batch, 0 for one sample, as Torch7's 2 and 1).
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None:
            dim = int_arg(self, "dim", "the dimension of the experts, 0-based", dim, 0)
        self.dim = dim

    def updateOutput(self, input: Any) -> Any:
        ok = isinstance(input, (list, tuple)) and len(input) == 2
        gater = input[0] if ok else None
        ok = ok and getattr(gater, "ndim", None) in (1, 2)
        if not ok:
            raise ModuleError(
                self._describe(),
                "expected {gater, experts}: an (N, E) or (E,) gater and E experts (a table or "
                f"an array), got {shape_str(input)}",
            )
        experts = input[1]
        batch = gater.ndim == 2
        dim = self.dim if self.dim is not None else (1 if batch else 0)
        n_experts = gater.shape[-1]
        if isinstance(experts, (list, tuple)):
            xs = _same_shapes(self, list(experts), n_experts)
            ok = xs[0].ndim + 1 > dim and (not batch or xs[0].shape[0] == gater.shape[0])
            experts = jnp.stack(xs, axis=dim) if ok else None
        else:
            ok = hasattr(experts, "ndim") and experts.ndim > dim
            ok = ok and experts.shape[dim] == n_experts
            ok = ok and (not batch or (dim > 0 and experts.shape[0] == gater.shape[0]))
        if not ok:
            raise ModuleError(
                self._describe(),
                f"expected {n_experts} experts (one per gater output) along dim {dim}"
                + (f", each with the gater's batch of {gater.shape[0]}" if batch else "")
                + f", got {shape_str(input)}",
            )
        self.output = F.mixture_table(gater, experts, dim)
        return self.output
