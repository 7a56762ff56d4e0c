"""Torchnet's IndexedDataset: archives of arrays in Torchnet's on-disk format, read and written.

An archive is a pair of files (torchnet/dataset/indexeddataset.lua):

- the **index** (``.idx``): little-endian int64 words: the magic ``0x584449544E54``
  ("TNTIDX"), the version 1, the element type code (1 byte/uint8, 2 char/int8, 3 short/int16,
  4 int/int32, 5 long/int64, 6 float/float32, 7 double/float64, 8 table), the element size in
  bytes, N (the number of arrays), S (their total number of dimensions), then ``dimoffsets``
  (N+1 words: where each array's sizes start in ``sizes``), ``datoffsets`` (N+1 words: where
  each array's elements start in the data file, in elements) and ``sizes`` (S words);
- the **data** (``.bin``): the arrays' elements, one after another, in C order.

Type 8 (``table``) holds serialized Lua objects; reading them would mean running a Lua
deserializer on the file's bytes, so it is refused. Indices are 0-based here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._files import DataFileError
from .datasets import Dataset

MAGIC = 0x584449544E54
VERSION = 1
TYPES = {
    "byte": (1, np.dtype("u1")),
    "char": (2, np.dtype("i1")),
    "short": (3, np.dtype("<i2")),
    "int": (4, np.dtype("<i4")),
    "long": (5, np.dtype("<i8")),
    "float": (6, np.dtype("<f4")),
    "double": (7, np.dtype("<f8")),
}
_BY_CODE = {code: (name, dtype) for name, (code, dtype) in TYPES.items()}
_WORD = 8
_HEADER = 6  # words before the offsets


class IndexedDatasetWriter:
    """IndexedDatasetWriter(indexfilename, datafilename, type): write an archive.

    ``add(array)`` appends an array (cast to `type`: byte, char, short, int, long, float or
    double); ``close()`` writes the index, and must be called (or use ``with``).
    """

    def __init__(
        self, indexfilename: str | os.PathLike, datafilename: str | os.PathLike, type: str
    ):  # noqa: A002 (Torchnet's name)
        if type not in TYPES:
            raise ValueError(
                f"IndexedDatasetWriter: type should be one of {', '.join(TYPES)}, got {type!r}"
                + (" (Lua tables are not supported)" if type == "table" else "")
            )
        self.indexfilename = Path(indexfilename)
        self.datafilename = Path(datafilename)
        self.type = type
        self.dtype = TYPES[type][1]
        self.dimoffsets = [0]
        self.datoffsets = [0]
        self.sizes: list[int] = []
        self.datafile = open(self.datafilename, "wb")  # noqa: SIM115 (closed by close())

    def add(self, array: Any) -> None:
        """Append `array` to the archive."""
        a = np.ascontiguousarray(np.asarray(array), dtype=self.dtype)
        self.dimoffsets.append(self.dimoffsets[-1] + a.ndim)
        self.datoffsets.append(self.datoffsets[-1] + a.size)
        self.sizes.extend(a.shape)
        self.datafile.write(a.tobytes())

    def close(self) -> None:
        """Write the index and close the archive."""
        n = len(self.dimoffsets) - 1
        header = [MAGIC, VERSION, TYPES[self.type][0], self.dtype.itemsize, n, len(self.sizes)]
        words = np.asarray(header + self.dimoffsets + self.datoffsets + self.sizes, "<i8")
        self.indexfilename.write_bytes(words.tobytes())
        self.datafile.close()

    def __enter__(self) -> IndexedDatasetWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class IndexedDatasetReader:
    """IndexedDatasetReader(indexfilename, datafilename[, mmap][, mmapidx]): read an archive.

    ``size()`` is the number of arrays, ``get(i)`` array ``i`` (0-based), read from the file, or
    from a memory map of the data with `mmap` (``mmapidx`` maps the index; both are checked
    the same way). Every inconsistency of the files is a `DataFileError` naming the file and the
    byte offset.
    """

    def __init__(
        self,
        indexfilename: str | os.PathLike,
        datafilename: str | os.PathLike,
        mmap: bool = False,
        mmapidx: bool = False,
    ):
        self.indexfilename = Path(indexfilename)
        self.datafilename = Path(datafilename)
        self._read_index(mmapidx)
        self._check_data()
        mapped = mmap and self.datoffsets[-1] > 0  # NumPy cannot map an empty file
        count = (int(self.datoffsets[-1]),)
        self.data = np.memmap(self.datafilename, self.dtype, "r", shape=count) if mapped else None

    def _read_index(self, mmapidx: bool) -> None:
        path = self.indexfilename
        if not path.is_file():
            raise FileNotFoundError(f"IndexedDataset: index file {path} not found")
        size = path.stat().st_size
        if size % _WORD or size < _HEADER * _WORD:
            raise DataFileError(
                f"{path}: an index is int64 words, at least {_HEADER} of them (a 48-byte header); "
                f"the file has {size} bytes"
            )
        words = np.memmap(path, "<i8", "r") if mmapidx else np.fromfile(path, "<i8")
        magic, version, code, elsize, n, s = (int(w) for w in words[:_HEADER])
        if magic != MAGIC:
            raise DataFileError(
                f"{path}: unrecognized index format at byte 0: expected the magic number "
                f"0x{MAGIC:X} (TNTIDX), got 0x{magic & (2**64 - 1):X}"
            )
        if version != VERSION:
            raise DataFileError(
                f"{path}: unsupported format version {version} at byte 8; expected 1"
            )
        if code == 8:
            raise DataFileError(
                f"{path}: element type 8 (Lua table) at byte 16: serialized Lua objects are not "
                "read (only arrays of numbers)"
            )
        if code not in _BY_CODE:
            raise DataFileError(
                f"{path}: unrecognized element type code {code} at byte 16; expected 1 to 7"
            )
        self.typename, self.dtype = _BY_CODE[code]
        if elsize != self.dtype.itemsize:
            raise DataFileError(
                f"{path}: element size {elsize} at byte 24 does not match type "
                f"{self.typename!r} ({self.dtype.itemsize} bytes)"
            )
        want = _HEADER + 2 * (n + 1) + s if n >= 0 and s >= 0 else -1
        if want != len(words):
            raise DataFileError(
                f"{path}: N = {n} (byte 32) and S = {s} (byte 40) call for {want * _WORD} bytes "
                f"of index, the file has {size}"
            )
        self.N, self.S = n, s
        self.dimoffsets = np.asarray(words[_HEADER : _HEADER + n + 1])
        self.datoffsets = np.asarray(words[_HEADER + n + 1 : _HEADER + 2 * n + 2])
        self.sizes = np.asarray(words[_HEADER + 2 * n + 2 :])
        base = _HEADER * _WORD
        for name, offsets, start, last in (
            ("dimoffsets", self.dimoffsets, base, s),
            ("datoffsets", self.datoffsets, base + (n + 1) * _WORD, None),
        ):
            steps = np.diff(offsets)
            bad = np.flatnonzero(steps < 0)
            if offsets[0] != 0 or bad.size:
                k = 0 if offsets[0] != 0 else int(bad[0]) + 1
                raise DataFileError(
                    f"{path}: {name}[{k}] = {int(offsets[k])} at byte {start + k * _WORD} "
                    f"breaks the order (offsets start at 0 and never decrease)"
                )
            if last is not None and offsets[-1] != last:
                raise DataFileError(
                    f"{path}: {name}[{n}] = {int(offsets[-1])} at byte {start + n * _WORD}; "
                    f"expected S = {last}"
                )
        bad = np.flatnonzero(self.sizes < 0)
        if bad.size:
            k = int(bad[0])
            raise DataFileError(
                f"{path}: sizes[{k}] = {int(self.sizes[k])} at byte "
                f"{base + (2 * n + 2 + k) * _WORD} is negative"
            )
        for i in range(n):
            shape = self.sizes[self.dimoffsets[i] : self.dimoffsets[i + 1]]
            count = int(np.prod(shape)) if shape.size else 0
            given = int(self.datoffsets[i + 1] - self.datoffsets[i])
            if count != given:
                raise DataFileError(
                    f"{path}: array {i} has sizes {tuple(int(v) for v in shape)} ({count} "
                    f"elements) but datoffsets gives it {given} (at byte "
                    f"{base + (n + 1 + i) * _WORD})"
                )

    def _check_data(self) -> None:
        path = self.datafilename
        if not path.is_file():
            raise FileNotFoundError(f"IndexedDataset: data file {path} not found")
        need = int(self.datoffsets[-1]) * self.dtype.itemsize
        have = path.stat().st_size
        if have < need:
            raise DataFileError(
                f"{path}: truncated: the index {self.indexfilename} needs {need} bytes of "
                f"{self.typename} data, the file ends at byte {have}"
            )

    def size(self) -> int:
        """The number of arrays in the archive."""
        return self.N

    def get(self, index: int) -> np.ndarray:
        """Array `index` (0-based)."""
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"IndexedDatasetReader: index must be an int, got {index!r}")
        if not 0 <= index < self.N:
            raise IndexError(f"IndexedDatasetReader: index {index} out of range [0, {self.N})")
        shape = tuple(
            int(v) for v in self.sizes[self.dimoffsets[index] : self.dimoffsets[index + 1]]
        )
        start, stop = int(self.datoffsets[index]), int(self.datoffsets[index + 1])
        if not shape:
            return np.zeros(0, self.dtype)  # Torch7's empty tensor
        if self.data is not None:
            return np.array(self.data[start:stop]).reshape(shape)
        with open(self.datafilename, "rb") as f:
            f.seek(start * self.dtype.itemsize)
            return np.fromfile(f, self.dtype, stop - start).reshape(shape)


class IndexedDataset(Dataset):
    """IndexedDataset(fields[, path][, maxload][, mmap][, mmapidx][, standalone]): Torchnet's.

    With `path`, `fields` is a list of names and field ``f`` lives in ``path/f.idx`` and
    ``path/f.bin``; without, `fields` maps each name to ``{'idx': ..., 'bin': ...}``. Every field
    must hold as many arrays; `maxload` (> 0) keeps only the first ones. ``ds[i]`` is the tuple
    of the fields' arrays ``i`` in the order given (``['input', 'target']`` gives the
    ``(input, target)`` samples the iterators expect), or the one array with `standalone`;
    ``ds.get(i)`` is Torchnet's table, a dict by field name.
    """

    def __init__(
        self,
        fields: Sequence[str] | Mapping[str, Mapping[str, str]],
        path: str | os.PathLike | None = None,
        maxload: int | None = None,
        mmap: bool = False,
        mmapidx: bool = False,
        standalone: bool = False,
    ):
        if path is not None:
            if isinstance(fields, Mapping) or not all(isinstance(f, str) for f in fields):
                raise ValueError("IndexedDataset: with a path, fields should be a list of names")
            files = {f: (Path(path) / f"{f}.idx", Path(path) / f"{f}.bin") for f in fields}
        else:
            if not isinstance(fields, Mapping) or not all(
                isinstance(v, Mapping) and "idx" in v and "bin" in v for v in fields.values()
            ):
                raise ValueError(
                    "IndexedDataset: without a path, fields should map each name to "
                    "{'idx': index file, 'bin': data file}"
                )
            files = {f: (v["idx"], v["bin"]) for f, v in fields.items()}
        if not files:
            raise ValueError("IndexedDataset: fields should not be empty")
        if standalone and len(files) != 1:
            raise ValueError("IndexedDataset: standalone expects exactly one field")
        self.fields = {f: IndexedDatasetReader(i, b, mmap, mmapidx) for f, (i, b) in files.items()}
        sizes = {f: r.size() for f, r in self.fields.items()}
        if len(set(sizes.values())) > 1:
            raise DataFileError(
                f"IndexedDataset: the fields hold different numbers of arrays: {sizes}"
            )
        n = next(iter(sizes.values()))
        self._size = min(n, maxload) if maxload and maxload > 0 else n
        self.standalone = standalone

    def __len__(self) -> int:
        return self._size

    def get(self, index: int) -> dict[str, np.ndarray]:
        """Torchnet's sample: a dict from field name to its array `index`."""
        i = self._index(index)
        return {f: r.get(i) for f, r in self.fields.items()}

    def __getitem__(self, index: int) -> Any:
        i = self._index(index)
        if self.standalone:
            return next(iter(self.fields.values())).get(i)
        return tuple(r.get(i) for r in self.fields.values())
