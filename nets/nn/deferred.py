"""Sub-module outputs after ``forward``, computed when first read.

Torch7 code reads ``net.modules[i].output`` after ``net:forward(x)``. Returning every
intermediate array from the compiled forward pass made it a third slower (ResNet-18 inference
at 8x3x224x224: 473 ms against 371), so ``forward`` compiles the output alone and leaves a
`DeferredOutputs` record in each sub-module's ``output``. The first read of any of them runs
the network's compiled "outputs" pass once, on the arrays, input and PRNG key of the forward
pass, and writes every owed output: the values that pass computed.

The record holds the compiled function of the network *as it ran* (compiled code runs on a
skeleton of the tree, `compiled.skeleton`), so changing the network afterwards cannot change
what a read returns. A failure is raised by the read that needed it, naming the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import ModuleError
from . import compiled

if TYPE_CHECKING:
    from .module import Module
    from .structure import Tree


class DeferredOutputs:
    """The sub-module outputs one `Module.forward` call owes (see the module docstring)."""

    __slots__ = ("fn", "args", "owed", "error")

    def __init__(self, root: Module, t: Tree, args: tuple) -> None:
        self.owed = {path: m for path, m in t.named if path}
        self.fn = compiled.module_fn(root, "outputs", t) if self.owed else None
        self.args = args
        self.error: Exception | None = None
        for m in self.owed.values():
            m.__dict__["_output"] = self

    def resolve(self, reader: Module) -> Any:
        """Compute and write the owed outputs (once); return `reader`'s."""
        if self.fn is not None:
            fn, args, self.fn, self.args = self.fn, self.args, None, None
            try:
                outputs = fn(*args)
            except Exception as e:  # kept: every owed module's read raises it
                self.error = e
            else:
                from .state import empty

                for path, m in self.owed.items():
                    if m.__dict__.get("_output") is self:
                        m.__dict__["_output"] = outputs.get(path, empty())
        if self.error is not None:
            raise ModuleError(
                reader._describe(),
                "its output from the last forward pass could not be computed: "
                f"{type(self.error).__name__}: {self.error}",
            ) from self.error
        return reader.__dict__.get("_output")
