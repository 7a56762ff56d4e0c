"""nngraph (torch/nngraph): `gModule`, a network that is any directed acyclic graph of modules.

Build the graph by calling modules on nodes (`nets.nn.node`), then wrap it::

    x1, x2 = nn.Identity()(), nn.Identity()()          # the graph's two inputs
    h = nn.Tanh()(nn.Linear(4, 3)(x1))
    both = nn.CAddTable()([h, nn.Linear(2, 3)(x2)])    # a list of nodes: a table input
    net = nn.gModule([x1, x2], [both, h])              # two inputs, two outputs

The gModule keeps no nodes: it turns them into data, its ``modules`` (in an order where each
module comes after those it reads from) and its ``wiring``, which says where each module's input
comes from. That data is what checkpoints store and what the compile cache is keyed by, and
``nn.gModule(modules=..., wiring=...)`` builds the same network from it again.

``wiring = (nInputs, nodes, outputs)``: a value ``v < nInputs`` is the graph's input ``v``,
``nInputs + k`` the output of ``modules[k]``; a *source* ``(v, path)`` reads value ``v``, then
the elements of ``path`` in turn (a `Node.split`); ``nodes[k] = (sources, label)`` feeds
``modules[k]`` the value of its one source, or the table of its sources when it has several
(nngraph's rule); ``outputs`` are sources too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import ModuleError, shape_str
from .module import Module
from .node import Node

Source = tuple[int, tuple[int, ...]]


def _as_nodes(given: Any, what: str) -> list[Node]:
    items = list(given) if isinstance(given, (list, tuple)) else [given]
    if not items:
        raise ModuleError("nn.gModule", f"expected at least one node in {what}, got none")
    for i, item in enumerate(items):
        if not isinstance(item, Node):
            raise ModuleError(
                "nn.gModule",
                f"expected {what}[{i}] to be a graph node (made by calling a module, e.g. "
                f"nn.Identity()() or nn.Linear(4, 3)(x)), got {type(item).__name__}",
            )
    return items


def _wire(inputs: Any, outputs: Any) -> tuple[list[Module], tuple]:
    """The modules and wiring of the graph between the `inputs` and `outputs` nodes."""
    ins = _as_nodes(inputs, "inputs")
    outs = _as_nodes(outputs, "outputs")
    n_in = len(ins)
    modules: list[Module] = []
    nodes: list[tuple] = []
    index: dict[int, int] = {}  # id(node) -> its module's position

    for i, node in enumerate(ins):
        if node.module is None or node.parents:
            raise ModuleError(
                "nn.gModule",
                f"expected inputs[{i}] to be a node without inputs, such as nn.Identity()(), "
                f"got {node!r} fed by {len(node.parents)} node(s)",
            )
        if id(node) in index:
            raise ModuleError("nn.gModule", f"inputs[{i}] is given twice: {node!r}")
        index[id(node)] = len(modules)
        modules.append(node.module)
        nodes.append((((i, ()),), node.label))

    def source(node: Node) -> Source:
        if node.module is None:  # an element of a split
            value, path = source(node.parents[0])
            return value, (*path, node.element)
        return n_in + visit(node), ()

    def visit(node: Node) -> int:
        """The module position of `node`, its parents placed first (depth first)."""
        stack = [(node, False)]
        while stack:
            current, ready = stack.pop()
            if id(current) in index:
                continue
            if current.module is None:
                stack.append((current.parents[0], False))
                continue
            if not current.parents:
                raise ModuleError(
                    "nn.gModule",
                    f"{current!r} has no inputs but is not among the gModule's inputs; "
                    "expected every path from an output to start at one of the inputs",
                )
            if ready:
                sources = tuple(source(p) for p in current.parents)
                index[id(current)] = len(modules)
                modules.append(current.module)
                nodes.append((sources, current.label))
                continue
            stack.append((current, True))
            stack.extend((p, False) for p in reversed(current.parents))
        return index[id(node)]

    wired_outputs = tuple(source(node) for node in outs)
    return modules, (n_in, tuple(nodes), wired_outputs)


def _check_wiring(modules: list, wiring: Any) -> tuple:
    """Refuse wiring that does not describe a graph over `modules` (a damaged checkpoint)."""
    try:
        n_in, nodes, outputs = wiring
        n_in = int(n_in)
        ok = (
            len(nodes) == len(modules) and n_in >= 1 and all(isinstance(m, Module) for m in modules)
        )
        for k, (sources, _label) in enumerate(nodes):
            ok = ok and len(sources) >= 1
            for value, path in sources:
                ok = ok and 0 <= value < n_in + k and all(isinstance(e, int) for e in path)
        for value, path in outputs:
            ok = ok and 0 <= value < n_in + len(nodes) and all(isinstance(e, int) for e in path)
        ok = ok and len(outputs) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ModuleError(
            "nn.gModule",
            f"expected wiring (nInputs, nodes, outputs) over {len(modules)} modules, each node "
            f"reading only inputs and modules before it; got {wiring!r:.200}",
        )
    return (
        n_in,
        tuple((tuple((int(v), tuple(p)) for v, p in s), lab) for s, lab in nodes),
        tuple((int(v), tuple(p)) for v, p in outputs),
    )


class gModule(Module):  # noqa: N801 - Torch7's name
    """nn.gModule(inputs, outputs): a network made of a graph of nodes (nngraph).

    Args:
        inputs: the input node, or a list of them; each made by calling a module on nothing
            (``nn.Identity()()``).
        outputs: the output node, or a list of them.
        modules, wiring: keyword-only, the graph as data (what a checkpoint stores; see the
            module docstring) instead of nodes.

    With one input node the gModule takes one input (an array or a table), with several a list
    of that many; with one output node it returns that output, with several a list. A module
    fed by one node receives that node's output; fed by a list of nodes, the table of their
    outputs. ``node.split(n)`` gives ``n`` nodes for the elements of a table output.

    Example:
        >>> from nets import nn
        >>> x = nn.Identity()()
        >>> net = nn.gModule([x], [nn.Tanh()(nn.Linear(4, 3)(x))])
        >>> net.forward(jnp.ones((2, 4))).shape
        (2, 3)
    """

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        *,
        modules: list | None = None,
        wiring: Any = None,
    ) -> None:
        super().__init__()
        if modules is None and wiring is None:
            if inputs is None or outputs is None:
                raise ModuleError(
                    "nn.gModule",
                    "expected gModule(inputs, outputs) with graph nodes, or "
                    "gModule(modules=..., wiring=...)",
                )
            modules, wiring = _wire(inputs, outputs)
        elif inputs is not None or outputs is not None:
            raise ModuleError(
                "nn.gModule", "expected either nodes (inputs, outputs) or modules and wiring"
            )
        else:
            modules = list(modules or [])
            wiring = _check_wiring(modules, wiring)
        self.modules = list(modules)
        self.wiring = wiring
        self.nInputs = wiring[0]
        # A checkpoint rebuilds the gModule from the data form, not from the nodes.
        self.__dict__["_init_args"] = ((), {"modules": self.modules, "wiring": wiring})

    def propagate(
        self,
        input: Any,
        run: Callable[[int, Any], Any],
        is_table: Callable[[Any], bool] = lambda v: isinstance(v, (list, tuple)),
    ) -> Any:
        """Feed `input` through the graph, ``run(k, x)`` computing module k on its input x.

        `updateOutput` runs the modules; `nets.summary` passes shapes through the same walk.
        """
        n_in, nodes, outputs = self.wiring
        if n_in == 1:
            values = [input]
        elif is_table(input) and len(input) == n_in:
            values = list(input)
        else:
            raise ModuleError(
                self._describe(),
                f"expected a table of {n_in} inputs (one per input node), got {shape_str(input)}",
            )

        def read(where: str, src: Source) -> Any:
            value, path = src
            out = values[value]
            for depth, e in enumerate(path):
                if not is_table(out) or not 0 <= e < len(out):
                    origin = f"input {value}" if value < n_in else f"({value - n_in})"
                    raise ModuleError(
                        self._describe(),
                        f"{where} reads element {e} of {origin}"
                        + (f" (split level {depth})" if depth else "")
                        + f", which is {shape_str(out)}: expected a table of more than {e}",
                    )
                out = out[e]
            return out

        values.extend([None] * len(nodes))
        for k, (sources, _label) in enumerate(nodes):
            args = [read(f"({k})", s) for s in sources]
            values[n_in + k] = run(k, args[0] if len(args) == 1 else args)
        outs = [read("the output", s) for s in outputs]
        return outs[0] if len(outs) == 1 else outs

    def _child(self, index: int, input: Any) -> Any:
        try:
            return self.modules[index]._run(input)
        except ModuleError as e:
            raise e.within(index).with_traceback(None) from e.__cause__

    def updateOutput(self, input: Any) -> Any:
        self.output = self.propagate(input, self._child)
        return self.output

    def __repr__(self) -> str:
        n_in, nodes, outputs = self.wiring

        def name(src: Source) -> str:
            value, path = src
            base = f"input {value}" if value < n_in else f"({value - n_in})"
            return base + "".join(f"[{e}]" for e in path)

        def names(sources: tuple) -> str:
            return (
                name(sources[0]) if len(sources) == 1 else "{" + ", ".join(map(name, sources)) + "}"
            )

        lines = ["nn.gModule {"]
        for k, ((sources, label), m) in enumerate(zip(nodes, self.modules, strict=True)):
            tag = f"({k})" + (f" {label}" if label else "")
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  {tag} <- {names(sources)}: {body}")
        lines.append(f"  output: {names(outputs)}")
        lines.append("}")
        return "\n".join(lines)
