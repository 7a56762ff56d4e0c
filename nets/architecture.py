"""A module tree as JSON and back, rebuilt through its public constructors.

What a checkpoint stores of a network (`nets.serialization` stores the arrays beside it):

    {"class": "nets.nn.convolution.SpatialConvolution",
     "args": [3, 6, 5, 5], "kwargs": {},          the constructor call that built it
     "attrs": {"padW": 0, ...},                   its hyper-parameters now
     "train": true,
     "arrays": [{"name": "weight", "kind": "param"}, ...],
     "modules": [...]}                            its children, the same way

Every value is plain data (numbers, strings, booleans, None, lists, tuples, string-keyed dicts);
an array among the constructor's arguments is stored in the array table, and a module among
them is a reference to one of the children. Loading imports only classes from the ``nets``
package, or classes the caller passes, and calls each constructor again under
``nets.shape_only()`` (so nothing is drawn), then sets the hyper-parameters that changed after
construction, puts the children in place and writes the arrays: never code from the file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np

from . import _random
from .nn.module import Module
from .nn.state import BUFFER, GRAD, PARAM, grad_name, is_abstract, zeros_like
from .nn.structure import RUNTIME_ATTRS


class ArchitectureError(ValueError):
    """A module tree that cannot be stored, or a stored one that cannot be rebuilt."""


_MISSING = object()


# ---------------------------------------------------------------------- values


def encode(value: Any, where: str, store: Callable[[Any], str], children: list) -> Any:
    """`value` as JSON: plain data as itself (tuples and dicts tagged), an array as a
    reference into the array table (`store` files it), a child module as its index."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (jax.Array, np.ndarray)):
        return {"array": store(value)}
    if isinstance(value, Module):
        for i, child in enumerate(children):
            if child is value:
                return {"child": i}
        raise ArchitectureError(
            f"save: {where} is a module that is not one of the children of its owner; "
            "a checkpoint stores modules only as children (in `modules`)"
        )
    if isinstance(value, tuple):
        return {"tuple": [encode(v, where, store, children) for v in value]}
    if isinstance(value, list):
        return [encode(v, where, store, children) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, where, store, children) for k, v in value.items()}}
    raise ArchitectureError(
        f"save: {where} holds a {type(value).__name__}, which a checkpoint cannot store; "
        "expected numbers, strings, booleans, None, lists, tuples, dicts, arrays or child modules"
    )


def decode(
    value: Any, arrays: Mapping[str, np.ndarray], children: list, where: str, device: bool = False
) -> Any:
    """The value `encode` wrote (arrays from the table, children by index). With `device`, an
    array comes as the one jax.Array the table keeps for it (`nets.serialization` reads each
    array once)."""
    if isinstance(value, list):
        return [decode(v, arrays, children, where, device) for v in value]
    if not isinstance(value, dict):
        return value
    if "tuple" in value:
        items = value["tuple"]
        if not isinstance(items, list):
            raise ArchitectureError(f"load: {where} holds a malformed tuple")
        return tuple(decode(v, arrays, children, where, device) for v in items)
    if "dict" in value:
        items = value["dict"]
        if not isinstance(items, dict):
            raise ArchitectureError(f"load: {where} holds a malformed dict")
        return {k: decode(v, arrays, children, where, device) for k, v in items.items()}
    if "array" in value:
        name = value["array"]
        if not isinstance(name, str) or name not in arrays:
            raise ArchitectureError(f"load: {where} refers to array {name!r}, not in the file")
        if device and hasattr(arrays, "device"):  # one jax.Array, however often it is used
            return arrays.device(name, where)
        return arrays[name] if hasattr(arrays, "device") else np.array(arrays[name])
    if "child" in value:
        index = value["child"]
        if not isinstance(index, int) or not 0 <= index < len(children):
            raise ArchitectureError(f"load: {where} refers to child {index!r}, which is not there")
        return children[index]
    raise ArchitectureError(f"load: {where} holds an unknown value {sorted(value)}")


# ---------------------------------------------------------------------- tree to JSON


