"""Writing ``.t7`` files (see `format`), as ``torch.save`` writes them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..._atomic import write_atomically
from .format import (
    TORCH_NAMES,
    TYPE_BOOLEAN,
    TYPE_NIL,
    TYPE_NUMBER,
    TYPE_STRING,
    TYPE_TABLE,
    TYPE_TORCH,
    T7Error,
    TorchObject,
    element_code,
)
from .modules import module_fields


class _Writer:
    def __init__(self, ascii_: bool):
        self.ascii = ascii_
        self.parts: list[bytes] = []
        self.index: dict[int, int] = {}
        self.keep: list[Any] = []  # the written objects stay alive, so their ids stay unique

    def numbers(self, fmt: str, values: Any) -> None:
        values = np.atleast_1d(np.asarray(values))
        if not self.ascii:
            self.parts.append(np.asarray(values, "<" + fmt).tobytes())
            return
        if fmt in "efd":
            text = " ".join(
                format(float(v), ".17g" if fmt == "d" else ".9g") for v in values.astype(float)
            )
        else:
            text = " ".join(str(int(v)) for v in values)
        self.parts.append(text.encode() + b"\n")

    def chars(self, raw: bytes) -> None:
        self.parts.append(raw + (b"\n" if self.ascii else b""))

    def string(self, text: str) -> None:
        raw = text.encode("utf-8")
        self.numbers("i", len(raw))
        self.chars(raw)

    def reference(self, tag: int, obj: Any) -> bool:
        """Write the tag and the object's index; True if it was written before."""
        self.numbers("i", tag)
        seen = self.index.get(id(obj))
        if seen is not None:
            self.numbers("i", seen)
            return True
        self.index[id(obj)] = len(self.index) + 1
        self.keep.append(obj)
        self.numbers("i", self.index[id(obj)])
        return False

    def write(self, obj: Any, where: str = "<root>") -> None:
        from nets.nn.module import Module

        if obj is None:
            self.numbers("i", TYPE_NIL)
        elif isinstance(obj, (bool, np.bool_)):
            self.numbers("i", TYPE_BOOLEAN)
            self.numbers("i", 1 if obj else 0)
        elif isinstance(obj, (int, float, np.integer, np.floating)):
            self.numbers("i", TYPE_NUMBER)
            self.numbers("d", float(obj))
        elif isinstance(obj, str):
            self.numbers("i", TYPE_STRING)
            self.string(obj)
        elif hasattr(obj, "shape") and hasattr(obj, "dtype"):
            self._tensor(obj, where)
        elif isinstance(obj, (list, tuple)):
            self.table({i + 1: v for i, v in enumerate(obj)}, obj, where)
        elif isinstance(obj, dict):
            self.table(obj, obj, where)
        elif isinstance(obj, Module):
            name, fields = module_fields(obj, where)
            self.torch_object(name, fields, obj, where)
        elif isinstance(obj, TorchObject):
            self.torch_object(obj.torch_class, obj.fields, obj, where)
        else:
            raise T7Error(f"save_t7: {where} is a {type(obj).__name__}, which .t7 cannot hold")

    def table(self, items: dict, identity: Any, where: str) -> None:
        if self.reference(TYPE_TABLE, identity):
            return
        self.numbers("i", len(items))
        for k, v in items.items():
            self.write(k, where)
            self.write(v, f"{where}.{k}")

    def torch_object(self, name: str, fields: Any, identity: Any, where: str) -> None:
        if self.reference(TYPE_TORCH, identity):
            return
        self.string("V 1")
        self.string(name)
        self.write(fields, where)

    def _tensor(self, array: Any, where: str) -> None:
        a = np.asarray(array)
        if a.dtype.name == "bfloat16":
            a = a.astype(np.float32)
        if a.dtype not in TORCH_NAMES:
            raise T7Error(f"save_t7: {where} has dtype {a.dtype}, which Torch7 has no tensor of")
        kind = TORCH_NAMES[a.dtype]
        if self.reference(TYPE_TORCH, array):
            return
        self.string("V 1")
        self.string(f"torch.{kind}Tensor")
        a = np.ascontiguousarray(a)
        self.numbers("i", a.ndim)
        if a.ndim:
            self.numbers("q", a.shape)
            self.numbers("q", [s // a.itemsize for s in a.strides])
        self.numbers("q", 1)
        if a.ndim == 0:
            self.numbers("i", TYPE_NIL)
            return
        storage = object()  # each tensor its own storage: a fresh identity
        self.reference(TYPE_TORCH, storage)
        self.string("V 1")
        self.string(f"torch.{kind}Storage")
        self.numbers("q", a.size)
        flat = a.ravel()
        if a.itemsize == 1 and self.ascii:
            self.chars(flat.tobytes())
        else:
            self.numbers(element_code(a.dtype), flat)


def save_t7(obj: Any, path: str | os.PathLike, ascii: bool = False) -> None:
    """save_t7(obj, path[, ascii]): write `obj` as ``torch.save`` would (binary by default).

    Arrays become Torch tensors of their dtype, dicts and lists tables (lists 1-based, as Lua
    arrays), nets modules Torch7 ``nn`` objects (`NN_CLASSES`' classes), data sets with
    ``data``/``label`` Torch7's ``{data=..., label=...}`` table. The same object written twice
    is stored once, as Torch7 does. Written atomically.
    """
    if hasattr(obj, "data") and hasattr(obj, "label") and not isinstance(obj, dict):
        obj = {"data": np.asarray(obj.data), "label": np.asarray(obj.label)}
    writer = _Writer(ascii)
    writer.write(obj)
    blob = b"".join(writer.parts)
    write_atomically(Path(path), lambda f: f.write(blob))
