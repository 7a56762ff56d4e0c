"""Checkpoints without pickle: ``nets.save(path, module)`` and ``nets.load(path)``.

File layout (one file, safetensors-like)::

    b"NETSCKPT"                 8-byte magic
    <u32 little-endian>         length of the JSON header (with its padding)
    <u32 little-endian>         CRC-32 of the JSON header (version 3; 0 in versions 1 and 2, whose
                                two words read as one u64 length)
    <JSON header>               format version, the architecture, the array table, user metadata
    <raw array bytes>           each array C-ordered, little-endian, at the offset the table gives

The architecture is the JSON tree of `nets.architecture`: for each module its class, the
constructor call that built it, its hyper-parameters and its arrays' names, as plain data, never
code. Loading imports only classes from the ``nets`` package, or classes the caller passes in
``classes=``, and rebuilds each module through its constructor. Arrays are read back bit for
bit. The header and each array carry a CRC-32, so a damaged file is detected; a malformed header
(a missing key, a wrong type, nesting deeper than `MAX_DEPTH`) raises `CheckpointError` naming
the place. An array referenced many times is read once. Writes go to a temporary file in the
same folder (``.<name>.<pid>.<random>.tmp``) that replaces the target with ``os.replace`` only
when complete, so a crash mid-save leaves the previous checkpoint intact; the temporary files
of a killed save are removed by the next save to the same path.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jax
import jax.numpy as jnp
import numpy as np

from . import architecture
from ._atomic import write_atomically
from .nn.module import Module

MAGIC = b"NETSCKPT"
# 3: a CRC-32 of the header; 2: modules rebuilt through their constructors; 1 and 2 still read
VERSION = 3
ALIGN = 64
MAX_DEPTH = 100  # JSON nesting levels a header may have (the zoo's deepest needs about 20)
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


def _build_legacy(node: dict, path: str, arrays: Any, classes: Mapping[str, type]) -> Module:
    """A module from a version-1 file, which recorded no constructor call: the instance is made
    without its constructor and given the stored attributes and arrays. Version 2 files (all
    that this nets writes) are rebuilt through constructors (`nets.architecture`)."""
    cls = architecture.resolve_class(node["class"], classes)
    module = architecture.without_constructor(cls)
    for key, value in node["attrs"].items():
        if isinstance(value, dict) and "array" in value:
            setattr(module, key, arrays.device(value["array"], f"attribute {key!r} of {path}"))
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
            module.register_parameter(var["name"], arrays.device(full, f"module {path}"))
        elif var["kind"] == "buffer" and "shared" not in var:
            module.register_buffer(var["name"], arrays.device(full, f"module {path}"))
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


def header_block(header: dict) -> bytes:
    """Magic, header length and CRC, and the JSON header padded so the data starts aligned."""
    header_bytes = json.dumps(header).encode("utf-8")
    header_bytes += b" " * (-(len(MAGIC) + 8 + len(header_bytes)) % ALIGN)
    crc = zlib.crc32(header_bytes) if header.get("version", VERSION) >= 3 else 0
    return MAGIC + struct.pack("<II", len(header_bytes), crc) + header_bytes


def _write(path: Path, header: dict, table: dict, blobs: list[np.ndarray]) -> None:
    block = header_block(header)
    base = len(block)
    total = max((e["offset"] + e["nbytes"] for e in table.values()), default=0)

    def write(f: BinaryIO) -> None:
        f.write(block)
        _write_arrays(f, table, blobs, base)
        f.truncate(base + total)

    write_atomically(path, write)


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
    """The JSON header of a checkpoint (its format, architecture and array table), checked
    (magic, length, CRC, JSON, nesting) but not its arrays."""
    path = Path(path)
    data = path.read_bytes()
    return _parse_header(path, memoryview(data))[0]


def _parse_header(path: Path, data: memoryview) -> tuple[dict, int]:
    """``(header, offset of the array data)``; every failure is a `CheckpointError`."""
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise CheckpointError(
            f"load: {path} is not a nets checkpoint (starts with {bytes(data[:8])!r}, expected "
            f"{MAGIC!r})"
        )
    if len(data) < len(MAGIC) + 8:
        raise CheckpointError(f"load: {path} is truncated (no header length)")
    n, crc = struct.unpack("<II", data[len(MAGIC) : len(MAGIC) + 8])
    base = len(MAGIC) + 8 + n
    if base > len(data):
        raise CheckpointError(f"load: {path} is truncated inside its header (or its length is bad)")
    raw = data[len(MAGIC) + 8 : base]
    checked = zlib.crc32(raw) == crc
    if not checked and crc != 0:
        raise CheckpointError(f"load: {path} is corrupt: its header fails its checksum")
    _check_depth(path, raw)
    try:
        header = json.loads(bytes(raw))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"load: {path} has a corrupt header ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(
            f"load: {path}: the header is a {type(header).__name__}, not an object"
        )
    version = header.get("version")
    if header.get("format") != "nets-checkpoint" or version not in (1, 2, VERSION):
        raise CheckpointError(
            f"load: {path} has format {header.get('format')!r} version {version!r}; "
            f"this nets reads nets-checkpoint versions 1 to {VERSION}"
        )
    if version >= 3 and not checked:  # (a CRC of 0 read as "none", or a flipped version)
        raise CheckpointError(f"load: {path} is corrupt: its header fails its checksum")
    for key, kinds in (("arrays", dict), ("module", (dict, type(None)))):
        if not isinstance(header.get(key, _ABSENT), kinds):
            raise CheckpointError(f"load: {path}: the header's {key!r} is missing or malformed")
    return header, base


_ABSENT = object()


def _check_depth(path: Path, raw: memoryview) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before parsing it (brackets outside strings)."""
    depth = 0
    in_string = escaped = False
    for byte in bytes(raw):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                raise CheckpointError(
                    f"load: {path}: the header is nested deeper than {MAX_DEPTH} levels"
                )
        elif byte in (0x5D, 0x7D):
            depth -= 1