def describe(module: Module, path: str, arrays: dict, seen: dict) -> dict:
    """The JSON node of `module` and its children; arrays go into `arrays` by name, shared
    arrays once (`seen` maps an array's box to its first path)."""
    cls = type(module)
    children = module.children()
    who = f"module {path or '<root>'} ({module._describe()})"

    def store(prefix: str) -> Callable[[Any], str]:
        def put(value: Any) -> str:
            name = f"{prefix}:{path}.{len(arrays)}"
            arrays[name] = value
            return name

        return put

    recorded = module.__dict__.get("_init_args")  # None: made without its constructor
    args, kwargs = recorded if recorded is not None else ((), {})
    node: dict[str, Any] = {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "args": [
            encode(a, f"argument {i} of {who}", store("arg"), children) for i, a in enumerate(args)
        ],
        "kwargs": {
            k: encode(v, f"argument {k!r} of {who}", store("arg"), children)
            for k, v in kwargs.items()
        },
        "attrs": {},
        "train": bool(module.train),
        "arrays": [],
    }
    if recorded is None:
        node["args"] = node["kwargs"] = None
    for key, value in module.__dict__.items():
        if key.startswith("_") or key in RUNTIME_ATTRS:
            continue
        node["attrs"][key] = encode(value, f"attribute {key!r} of {who}", store("attr"), [])
    for name, (kind, box_id, value) in module.own_arrays().items():
        full = f"{path}.{name}" if path else name
        entry = {"name": name, "kind": kind}
        if box_id in seen:
            entry["shared"] = seen[box_id]
        else:
            seen[box_id] = full
            if kind != GRAD:  # gradients are not stored: they load as zeros
                arrays[full] = value
        node["arrays"].append(entry)
    node["container"] = "modules" in module.__dict__
    node["modules"] = [
        describe(child, f"{path}.{i}" if path else str(i), arrays, seen)
        for i, child in enumerate(children)
    ]
    return node


# ---------------------------------------------------------------------- JSON to tree


def resolve_class(name: str, classes: Mapping[str, type]) -> type:
    """The class a node names: one the caller allowed, or one of the nets package."""
    if name in classes:
        return classes[name]
    module_name, _, attr = name.rpartition(".")
    if not (module_name == "nets" or module_name.startswith("nets.")):
        raise ArchitectureError(
            f"load: the checkpoint uses class {name}, which is outside the nets package; pass it "
            f"explicitly: nets.load(path, classes=[{attr}])"
        )
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise ArchitectureError(f"load: the checkpoint uses unknown class {name}") from error
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ArchitectureError(f"load: {name} is not an nn.Module class")
    return cls


_NODE_KEYS = (
    ("class", str),
    ("args", list),
    ("kwargs", dict),
    ("attrs", dict),
    ("arrays", list),
    ("container", bool),
    ("modules", list),
)


def _check_node(node: Any, path: str) -> None:
    """Refuse a node of the wrong shape, naming its place, before anything reads it."""
    where = f"load: module {path or '<root>'}"
    if not isinstance(node, dict):
        raise ArchitectureError(f"{where} is a {type(node).__name__}, not an object")
    for key, kind in _NODE_KEYS:
        if key in ("args", "kwargs") and node.get("args") is None and node.get(key) is None:
            continue  # a module made without its constructor (see `build`)
        if not isinstance(node.get(key), kind):
            raise ArchitectureError(
                f"{where}: {key!r} is missing or not a {kind.__name__} "
                f"(got {type(node.get(key)).__name__})"
            )
    for key in node["attrs"]:
        if key.startswith("_") or key in RUNTIME_ATTRS:
            raise ArchitectureError(f"{where}: attribute {key!r} is not a hyper-parameter")
    for i, entry in enumerate(node["arrays"]):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("kind"), str)
            and isinstance(entry.get("shared", ""), str)
        ):
            raise ArchitectureError(f"{where}: array entry {i} is malformed: {entry!r:.80}")


def without_constructor(cls: type) -> Module:
    """An instance of `cls` made without calling its constructor (what a version-1 checkpoint
    holds): a bare Module, which records no constructor call, so it is saved that way again."""
    module = cls.__new__(cls)
    Module.__init__(module)
    del module.__dict__["_init_args"]
    return module


