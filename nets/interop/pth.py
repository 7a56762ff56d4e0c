"""PyTorch's ``.pth``/``.pt`` files (``torch.save``'s zip format), read without torch.

The file is a zip archive: ``<name>/data.pkl`` is a pickle of the saved object, and each tensor's
storage is a raw little-endian entry ``<name>/data/<key>``. The pickle names its storages by
persistent ids ``('storage', torch.FloatStorage, key, location, numel)`` and rebuilds tensors with
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``. Both are interpreted here,
by the restricted pickle reader of `nets.data._pickle`, together with ``collections.OrderedDict``:
nothing is imported and no other global is allowed, so a ``.pth`` that names anything else is
refused with the global it names.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import StateDictError
from ..data._files import GZIP_MAX_RATIO, DataFileError, regular
from ..data._pickle import Extensions, read_pickle

# torch.<Kind>Storage -> element type
STORAGES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_MAX_ENTRIES = 100_000


def read_pth(path: str | os.PathLike) -> Any:
    """The object ``torch.save`` wrote to `path`, tensors as NumPy arrays (a state dict: a dict
    of arrays by parameter name)."""
    path = Path(path)
    try:
        regular(path, "read_pth")  # a FIFO would block the zip reader
    except DataFileError as error:
        raise StateDictError(str(error)) from None
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise StateDictError(
            f"read_pth: {path} is not a zip archive; PyTorch's files since 1.6 are (an older "
            "file, saved with _use_new_zipfile_serialization=False, is not read)"
        ) from None
    with archive:
        names = archive.namelist()
        if len(names) > _MAX_ENTRIES:
            raise StateDictError(f"read_pth: {path} has {len(names)} entries; refused")
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise StateDictError(
                f"read_pth: {path} holds {len(pickles)} data.pkl entries, expected one "
                f"(entries: {names[:8]}{' ...' if len(names) > 8 else ''})"
            )
        prefix = pickles[0][: -len("data.pkl")]
        storages: dict[str, np.ndarray] = {}

        def storage(pid: Any) -> np.ndarray:
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                raise ValueError(f"persistent id {pid!r} is not a storage")
            _, kind, key, _location, numel = pid
            kind = getattr(kind, "key", (None, None))[1]  # the global torch.<Kind>Storage
            if kind not in STORAGES or not isinstance(numel, int) or numel < 0:
                raise ValueError(f"storage {key!r} of type {kind!r} and {numel!r} elements")
            if key not in storages:
                entry = f"{prefix}data/{key}"
                try:
                    info = archive.getinfo(entry)
                except KeyError:
                    raise ValueError(f"storage {key!r}: the archive has no {entry}") from None
                dtype = np.dtype(STORAGES[kind]).newbyteorder("<")
                if info.file_size > GZIP_MAX_RATIO * max(info.compress_size, 1):
                    raise ValueError(
                        f"storage {key!r}: {info.compress_size} compressed bytes in the archive "
                        f"inflate to {info.file_size}, more than {GZIP_MAX_RATIO} times; refused "
                        "(PyTorch stores storages uncompressed)"
                    )
                if info.file_size != numel * dtype.itemsize:
                    raise ValueError(
                        f"storage {key!r}: {info.file_size} bytes in the archive for {numel} "
                        f"elements of {dtype.name}"
                    )
                storages[key] = np.frombuffer(archive.read(entry), dtype)
            return storages[key]

        # tensors are copied out of their storages: all of them together may not cost more
        # than twice the file (a stride of 0 would make 8 GB of one stored float)
        budget = [2 * path.stat().st_size + (1 << 20)]

        def rebuild(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> np.ndarray:
            nbytes = math.prod(int(s) for s in size) * getattr(storage, "itemsize", 0)
            budget[0] -= nbytes
            if budget[0] < 0:
                raise ValueError(
                    f"tensor of size {tuple(size)} and stride {tuple(stride)} ({nbytes} bytes) "
                    f"takes the tensors past twice the file's {path.stat().st_size} bytes; "
                    "refused"
                )
            return _rebuild_tensor(storage, offset, size, stride, *rest)

        calls: dict = {
            ("collections", "OrderedDict"): lambda *args: dict(*args),
            ("torch._utils", "_rebuild_tensor_v2"): rebuild,
            ("torch._utils", "_rebuild_parameter"): lambda data, *_: data,
            # storage types: named in the storages' ids, never called
            **{("torch", name): _not_called(name) for name in STORAGES},
        }
        data = archive.read(pickles[0])
        try:
            extensions = Extensions(calls=calls, persistent_load=storage, build=_build)
            return read_pickle(data, f"{path}:{pickles[0]}", extensions)
        except DataFileError as error:
            raise StateDictError(f"read_pth: {error}") from None


def _build(value: Any, state: Any) -> Any:
    """BUILD on a state dict: its ``_metadata`` (module versions) is dropped; nothing else may
    have a state set."""
    if isinstance(value, dict) and isinstance(state, dict) and set(state) <= {"_metadata"}:
        return value
    raise ValueError(f"the pickle sets the state of a {type(value).__name__}; not allowed")


def _not_called(name: str):
    def refuse(*args: Any) -> Any:
        raise ValueError(f"torch.{name} is a storage type, not something to call")

    return refuse


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> np.ndarray:
    if not isinstance(storage, np.ndarray):
        raise ValueError("_rebuild_tensor_v2 without a storage")
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if any(s < 0 for s in size + stride) or int(offset) < 0:
        raise ValueError(f"tensor of size {size}, stride {stride}, offset {offset}")
    if math.prod(size):
        last = int(offset) + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= storage.size:
            raise ValueError(
                f"tensor of size {size} and stride {stride} reaches element {last} of a "
                f"storage of {storage.size}"
            )
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[int(offset) :], size, [s * item for s in stride], writeable=False
    )
    return np.array(view)
