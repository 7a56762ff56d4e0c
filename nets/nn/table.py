"""Table layers: modules whose input or output is a list of arrays (torch/nn doc/table.md)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .._errors import ModuleError, shape_str
from .._shape import int_arg
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