def build(node: dict, path: str, arrays: Mapping, classes: Mapping[str, type]) -> Module:
    """The module a node describes, with its arrays (shared ones are joined by `join_shared`)."""
    _check_node(node, path)
    cls = resolve_class(node["class"], classes)
    who = f"module {path or '<root>'} ({cls.__name__})"
    children = [
        build(child, f"{path}.{i}" if path else str(i), arrays, classes)
        for i, child in enumerate(node["modules"])
    ]
    if node["args"] is None:
        # Saved from a module made without its constructor (one loaded from a version-1
        # file): made the same way again, its attributes and arrays set below.
        module = without_constructor(cls)
    else:
        args = decode(node["args"], arrays, children, who)
        kwargs = decode({"dict": node["kwargs"]}, arrays, children, who)
        try:
            with _random.shape_only():
                module = cls(*args, **kwargs)
        except Exception as error:
            raise ArchitectureError(
                f"load: rebuilding {who} with its recorded arguments failed: "
                f"{type(error).__name__}: {error}"
            ) from error
    if node["container"] and module.children() != children:
        module.modules = children
    for key, value in node["attrs"].items():
        value = decode(value, arrays, [], f"attribute {key!r} of {who}", device=True)
        if not _equal(getattr(module, key, _MISSING), value):
            try:
                setattr(module, key, value)
            except Exception as error:
                raise ArchitectureError(
                    f"load: {who}: attribute {key!r} cannot be set: {type(error).__name__}: {error}"
                ) from None
    module.train = bool(node.get("train", True))
    _put_arrays(module, node["arrays"], path, arrays, who)
    return module


def _equal(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # arrays and the like: set them again
        return False


def _put_arrays(module: Module, entries: list, path: str, arrays: Mapping, who: str) -> None:
    """Write the stored arrays into `module`: registered as the file says, those the rebuilt
    module has and the file lacks removed, gradients zeroed."""
    stored = {e["name"]: e for e in entries}
    for name, (kind, _, _) in module.own_arrays().items():
        if kind != GRAD and name not in stored:
            module.unregister(name)
    for name, entry in stored.items():
        if "shared" in entry or entry["kind"] == GRAD:
            continue
        full = f"{path}.{name}" if path else name
        if full not in arrays:
            raise ArchitectureError(f"load: {who} lacks its array {name!r} in the file")
        value = arrays.device(full, who) if hasattr(arrays, "device") else np.array(arrays[full])
        current = module.own_arrays().get(name)
        if current is not None and current[0] == entry["kind"]:
            setattr(module, name, value)
        elif entry["kind"] == PARAM:
            module.register_parameter(name, value)
        elif entry["kind"] == BUFFER:
            module.register_buffer(name, value)
        else:
            raise ArchitectureError(
                f"load: {who}: array {name!r} has unknown kind {entry['kind']!r}"
            )
    for name, (kind, _, value) in module.own_arrays().items():
        if kind == PARAM and not is_abstract(value):
            setattr(module, grad_name(name), zeros_like(value))


def join_shared(root: Module, node: dict) -> None:
    """Point every array stored as shared back at its owner's array."""
    by_path = dict(root.named_modules())

    def walk(n: dict, p: str) -> None:
        module = by_path[p]
        for entry in n["arrays"]:
            if "shared" in entry:
                owner_path, _, owner_name = entry["shared"].rpartition(".")
                if owner_path not in by_path or owner_name not in by_path[owner_path]._vars:
                    raise ArchitectureError(
                        f"load: array {entry['name']!r} of module {p or '<root>'} is shared with "
                        f"{entry['shared']!r}, which is not in the file"
                    )
                module.share_array(entry["name"], by_path[owner_path], owner_name)
        for i, child in enumerate(n["modules"]):
            walk(child, f"{p}.{i}" if p else str(i))

    walk(node, "")
    for path, module in root.named_modules():
        owned = module.own_arrays()
        for name, (kind, _, value) in owned.items():
            if kind == PARAM and is_abstract(owned.get(grad_name(name), (0, 0, None))[2]):
                if not is_abstract(value):  # the gradient of a shared parameter: zeros too
                    setattr(module, grad_name(name), zeros_like(value))
        for name, (_, _, value) in module.own_arrays().items():
            if is_abstract(value):
                raise ArchitectureError(
                    f"load: module {path or '<root>'} ({module._describe()}) has no value for "
                    f"its array {name!r} in the file"
                )
