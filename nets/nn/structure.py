"""A module tree's structure as data: its walks, and its description (a hashable value).

Every module carries a private version number, bumped when its own structure changes: a
hyper-parameter set to a new value, an array registered or removed, a child added, an array
shared. A tree's *stamp* is the sequence of its modules with their versions, found by one walk.
Everything below that depends only on the structure is computed once per stamp and kept on the
root (`Tree`): the depth-first module list, path-keyed boxes, and the description.

The description (Flax NNX calls it a graphdef) says, for each module: its path, its class, its
hyper-parameters (every public attribute that is not an array, a result or the training flag),
and the names and kinds of its arrays, with which ones are shared. Two trees with equal
descriptions compute the same function of their arrays, so compiled code is keyed by it
(`nets.nn.compiled`): changing a layer changes the description of the networks that contain it,
and of no other.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from .state import BUFFER, GRAD, PARAM, grad_name

if TYPE_CHECKING:
    from .module import Module

# Attributes that change at run time without changing what the module computes.
RUNTIME_ATTRS = frozenset({"output", "gradInput", "train", "modules"})


def is_module(value: Any) -> bool:
    """Whether `value` is an nn.Module (it holds registered arrays); no import of the class."""
    return "_vars" in getattr(value, "__dict__", {})


def touch(module: Module) -> None:
    """Record a change of `module`'s own structure: trees that contain it are walked anew."""
    d = module.__dict__
    d["_version"] = d.get("_version", 0) + 1


def stamp(root: Module) -> tuple:
    """The modules of the tree under `root`, depth first, each followed by its version."""
    out: list = []
    stack = [root]
    while stack:
        m = stack.pop()
        d = m.__dict__
        out.append(m)
        out.append(d.get("_version", 0))
        children = d.get("modules")
        if children:
            stack.extend(reversed(children))
    return tuple(out)


class Description:
    """A hashable value naming what a module tree computes (see the module docstring).

    Its hash is computed once; equal descriptions compare equal across distinct trees.
    ``entries`` holds one tuple per module: ``(path, class, hyper-parameters, arrays)``.
    """

    __slots__ = ("entries", "_hash")

    def __init__(self, entries: tuple):
        self.entries = entries
        self._hash = hash(entries)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, Description)
            and self._hash == other._hash
            and self.entries == other.entries
        )

    def __repr__(self) -> str:
        lines = []
        for path, cls, hyper, arrays in self.entries:
            name = f"{cls.__module__}.{cls.__qualname__}"
            settings = ", ".join(f"{k}={_show(v)}" for k, v in hyper)
            held = ", ".join(_show_array(a) for a in arrays)
            lines.append(f"{path or '<root>'}: {name}({settings}) [{held}]")
        return "Description(\n  " + "\n  ".join(lines) + "\n)"


def _show(frozen: Any) -> str:
    kind, value = frozen[0], frozen[1]
    if kind in (tuple, list):
        inner = ", ".join(_show(v) for v in value)
        return f"({inner})" if kind is tuple else f"[{inner}]"
    return repr(value)


def _show_array(entry: tuple) -> str:
    name, kind, shared, *aval = entry
    text = f"{name}:{kind}"
    if aval:
        text += f" {aval[0]} {aval[1]}"
    return text + (f" = {shared}" if shared else "")


def freeze(value: Any) -> Hashable:
    """A hashable stand-in for a hyper-parameter value, equal for equal plain values.

    Numbers keep their type (1, 1.0 and True differ), sequences and dicts are frozen
    element-wise, and anything unhashable stands for itself by identity.
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return (type(value), value)
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return (dict, tuple(sorted((repr(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return (frozenset, tuple(sorted(repr(v) for v in value)))
    try:
        hash(value)
    except TypeError:
        return ("id", type(value), id(value))
    if type(value).__hash__ is object.__hash__:  # identity-hashed objects (modules, functions)
        return ("id", type(value), id(value))
    return (type(value), value)


def hyper_parameters(module: Module) -> tuple:
    """``((name, frozen value), ...)`` for every hyper-parameter of `module`, by name."""
    return tuple(
        (k, freeze(v))
        for k, v in sorted(module.__dict__.items())
        if not k.startswith("_") and k not in RUNTIME_ATTRS
    )


class Tree:
    """The walks of one module tree at one stamp (see the module docstring)."""

    __slots__ = ("stamp", "named", "modules", "by_path", "boxes", "grads", "description", "memo")

    def __init__(self, root: Module, stamp_: tuple):
        self.stamp = stamp_
        self.named = list(root.named_modules())
        self.modules = [m for _, m in self.named]
        self.by_path = dict(self.named)
        seen: dict[int, str] = {}
        boxes: dict[str, dict] = {PARAM: {}, BUFFER: {}, GRAD: {}}
        grads: dict = {}
        entries = []
        for path, m in self.named:
            arrays = []
            for name, box in m._vars.items():
                full = f"{path}.{name}" if path else name
                shared = seen.get(id(box))
                if shared is None:
                    seen[id(box)] = full
                    boxes[box.kind][full] = box
                    if box.kind == PARAM:
                        grads[full] = m._vars.get(grad_name(name))
                arrays.append((name, box.kind, shared))
            entries.append((path, type(m), hyper_parameters(m), tuple(arrays)))
        self.boxes = boxes
        self.grads = grads
        self.description = Description(tuple(entries))
        self.memo: dict = {}  # more walks of this stamp, kept by the code that needs them

    def values(self, kind: str) -> dict:
        """Path-keyed current values of the boxes of one kind (each shared box once)."""
        return {k: b.value for k, b in self.boxes[kind].items()}

    def full_description(self) -> Description:
        """The description with each array's shape and dtype (what `Module.describe` gives)."""
        entries = []
        for path, cls, hyper, arrays in self.description.entries:
            m = self.by_path[path]
            with_avals = tuple(
                (
                    name,
                    kind,
                    shared,
                    tuple(m._vars[name].value.shape),
                    str(m._vars[name].value.dtype),
                )
                for name, kind, shared in arrays
            )
            entries.append((path, cls, hyper, with_avals))
        return Description(tuple(entries))


def tree(root: Module) -> Tree:
    """The `Tree` of `root` now: the cached one while the stamp is unchanged."""
    current = stamp(root)
    cached = root.__dict__.get("_tree")
    if cached is not None and cached.stamp == current:
        return cached
    fresh = Tree(root, current)
    root.__dict__["_tree"] = fresh
    return fresh


def training_flags(t: Tree) -> tuple[bool, ...]:
    """Each module's training flag, in tree order: part of what compiled code is keyed by."""
    return tuple(bool(m.__dict__.get("train", True)) for m in t.modules)