def _check_entry(path: Path, name: str, e: Any, size: int) -> tuple[int, int]:
    """``(start, end)`` of a valid array table entry, relative to the data."""
    where = f"load: {path}: array {name!r}"
    if not isinstance(e, dict):
        raise CheckpointError(f"{where}: its table entry is a {type(e).__name__}, not an object")
    for key, kind in (
        ("dtype", str),
        ("shape", list),
        ("offset", int),
        ("nbytes", int),
        ("crc32", int),
    ):
        if not isinstance(e.get(key), kind) or isinstance(e.get(key), bool):
            raise CheckpointError(f"{where}: {key!r} is missing or not a {kind.__name__}")
    if e["dtype"] not in _DTYPES:
        raise CheckpointError(f"{where} has unknown dtype {e['dtype']}")
    shape = e["shape"]
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise CheckpointError(f"{where}: shape {shape} is not a list of sizes")
    itemsize = np.dtype(jnp.dtype(e["dtype"])).itemsize
    if e["offset"] < 0 or e["nbytes"] != math.prod(shape) * itemsize:
        raise CheckpointError(
            f"{where}: {e['nbytes']} bytes at offset {e['offset']} do not hold a {e['dtype']} "
            f"array of shape {tuple(shape)}"
        )
    start, end = e["offset"], e["offset"] + e["nbytes"]
    if end > size:
        raise CheckpointError(
            f"load: {path} is truncated: array {name!r} needs bytes {start}..{end} of the data, "
            f"the file holds {size}"
        )
    return start, end


class _Arrays(Mapping):
    """The file's arrays, each read (and copied off the file's bytes) once, however many times
    the header refers to it: a header cannot make a load cost more than the file holds."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._raw = arrays
        self._host: dict[str, np.ndarray] = {}
        self._device: dict[str, Any] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._host:
            self._host[name] = np.array(self._raw[name])
        return self._host[name]

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def device(self, name: Any, where: str) -> Any:
        """The array as one jax.Array, shared by every reference (JAX arrays are immutable)."""
        if not isinstance(name, str) or name not in self._raw:
            raise architecture.ArchitectureError(
                f"load: {where} refers to array {name!r}, not in the file"
            )
        if name not in self._device:
            from .nn.state import to_array

            self._device[name] = to_array(self[name])
        return self._device[name]


def read_checkpoint(
    path: str | os.PathLike, classes: Iterable[type] | Mapping[str, type] = ()
) -> Checkpoint:
    """Read a checkpoint written by `write_checkpoint` (or `save`), checking every byte."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    data = memoryview(path.read_bytes())  # slices of a memoryview copy nothing
    header, base = _parse_header(path, data)
    arrays: dict[str, np.ndarray] = {}
    for name, e in header["arrays"].items():
        start, end = _check_entry(path, name, e, len(data) - base)
        raw = data[base + start : base + end]
        if zlib.crc32(raw) != e["crc32"]:
            raise CheckpointError(f"load: {path} is corrupt: array {name!r} fails its checksum")
        dtype = jnp.dtype(e["dtype"]).newbyteorder("<")
        arrays[name] = np.frombuffer(raw, dtype).reshape(e["shape"])
    if not isinstance(classes, Mapping):
        classes = {f"{c.__module__}.{c.__qualname__}": c for c in classes}
    module = None
    once = _Arrays(arrays)
    if header["module"] is not None:
        try:
            if header["version"] == 1:
                module = _build_legacy(header["module"], "", once, classes)
                _legacy_sharing(module, header["module"])
            else:
                module = architecture.build(header["module"], "", once, classes)
                architecture.join_shared(module, header["module"])
        except architecture.ArchitectureError as error:
            raise CheckpointError(f"{error} (in {path})") from None
        except CheckpointError:
            raise
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
            raise CheckpointError(
                f"load: {path}: a malformed module tree ({type(error).__name__}: {error})"
            ) from None
    extra = {k[len("extra:") :]: once[k] for k in arrays if k.startswith("extra:")}
    meta = header.get("meta", {})
    if not isinstance(meta, dict):
        raise CheckpointError(f"load: {path}: the header's 'meta' is not an object")
    return Checkpoint(module, extra, _legacy_value(meta))


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
