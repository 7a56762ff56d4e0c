"""Layers whose output is not a differentiable function of the input's values (torch/nn
doc/simple.md): OneHot encodes indices, Constant ignores them. Their gradient with respect to
the input is zero."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from .._errors import ModuleError, shape_str
from .._shape import array_input, int_arg, number_arg
from . import functional as F  # noqa: N812
from .module import Module


class OneHot(Module):
    """nn.OneHot(outputSize): an array of 0-based indices (any shape) -> the same shape plus a
    last axis of `outputSize`, one at each index, zero elsewhere (char-rnn's input encoding).

    An index outside ``[0, outputSize)`` gives a row of zeros (Torch7's scatter raised; an index
    is a value, which a compiled network cannot check before running).
    """

    def __init__(self, outputSize: int) -> None:
        super().__init__()
        self.outputSize = int_arg(self, "outputSize", "the number of classes", outputSize)

    def updateOutput(self, input: Any) -> Any:
        if isinstance(input, (int, np.integer)) and not isinstance(input, bool):
            input = jnp.asarray(input)
        x = array_input(self, input)
        if not (jnp.issubdtype(x.dtype, jnp.integer) or jnp.issubdtype(x.dtype, jnp.floating)):
            raise ModuleError(
                self._describe(), f"expected an array of class indices, got dtype {x.dtype}"
            )
        self.output = F.one_hot(x, self.outputSize)
        return self.output

    def __repr__(self) -> str:
        return f"nn.OneHot({self.outputSize})"


class Constant(Module):
    """nn.Constant(value, [nInputDim]): outputs `value` (a number, as a (1,) array, or an
    array) whatever the input; with `nInputDim`, an input of more dimensions is a batch and the
    value is repeated over its first axis. Use it in a ConcatTable to append a constant input."""

    def __init__(self, value: Any, nInputDim: int | None = None) -> None:
        super().__init__()
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            self.value = jnp.asarray(value, jnp.float32)
        else:
            v = number_arg(self, "value", "the constant output: a number or an array", value)
            self.value = jnp.asarray([v], jnp.float32)
        if nInputDim is not None:
            nInputDim = int_arg(self, "nInputDim", "the dimensions of one sample", nInputDim, 0)
        self.nInputDim = nInputDim

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)) and not hasattr(input, "ndim"):
            raise ModuleError(
                self._describe(), f"expected an array or a table, got {shape_str(input)}"
            )
        v = self.value
        if self.nInputDim is not None and not isinstance(input, (list, tuple)):
            if input.ndim > self.nInputDim:
                v = jnp.broadcast_to(v[None], (input.shape[0], *v.shape))
        self.output = v
        return self.output
