"""Torch7's ``.t7`` files (``torch.save``/``torch.load``), binary and ascii, read and written.

The format (torch7's ``File.lua`` and ``generic/Tensor.c``, ``generic/Storage.c``): every object
starts with an int type tag: 0 nil, 1 number (a double), 2 string (int length, bytes), 3 table,
4 Torch object, 5 boolean (an int), 6-8 Lua functions. A table or Torch object comes with an
int reference index; an index seen before stands for that same object (shared references). A
table is an int count of key/value pairs, each an object. A Torch object is a version string
(``"V 1"``), its class name, then its contents: a tensor writes its dimension count, sizes,
strides (longs), storage offset (1-based) and its storage object; a storage writes its element
count and the raw elements; any other class (``nn.Linear``) writes the table of its fields.
Binary files are little-endian with 8-byte longs; ascii files write every scalar or array as
text on its own line.

The reader interprets these tags itself and never runs anything: a Lua function in a file is
refused. Torch tensors come back as NumPy arrays (sharing storages where the file shares them),
tables as dicts (or lists, for Lua arrays), ``nn`` modules as nets modules (`NN_CLASSES`), a
``{data=..., label=...}`` table as a data set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._errors import NetsError

TYPE_NIL, TYPE_NUMBER, TYPE_STRING, TYPE_TABLE, TYPE_TORCH, TYPE_BOOLEAN = 0, 1, 2, 3, 4, 5
TYPE_FUNCTIONS = (6, 7, 8)

# Torch7's tensor and storage classes, by element type.
DTYPES = {
    "Byte": np.uint8,
    "Char": np.int8,
    "Short": np.int16,
    "Int": np.int32,
    "Long": np.int64,
    "Float": np.float32,
    "Double": np.float64,
    "Half": np.float16,
    "Cuda": np.float32,  # torch.CudaTensor: float32, saved from a GPU
    "CudaDouble": np.float64,
}
TORCH_NAMES = {np.dtype(v): k for k, v in DTYPES.items() if not k.startswith("Cuda")}

# Deeper nesting than this is refused (a crafted file would otherwise exhaust the stack).
MAX_DEPTH = 256


class T7Error(NetsError, ValueError):
    """A file that is not a readable ``.t7`` file, or an object that cannot be written to one."""


class TorchObject:
    """A Torch object of a class nets does not map: its class name and its fields."""

    def __init__(self, torch_class: str, fields: Any):
        self.torch_class = torch_class
        self.fields = fields

    def __repr__(self) -> str:
        keys = sorted(self.fields) if isinstance(self.fields, dict) else "?"
        return f"TorchObject({self.torch_class}, fields={keys})"


def element_code(dtype: Any) -> str:
    """The struct code of one element of `dtype` (binary files, little-endian)."""
    dtype = np.dtype(dtype)
    codes = {"f": {2: "e", 4: "f", 8: "d"}, "i": {1: "b", 2: "h", 4: "i", 8: "q"}, "u": {1: "B"}}
    return codes[dtype.kind][dtype.itemsize]
