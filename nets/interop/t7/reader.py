"""Reading ``.t7`` files (see `format`): every tag interpreted here, nothing ever run."""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .format import (
    DTYPES,
    MAX_DEPTH,
    TYPE_BOOLEAN,
    TYPE_FUNCTIONS,
    TYPE_NIL,
    TYPE_NUMBER,
    TYPE_STRING,
    TYPE_TABLE,
    TYPE_TORCH,
    T7Error,
    TorchObject,
    element_code,
)
from .modules import NN_CLASSES


class _Reader:
    """The primitive reads of one file, binary or ascii, each checked against its end."""

    def __init__(self, data: bytes, path: str, ascii_: bool):
        self.data, self.path, self.ascii, self.pos = data, path, ascii_, 0

    def fail(self, what: str) -> T7Error:
        return T7Error(f"load_t7: {self.path}, byte {self.pos}: {what}")

    def _need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"{what} needs {n} bytes; the file ends at byte {len(self.data)}")

    def _token(self) -> bytes:
        while self.pos < len(self.data) and self.data[self.pos] in b" \t\r\n":
            self.pos += 1
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] not in b" \t\r\n":
            self.pos += 1
        if start == self.pos:
            raise self.fail("a number was expected; the file ends here")
        return self.data[start : self.pos]

    def _end_line(self) -> None:
        if self.pos < len(self.data) and self.data[self.pos : self.pos + 1] == b"\n":
            self.pos += 1

    def numbers(self, fmt: str, n: int, dtype: Any) -> np.ndarray:
        """`n` numbers of struct format `fmt` (binary) or text (ascii), as `dtype`."""
        if not self.ascii:
            size = struct.calcsize("<" + fmt)
            self._need(n * size, f"{n} values of {np.dtype(dtype).name}")
            out = np.frombuffer(self.data, "<" + fmt, n, self.pos).astype(dtype)
            self.pos += n * size
            return out
        values = []
        for _ in range(n):
            token = self._token()
            try:
                values.append(float(token) if np.dtype(dtype).kind == "f" else int(token))
            except ValueError:
                raise self.fail(f"expected a number, found {token[:20]!r}") from None
        self._end_line()
        return np.array(values, dtype)

    def int(self) -> int:
        return int(self.numbers("i", 1, np.int64)[0])

    def long(self) -> int:
        return int(self.numbers("q", 1, np.int64)[0])

    def double(self) -> float:
        return float(self.numbers("d", 1, np.float64)[0])

    def chars(self, n: int) -> bytes:
        self._need(n, "a string")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        if self.ascii:
            self._end_line()
        return out

    def raw(self, dtype: Any, n: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype.itemsize == 1 and self.ascii:  # bytes and chars are raw in ascii files too
            return np.frombuffer(self.chars(n), dtype).copy()
        return self.numbers(element_code(dtype), n, dtype)


class _Loader:
    """readObject, over a `_Reader`, with the file's shared references."""

    def __init__(self, reader: _Reader, convert: bool):
        self.r = reader
        self.objects: dict[int, Any] = {}
        self.convert = convert

    def read(self, depth: int = 0) -> Any:
        r = self.r
        if depth > MAX_DEPTH:
            raise r.fail(f"objects nested deeper than {MAX_DEPTH}")
        start = r.pos
        tag = r.int()
        if tag == TYPE_NIL:
            return None
        if tag == TYPE_NUMBER:
            value = r.double()
            return int(value) if value.is_integer() and abs(value) < 2**53 else value
        if tag == TYPE_BOOLEAN:
            return r.int() == 1
        if tag == TYPE_STRING:
            return self._string()
        if tag in TYPE_FUNCTIONS:
            r.pos = start
            raise r.fail("a Lua function (bytecode): nets never runs code from a file")
        if tag not in (TYPE_TABLE, TYPE_TORCH):
            r.pos = start
            raise r.fail(f"unknown type tag {tag} (expected 0 to 5)")
        index = r.int()
        if index in self.objects:
            return self.objects[index]
        if tag == TYPE_TABLE:
            return self._table(index, depth)
        return self._torch(index, depth)

    def _string(self) -> str:
        n = self.r.int()
        return self.r.chars(n).decode("utf-8", errors="replace")

    def _table(self, index: int, depth: int) -> Any:
        out: dict = {}
        self.objects[index] = out
        n = self.r.int()
        if n < 0:
            raise self.r.fail(f"a table of {n} entries")
        for _ in range(n):
            key = self.read(depth + 1)
            value = self.read(depth + 1)
            if isinstance(key, (dict, list, np.ndarray, TorchObject)):
                key = id(key)  # Lua allows any key; Python needs a hashable one
            out[key] = value
        if (
            out
            and all(isinstance(k, int) for k in out)
            and sorted(out) == list(range(1, len(out) + 1))
        ):
            as_list = [out[k] for k in range(1, len(out) + 1)]
            self.objects[index] = as_list
            return as_list
        return out

    def _torch(self, index: int, depth: int) -> Any:
        r = self.r
        version = self._string()
        name = self._string() if version.startswith("V ") else version
        kind, _, cls = name.partition(".")
        if kind == "torch" and cls.endswith("Storage") and cls[:-7] in DTYPES:
            dtype = DTYPES[cls[:-7]]
            n = r.long()
            if n < 0 or (not r.ascii and n * np.dtype(dtype).itemsize > len(r.data) - r.pos):
                raise r.fail(f"a {name} of {n} elements; the file holds fewer bytes")
            array = r.raw(dtype, n)
            self.objects[index] = array
            return array
        if kind == "torch" and cls.endswith("Tensor") and cls[:-6] in DTYPES:
            return self._tensor(index, name, DTYPES[cls[:-6]], depth)
        if self.convert and name not in NN_CLASSES:
            raise r.fail(
                f"class {name} has no nets counterpart: map it with "
                f"nets.interop.t7.register({name!r}, build), build(fields) -> module, or read "
                "the file with load_t7(path, convert=False) to get TorchObjects"
            )
        fields = self.read(depth + 1)
        obj = TorchObject(name, fields)
        if self.convert:
            try:
                obj = NN_CLASSES[name](fields if isinstance(fields, dict) else {})
            except (KeyError, TypeError, ValueError) as error:
                raise r.fail(
                    f"{name} could not be converted ({type(error).__name__}: {error})"
                ) from None
        self.objects[index] = obj
        return obj

    def _tensor(self, index: int, name: str, dtype: Any, depth: int) -> np.ndarray:
        r = self.r
        ndim = r.int()
        if not 0 <= ndim <= 64:
            raise r.fail(f"a {name} of {ndim} dimensions")
        sizes = [int(v) for v in r.numbers("q", ndim, np.int64)] if ndim else []
        strides = [int(v) for v in r.numbers("q", ndim, np.int64)] if ndim else []
        offset = r.long() - 1
        storage = self.read(depth + 1)
        if ndim == 0 or storage is None:
            tensor = np.zeros((0,), dtype)
        else:
            if not isinstance(storage, np.ndarray):
                raise r.fail(f"the storage of a {name} is a {type(storage).__name__}")
            if any(s < 0 for s in sizes) or any(s < 0 for s in strides) or offset < 0:
                raise r.fail(f"a {name} with sizes {sizes}, strides {strides}")
            last = offset + sum((n - 1) * s for n, s in zip(sizes, strides, strict=True))
            if math.prod(sizes) and last >= storage.size:
                raise r.fail(
                    f"a {name} of sizes {sizes} and strides {strides} reaches element {last} of "
                    f"a storage of {storage.size}"
                )
            item = storage.itemsize
            tensor = np.lib.stride_tricks.as_strided(
                storage[offset:], sizes, [s * item for s in strides], writeable=False
            )
        self.objects[index] = tensor
        return tensor


def load_t7(path: str | os.PathLike, convert: bool = True) -> Any:
    """load_t7(path[, convert]): what ``torch.save`` wrote to `path` (binary or ascii).

    Tensors come back as NumPy arrays, tables as dicts or lists, strings, numbers and booleans
    as themselves. With `convert` (the default), ``nn`` modules become nets modules and a
    ``{data=..., label=...}`` table a data set with ``ds.data``/``ds.label``; without it, every
    Torch object is a `TorchObject`.

    Raises:
        T7Error: naming the byte where the file is truncated, malformed, holds a Lua function
            or a class nets does not know (`TorchObject` keeps those when `convert` is off).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_t7: no file at {path}")
    data = path.read_bytes()
    ascii_ = _looks_ascii(data)
    obj = _Loader(_Reader(data, str(path), ascii_), convert).read()
    if convert and isinstance(obj, dict) and "data" in obj and "label" in obj:
        return _dataset(obj)
    return obj


def _looks_ascii(data: bytes) -> bool:
    """A binary file starts with an int tag (b'\\x04\\x00\\x00\\x00'); an ascii one with digits."""
    head = data[:16].split(b"\n", 1)[0]
    return head.strip().isdigit() and len(data) > len(head)


def _dataset(table: dict) -> Any:
    from nets.data import TensorDataset

    return TensorDataset(np.asarray(table["data"]), np.asarray(table["label"]))
