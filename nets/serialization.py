"""Checkpoints without pickle: ``nets.save(path, module)`` and ``nets.load(path)``.

File layout (one file, safetensors-like)::

    b"NETSCKPT"                 8-byte magic
    <u64 little-endian>         length of the JSON header
    <JSON header>               format version, the architecture, the array table, user metadata
    <raw array bytes>           each array C-ordered, little-endian, at the offset the table gives

The architecture is the JSON tree of `nets.architecture`: for each module its class, the
constructor call that built it, its hyper-parameters and its arrays' names, as plain data, never
code. Loading imports only classes from the ``nets`` package, or classes the caller passes in
``classes=``, and rebuilds each module through its constructor. Arrays are read back bit for
bit. Each array carries a CRC-32, so a damaged file is detected. Writes go to a temporary file in
the same folder that replaces the target with ``os.replace`` only when complete, so a crash
mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

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

from . import architecture
from .nn.module import Module

MAGIC = b"NETSCKPT"
VERSION = 2  # 2: modules rebuilt through their constructors; 1 is still read
ALIGN = 64
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


# ---------------------------------------------------------------------- version 1 files


def _legacy_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_legacy_value(v) for v in value]
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(_legacy_value(v) for v in value["tuple"])
        if "dict" in value:
            return {k: _legacy_value(v) for k, v in value["dict"].items()}
    return value


def _build_legacy(node: dict, path: str, arrays: dict, classes: Mapping[str, type]) -> Module:
    """A module from a version-1 file, which recorded no constructor call: the instance is made
    without its constructor and given the stored attributes and arrays. Version 2 files (all
    that this nets writes) are rebuilt through constructors (`nets.architecture`)."""
    cls = architecture.resolve_class(node["class"], classes)
    module = cls.__new__(cls)
    Module.__init__(module)
    for key, value in node["attrs"].items():
        if isinstance(value, dict) and "array" in value:
            setattr(module, key, np.array(arrays[value["array"]]))
        else:
            setattr(module, key, _legacy_value(value))
    children = [
        _build_legacy(child, f"{path}.{i}" if path else str(i), arrays, classes)
        for i, child in enumerate(node["modules"])
    ]
    if node.get("container"):
        module.modules = children
    for var in node["vars"]:
        full = f"{path}.{var['name']}" if path else var["name"]
        if var["kind"] == "param" and "shared" not in var:
            module.register_parameter(var["name"], np.array(arrays[full]))
        elif var["kind"] == "buffer" and "shared" not in var:
            module.register_buffer(var["name"], np.array(arrays[full]))
    return module


def _legacy_sharing(root: Module, node: dict) -> None:
    by_path = dict(root.named_modules())

    def walk(n: dict, p: str) -> None:
        for var in n["vars"]:
            if "shared" in var:
                owner_path, _, owner_name = var["shared"].rpartition(".")
                by_path[p].share_array(var["name"], by_path[owner_path], owner_name)
        for i, child in enumerate(n["modules"]):
            walk(child, f"{p}.{i}" if p else str(i))

    walk(node, "")


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
        try:
            tree = architecture.describe(module, "", all_arrays, {})
        except architecture.ArchitectureError as error:
            raise CheckpointError(str(error)) from None
    for name, value in (arrays or {}).items():
        all_arrays[f"extra:{name}"] = value
    table, blobs = _array_table(all_arrays)
    header = {
        "format": "nets-checkpoint",
        "version": VERSION,
        "module": tree,
        "arrays": table,
        "meta": _meta_json(meta),
    }
    _write(Path(path), header, table, blobs)


def read_header(path: str | os.PathLike) -> dict:
    """The JSON header of a checkpoint (its format, architecture and array table), unchecked."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[len(MAGIC) : len(MAGIC) + 8])
    return json.loads(data[len(MAGIC) + 8 : len(MAGIC) + 8 + n])


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
    if header.get("format") != "nets-checkpoint" or header.get("version") not in (1, VERSION):
        raise CheckpointError(
            f"load: {path} has format {header.get('format')!r} version {header.get('version')!r}; "
            f"this nets reads nets-checkpoint versions 1 and {VERSION}"
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
        try:
            if header["version"] == 1:
                module = _build_legacy(header["module"], "", arrays, classes)
                _legacy_sharing(module, header["module"])
            else:
                module = architecture.build(header["module"], "", arrays, classes)
                architecture.join_shared(module, header["module"])
        except architecture.ArchitectureError as error:
            raise CheckpointError(f"{error} (in {path})") from None
    extra = {k[len("extra:") :]: v for k, v in arrays.items() if k.startswith("extra:")}
    return Checkpoint(module, extra, _legacy_value(header["meta"]))


def _meta_json(meta: Mapping[str, Any] | None) -> Any:
    def refuse(value: Any) -> str:
        raise CheckpointError("save: meta holds an array; pass arrays in `arrays`")

    try:
        return architecture.encode(dict(meta or {}), "meta", refuse, [])
    except architecture.ArchitectureError as error:
        raise CheckpointError(str(error)) from None


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
