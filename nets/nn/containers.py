"""Containers: modules made of modules (torch/nn doc/containers.md): Container, Sequential,
Concat, DepthConcat, ConcatTable, ParallelTable, Parallel, MapTable, and the Decorator family
(Bottle).

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


# ---- issue 19: Parallel, MapTable, Decorator and Bottle


class Parallel(Container):
    """nn.Parallel(inputDimension, outputDimension): the i-th module gets slice i of the input
    along `inputDimension`; the outputs are joined along `outputDimension` (both 0-based).

    Example:
        >>> from nets import nn
        >>> m = nn.Parallel(0, 0).add(nn.Linear(3, 2)).add(nn.Linear(3, 4))
        >>> m.forward(jnp.ones((2, 3))).shape
        (6,)
    """

    def __init__(self, inputDimension: int, outputDimension: int) -> None:
        super().__init__()
        self.inputDimension = int_arg(
            self, "inputDimension", "the dimension split among the modules", inputDimension, None
        )
        self.outputDimension = int_arg(
            self, "outputDimension", "the dimension the outputs join along", outputDimension, None
        )

    def updateOutput(self, input: Any) -> Any:
        ndim = getattr(input, "ndim", None)
        d = self.inputDimension
        if ndim is None or not -ndim <= d < ndim or input.shape[d] != len(self.modules):
            raise ModuleError(
                self._describe(),
                f"expected an input with {len(self.modules)} slices (one per module) along "
                f"dim {d}, got {shape_str(input)}",
            )
        outs = [self._child(i, jnp.take(input, i, axis=d)) for i in range(len(self.modules))]
        od = self.outputDimension
        for i, o in enumerate(outs):
            if not -o.ndim <= od < o.ndim or o.shape[:od] != outs[0].shape[:od]:
                raise ModuleError(
                    self._describe(),
                    f"cannot join along dim {od}: output of ({i}) has shape {shape_str(o)}, "
                    f"output of (0) {shape_str(outs[0])}",
                )
        self.output = jnp.concatenate(outs, axis=od)
        return self.output

    def __repr__(self) -> str:
        return branch_repr(_type_name(self), self.modules)


class MapTable(Container):
    """nn.MapTable(module, [shared=True]): applies `module` to every element of a table.

    With ``shared=True`` every element goes through the one module (so all share its
    parameters, and their gradients add up, as Torch7's shared clones do). With
    ``shared=False`` each element has its own copy: call ``resize(n)`` for n elements first.
    """

    def __init__(self, module: Module, shared: bool = True) -> None:
        super().__init__(module)
        self.shared = bool(shared)

    @property
    def module(self) -> Module:
        """The mapped module (the first of ``modules``)."""
        return self.modules[0]

    def resize(self, n: int) -> MapTable:
        """Hold `n` copies (unshared when ``shared=False``); returns self."""
        n = int_arg(self, "n", "the number of table elements", n)
        while len(self.modules) < n:
            copy = self.modules[0].clone()
            if self.shared:
                copy.share(self.modules[0], "weight", "bias", "gradWeight", "gradBias")
            self.add(copy)
        while len(self.modules) > n:
            self.remove()
        return self

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)):
            raise ModuleError(self._describe(), f"expected a table, got {shape_str(input)}")
        if len(self.modules) < len(input) and not self.shared:
            raise ModuleError(
                self._describe(),
                f"expected at most {len(self.modules)} elements (the unshared copies held), got "
                f"{shape_str(input)}\nhelp: call resize({len(input)}) before the forward pass",
            )
        outs = []
        for i, x in enumerate(input):
            m = self.modules[i if i < len(self.modules) else 0]
            try:
                outs.append(m._run(x))
            except ModuleError as e:
                raise e.within(i).with_traceback(None) from e.__cause__
        self.output = outs
        return outs

    def __repr__(self) -> str:
        inner = repr(self.modules[0]).replace("\n", "\n        ")
        return f"{_type_name(self)} {{\n  {inner}\n}}"


class Decorator(Container):
    """nn.Decorator(module): runs `module` unchanged; the base of modules that wrap one module
    (printed ``nn.Name @ <module>``)."""

    def __init__(self, module: Module) -> None:
        super().__init__(module)

    @property
    def module(self) -> Module:
        """The decorated module."""
        return self.modules[0]

    def updateOutput(self, input: Any) -> Any:
        self.output = self._child(0, input)
        return self.output

    def __repr__(self) -> str:
        return f"{_type_name(self)} @ {self.modules[0]!r}"


class Bottle(Decorator):
    """nn.Bottle(module, [nInputDim=2], [nOutputDim=nInputDim]): runs a module made for
    `nInputDim`-D input on input with more (leading batch) dimensions.

    The leading dimensions are folded into the first one, the module runs, and they are
    unfolded from its `nOutputDim`-D output: ``Bottle(nn.Linear(3, 2))`` maps (A, B, 3) to
    (A, B, 2).
    """

    def __init__(self, module: Module, nInputDim: int = 2, nOutputDim: int | None = None) -> None:
        super().__init__(module)
        self.nInputDim = int_arg(self, "nInputDim", "the dims the module takes", nInputDim)
        nOutputDim = self.nInputDim if nOutputDim is None else nOutputDim
        self.nOutputDim = int_arg(self, "nOutputDim", "the dims the module gives", nOutputDim)

    def updateOutput(self, input: Any) -> Any:
        ndim = getattr(input, "ndim", None)
        if ndim is None:
            raise ModuleError(self._describe(), f"expected an array, got {shape_str(input)}")
        batch_dims = ndim - self.nInputDim + 1
        if batch_dims <= 1:
            self.output = self._child(0, input)
            return self.output
        lead = input.shape[:batch_dims]
        folded = jnp.reshape(input, (-1, *input.shape[batch_dims:]))
        out = self._child(0, folded)
        if getattr(out, "ndim", None) != self.nOutputDim:
            raise ModuleError(
                self._describe(),
                f"expected the module to output {self.nOutputDim} dims, got {shape_str(out)}",
            )
        self.output = jnp.reshape(out, (*lead, *out.shape[1:]))
        return self.output
