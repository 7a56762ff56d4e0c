"""Containers: modules made of modules (torch/nn doc/containers.md).

A container runs its children through ``child._run`` (their ``updateOutput`` with error context
and any hand-written backward), and adds the child's index to an error on its way out.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .._errors import ModuleError, shape_str
from .._shape import int_arg
from .module import Module, _type_name
from .printing import branch_repr, sequential_repr
from .structure import touch


class Container(Module):
    """nn.Container(): the base of modules holding other modules in ``self.modules``."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        self.modules: list[Module] = []
        for m in modules:
            self.add(m)

    def add(self, module: Module, index: int | None = None) -> Container:
        """Append `module` (or insert it before position `index`); returns self for chaining."""
        if not isinstance(module, Module):
            raise ModuleError(
                self._describe(), f"add expected an nn.Module, got {type(module).__name__}"
            )
        touch(self)
        if index is None:
            self.modules.append(module)
        else:
            self.modules.insert(index, module)
        return self

    def insert(self, module: Module, index: int) -> Container:
        """Insert `module` at position `index` (0-based)."""
        return self.add(module, index)

    def remove(self, index: int | None = None) -> Module:
        """Remove and return the module at `index` (the last one by default)."""
        touch(self)
        return self.modules.pop(len(self.modules) - 1 if index is None else index)

    def get(self, index: int) -> Module:
        """The module at position `index` (0-based)."""
        return self.modules[index]

    def size(self) -> int:
        """How many modules this container holds."""
        return len(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def _child(self, index: int, input: Any) -> Any:
        try:
            return self.modules[index]._run(input)
        except ModuleError as e:
            raise e.within(index).with_traceback(None) from e.__cause__


class Sequential(Container):
    """nn.Sequential(): feeds each module's output to the next.

    Example:
        >>> from nets import nn
        >>> net = nn.Sequential().add(nn.Linear(4, 3)).add(nn.ReLU())
        >>> net.forward(jnp.ones(4)).shape
        (3,)
    """

    _feeds_first_child = True  # backward's `gradInput = None` check looks through to (0)

    def updateOutput(self, input: Any) -> Any:
        x = input
        for i in range(len(self.modules)):
            x = self._child(i, x)
        self.output = x
        return x

    def __repr__(self) -> str:
        return sequential_repr(_type_name(self), self.modules)


class ConcatTable(Container):
    """nn.ConcatTable(): applies every module to the same input; the output is a list."""

    def updateOutput(self, input: Any) -> Any:
        self.output = [self._child(i, input) for i in range(len(self.modules))]
        return self.output

    def __repr__(self) -> str:
        return branch_repr(_type_name(self), self.modules)


class ParallelTable(Container):
    """nn.ParallelTable(): applies the i-th module to the i-th element of a list input."""

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)) or len(input) != len(self.modules):
            raise ModuleError(
                self._describe(),
                f"expected a list of {len(self.modules)} inputs, got {shape_str(input)}",
            )
        self.output = [self._child(i, x) for i, x in enumerate(input)]
        return self.output

    def __repr__(self) -> str:
        return branch_repr(_type_name(self), self.modules)


class Concat(Container):
    """nn.Concat(dim): applies every module to the same input and joins outputs along `dim`.

    `dim` is 0-based: ``Concat(1)`` joins an NCHW batch along its channels (Torch7 wrote
    ``Concat(2)``).
    """

    def __init__(self, dim: int, *modules: Module) -> None:
        super().__init__(*modules)
        self.dimension = int_arg(self, "dim", "the dimension joined along, 0-based", dim, None)

    def _outputs(self, input: Any) -> list:
        outs = [self._child(i, input) for i in range(len(self.modules))]
        if not outs:
            raise ModuleError(self._describe(), "expected at least one module, got none")
        d = self.dimension
        for i, o in enumerate(outs):
            if not -o.ndim <= d < o.ndim:
                raise ModuleError(
                    self._describe(),
                    f"cannot join along dim {d}: output of ({i}) has shape {shape_str(o)}",
                )
        return outs

    def updateOutput(self, input: Any) -> Any:
        outs = self._outputs(input)
        d = self.dimension
        ref = outs[0].shape
        for i, o in enumerate(outs):
            if o.ndim != len(ref) or any(
                a != b
                for k, (a, b) in enumerate(zip(o.shape, ref, strict=True))
                if k != d % len(ref)
            ):
                raise ModuleError(
                    self._describe(),
                    f"expected outputs that agree except in dim {d}, got "
                    f"{shape_str(outs[0])} from (0) and {shape_str(o)} from ({i})",
                )
        self.output = jnp.concatenate(outs, axis=d)
        return self.output

    def __repr__(self) -> str:
        return branch_repr(_type_name(self), self.modules)


class DepthConcat(Concat):
    """nn.DepthConcat(dim): like Concat, but zero-pads the other spatial dims to the largest.

    Smaller outputs are centred in the larger frame, as Torch7's DepthConcat does (the Inception
    blocks of GoogLeNet use it).
    """

    def updateOutput(self, input: Any) -> Any:
        outs = self._outputs(input)
        d = self.dimension % outs[0].ndim
        target = [max(o.shape[k] for o in outs) for k in range(outs[0].ndim)]
        padded = []
        for o in outs:
            pads = []
            for k in range(o.ndim):
                if k == d or (k == 0 and o.ndim == 4):
                    pads.append((0, 0))
                else:
                    extra = target[k] - o.shape[k]
                    pads.append((extra // 2, extra - extra // 2))
            padded.append(jnp.pad(o, pads))
        self.output = jnp.concatenate(padded, axis=d)
        return self.output
