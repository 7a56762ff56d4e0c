"""Checkpoints without pickle: ``nets.save(path, module)`` and ``nets.load(path)``.

File layout (one file, safetensors-like)::

    b"NETSCKPT"                 8-byte magic
    <u64 little-endian>         length of the JSON header
    <JSON header>               format version, the architecture, the array table, user metadata
    <raw array bytes>           each array C-ordered, little-endian, at the offset the table gives

The architecture is a tree of ``{"class": "nets.nn.simple.Linear", "attrs": {...}, "vars":
[...], "modules": [...]}``: class names and plain hyper-parameters (numbers, strings, booleans,
lists, tuples), never code. Loading imports only classes from the ``nets`` package, or classes the
caller passes in ``classes=``, and rebuilds each module without calling its constructor. Arrays are
read back bit for bit. Each array carries a CRC-32, so a damaged file is detected. Writes go to a
temporary file in the same folder that replaces the target with ``os.replace`` only when complete,
so a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jax
import jax.numpy as jnp
import numpy as np

from .nn.module import Module
from .nn.structure import touch

MAGIC = b"NETSCKPT"
VERSION = 1
ALIGN = 64
_SKIP_ATTRS = frozenset({"output", "gradInput", "modules"})
_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
}


class CheckpointError(ValueError):
    """A file that is not a nets checkpoint, or a damaged one, or one naming a class not allowed."""


@dataclass
class Checkpoint:
    """What a checkpoint file holds: the module, extra named arrays and JSON metadata."""

    module: Module | None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- architecture to JSON


def _json_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [_json_value(v, where) for v in value]}
    if isinstance(value, list):
        return [_json_value(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _json_value(v, where) for k, v in value.items()}}
    raise CheckpointError(
        f"save: {where} holds a {type(value).__name__}, which a checkpoint cannot store; "
        "expected numbers, strings, booleans, None, lists, tuples, dicts or arrays"
    )


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(_from_json(v) for v in value["tuple"])
        if "dict" in value:
            return {k: _from_json(v) for k, v in value["dict"].items()}
        if "array" in value:
            return value  # resolved by the caller
    return value


def _describe_module(module: Module, path: str, arrays: dict, seen: dict) -> dict:
    cls = type(module)
    node: dict[str, Any] = {"class": f"{cls.__module__}.{cls.__qualname__}", "attrs": {}}
    for key, value in module.__dict__.items():
        if key.startswith("_") or key in _SKIP_ATTRS:
            continue
        where = f"attribute {key!r} of module {path or '<root>'} ({module._describe()})"
        if isinstance(value, (jax.Array, np.ndarray)):
            name = f"attr:{path}.{key}" if path else f"attr:{key}"
            arrays[name] = value
            node["attrs"][key] = {"array": name}
        else:
            node["attrs"][key] = _json_value(value, where)
    node["vars"] = []
    for name, box in module._vars.items():
        full = f"{path}.{name}" if path else name
        entry = {"name": name, "kind": box.kind}
        if id(box) in seen:
            entry["shared"] = seen[id(box)]
        else:
            seen[id(box)] = full
            if box.kind != "grad":
                arrays[full] = box.value
        node["vars"].append(entry)
    node["container"] = "modules" in module.__dict__
    node["modules"] = [
        _describe_module(child, f"{path}.{i}" if path else str(i), arrays, seen)
        for i, child in enumerate(module.children())
    ]
    return node


def _resolve_class(name: str, classes: Mapping[str, type]) -> type:
    if name in classes:
        return classes[name]
    module_name, _, attr = name.rpartition(".")
    if not (module_name == "nets" or module_name.startswith("nets.")):
        raise CheckpointError(
            f"load: the checkpoint uses class {name}, which is outside the nets package; pass it "
            f"explicitly: nets.load(path, classes=[{attr}])"
        )
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise CheckpointError(f"load: the checkpoint uses unknown class {name}") from error
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise CheckpointError(f"load: {name} is not an nn.Module class")
    return cls


def _build_module(node: dict, path: str, arrays: dict, classes: Mapping[str, type]) -> Module:
    cls = _resolve_class(node["class"], classes)
    module = cls.__new__(cls)
    Module.__init__(module)
    for key, value in node["attrs"].items():
        value = _from_json(value)
        if isinstance(value, dict) and "array" in value:
            value = jnp.asarray(arrays[value["array"]])
        object.__setattr__(module, key, value)
    children = [
        _build_module(child, f"{path}.{i}" if path else str(i), arrays, classes)
        for i, child in enumerate(node["modules"])
    ]
    if node.get("container"):
        object.__setattr__(module, "modules", children)
    for var in node["vars"]:
        full = f"{path}.{var['name']}" if path else var["name"]
        if var["kind"] == "param" and "shared" not in var:
            module.register_parameter(var["name"], jnp.asarray(arrays[full]))
        elif var["kind"] == "buffer" and "shared" not in var:
            module.register_buffer(var["name"], jnp.asarray(arrays[full]))
    return module


def _restore_sharing(root: Module, node: dict, path: str = "") -> None:
    """Point shared boxes (saved once, referenced by path) back at the same box."""
    by_path = dict(root.named_modules())

    def walk(n: dict, p: str) -> None:
        module = by_path[p]
        for var in n["vars"]:
            if "shared" in var:
                owner_path, _, owner_name = var["shared"].rpartition(".")
                owner = by_path[owner_path]
                module._vars[var["name"]] = owner._vars[owner_name]
        for i, child in enumerate(n["modules"]):
            walk(child, f"{p}.{i}" if p else str(i))

    walk(node, path)
    for m in by_path.values():  # their trees changed: walk them anew
        touch(m)


# ---------------------------------------------------------------------- file format


def _array_table(arrays: Mapping[str, Any]) -> tuple[dict, list[np.ndarray]]:
    table: dict[str, Any] = {}
    blobs: list[np.ndarray] = []
    offset = 0
    for name, value in arrays.items():
        a = np.asarray(jax.device_get(value))
        dtype = a.dtype.name
        if dtype not in _DTYPES:
            raise CheckpointError(f"save: array {name!r} has dtype {dtype}, not storable")
        # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        a = np.require(a.astype(a.dtype.newbyteorder("<"), copy=False), requirements="C")
        table[name] = {
            "dtype": dtype,
            "shape": list(a.shape),
            "offset": offset,
            "nbytes": a.nbytes,
            "crc32": zlib.crc32(a.tobytes()),
        }
        blobs.append(a)
        offset += -(-a.nbytes // ALIGN) * ALIGN
    return table, blobs


def _write_arrays(f: BinaryIO, table: dict, blobs: list[np.ndarray], base: int) -> None:
    for entry, a in zip(table.values(), blobs, strict=True):
        f.seek(base + entry["offset"])
        f.write(a.tobytes())


def _write(path: Path, header: dict, table: dict, blobs: list[np.ndarray]) -> None:
    header_bytes = json.dumps(header).encode("utf-8")
    # pad the header so the data starts aligned
    pad = -(len(MAGIC) + 8 + len(header_bytes)) % ALIGN
    header_bytes += b" " * pad
    base = len(MAGIC) + 8 + len(header_bytes)
    total = max((e["offset"] + e["nbytes"] for e in table.values()), default=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + struct.pack("<Q", len(header_bytes)) + header_bytes)
            _write_arrays(f, table, blobs, base)
            f.truncate(base + total)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_checkpoint(
    path: str | os.PathLike,
    module: Module | None,
    arrays: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write `module` (may be None), extra named `arrays` and JSON-able `meta` atomically."""
    all_arrays: dict[str, Any] = {}
    tree = None
    if module is not None:
        if not isinstance(module, Module):
            raise TypeError(f"save: expected an nn.Module, got {type(module).__name__}")
        tree = _describe_module(module, "", all_arrays, {})
    for name, value in (arrays or {}).items():
        all_arrays[f"extra:{name}"] = value
    table, blobs = _array_table(all_arrays)
    header = {
        "format": "nets-checkpoint",
        "version": VERSION,
        "module": tree,
        "arrays": table,
        "meta": _json_value(dict(meta or {}), "meta"),
    }
    _write(Path(path), header, table, blobs)


