"""nngraph's Node: a module applied to other nodes, the unit a `nn.gModule` graph is built of.

Calling a module on nodes (``nn.Linear(10, 20)(x)``), on a list of nodes
(``nn.CAddTable()([a, b])``) or on nothing (``nn.Identity()()``, a graph input) makes a node
instead of running the module (`nets.nn.Module.__call__`). A node only records who feeds whom;
`nn.gModule(inputs, outputs)` turns the nodes into data (`nets.nn.graph`).
"""

from __future__ import annotations

from typing import Any


class Node:
    """One vertex of an nngraph graph: ``module`` applied to the outputs of ``parents``.

    ``table`` says whether the module was given a list of nodes (``m([a, b])``), which it then
    receives as a table; a module given one node receives that node's output itself, as
    nngraph's ``#input == 1`` rule. A node made by `split` has no module: it selects element
    ``element`` (0-based) of its one parent's table output.
    """

    __slots__ = ("module", "parents", "table", "element", "label")

    def __init__(
        self,
        module: Any,
        parents: tuple[Node, ...] = (),
        table: bool = False,
        element: int | None = None,
    ) -> None:
        self.module = module
        self.parents = tuple(parents)
        self.table = table
        self.element = element
        self.label: str | None = None

    def split(self, noutput: int) -> tuple[Node, ...]:
        """`noutput` nodes, each taking one element (in order) of this node's table output."""
        if isinstance(noutput, bool) or not isinstance(noutput, int) or noutput < 1:
            raise ValueError(f"Node.split: expected a positive number of outputs, got {noutput!r}")
        return tuple(Node(None, (self,), element=i) for i in range(noutput))

    def annotate(self, name: str) -> Node:
        """Name this node (shown when the graph is printed, as nngraph's annotations)."""
        self.label = str(name)
        return self

    def __sub__(self, module: Any) -> Node:
        """nngraph's chaining: ``x - nn.Linear(3, 4) - nn.Tanh()`` is
        ``nn.Tanh()(nn.Linear(3, 4)(x))``."""
        if not callable(module) or not hasattr(module, "updateOutput"):
            return NotImplemented
        return module(self)

    def __repr__(self) -> str:
        if self.module is None:
            return f"nngraph.Node(element {self.element} of {self.parents[0]!r})"
        return f"nngraph.Node({self.module._describe()})"


def as_parents(args: tuple) -> tuple[tuple[Node, ...], bool] | None:
    """``(parent nodes, table)`` when a module call's arguments make a graph node (no
    argument, a node, or a non-empty list of nodes), else None (an ordinary forward call)."""
    if not args:
        return (), False
    if len(args) != 1:
        return None
    given = args[0]
    if isinstance(given, Node):
        return (given,), False
    if isinstance(given, (list, tuple)) and given and all(isinstance(g, Node) for g in given):
        return tuple(given), True
    return None