def read_checkpoint(
    path: str | os.PathLike, classes: Iterable[type] | Mapping[str, type] = ()
) -> Checkpoint:
    """Read a checkpoint written by `write_checkpoint` (or `save`), checking every byte."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    data = path.read_bytes()
    if data[: len(MAGIC)] != MAGIC:
        raise CheckpointError(
            f"load: {path} is not a nets checkpoint (starts with {data[:8]!r}, expected {MAGIC!r})"
        )
    if len(data) < len(MAGIC) + 8:
        raise CheckpointError(f"load: {path} is truncated (no header length)")
    (n,) = struct.unpack("<Q", data[len(MAGIC) : len(MAGIC) + 8])
    base = len(MAGIC) + 8 + n
    if base > len(data):
        raise CheckpointError(f"load: {path} is truncated inside its header")
    try:
        header = json.loads(data[len(MAGIC) + 8 : base])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"load: {path} has a corrupt header ({error})") from error
    if header.get("format") != "nets-checkpoint" or header.get("version") != VERSION:
        raise CheckpointError(
            f"load: {path} has format {header.get('format')!r} version {header.get('version')!r}; "
            f"this nets reads nets-checkpoint version {VERSION}"
        )
    arrays: dict[str, np.ndarray] = {}
    for name, e in header["arrays"].items():
        start, end = base + e["offset"], base + e["offset"] + e["nbytes"]
        if end > len(data):
            raise CheckpointError(
                f"load: {path} is truncated: array {name!r} needs bytes {start}..{end}, the file "
                f"has {len(data)}"
            )
        if e["dtype"] not in _DTYPES:
            raise CheckpointError(f"load: {path}: array {name!r} has unknown dtype {e['dtype']}")
        raw = data[start:end]
        if zlib.crc32(raw) != e["crc32"]:
            raise CheckpointError(f"load: {path} is corrupt: array {name!r} fails its checksum")
        dtype = jnp.dtype(e["dtype"]).newbyteorder("<")
        arrays[name] = np.frombuffer(raw, dtype).reshape(e["shape"])
    if not isinstance(classes, Mapping):
        classes = {f"{c.__module__}.{c.__qualname__}": c for c in classes}
    module = None
    if header["module"] is not None:
        module = _build_module(header["module"], "", arrays, classes)
        _restore_sharing(module, header["module"])
    extra = {k[len("extra:") :]: v for k, v in arrays.items() if k.startswith("extra:")}
    return Checkpoint(module, extra, _from_json(header["meta"]))


def save(path: str | os.PathLike, module: Module) -> None:
    """save(path, module): write the module's architecture and arrays to `path`, atomically.

    Example:
        >>> import nets, tempfile, os
        >>> from nets import nn
        >>> net = nn.Sequential().add(nn.Linear(3, 2)).add(nn.ReLU())
        >>> path = os.path.join(tempfile.mkdtemp(), "net.nets")
        >>> nets.save(path, net)
        >>> nets.load(path)
        nn.Sequential {
          [input -> (0) -> (1) -> output]
          (0): nn.Linear(3 -> 2)
          (1): nn.ReLU
        }
    """
    write_checkpoint(path, module)


def load(path: str | os.PathLike, classes: Iterable[type] | Mapping[str, type] = ()) -> Module:
    """load(path[, classes]): the module saved at `path`, arrays bit-identical.

    Args:
        path: a file written by ``nets.save``.
        classes: your own Module subclasses the file may use (only ``nets`` classes otherwise).

    Raises:
        CheckpointError: not a checkpoint, truncated, corrupt, or a class not allowed.
    """
    checkpoint = read_checkpoint(path, classes)
    if checkpoint.module is None:
        raise CheckpointError(f"load: {path} holds no module")
    return checkpoint.module
