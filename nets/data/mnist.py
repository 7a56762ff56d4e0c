"""MNIST in its idx format (plain or gzipped), http://yann.lecun.com/exdb/mnist/.

An idx file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the data, big-endian, in C order.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from ._files import Content, DataFileError, find
from .datasets import TensorDataset

URL = "http://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)"

# idx type code -> big-endian NumPy dtype
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _magic(magic: bytes, source: str) -> tuple[np.dtype, int]:
    """The element type and the number of dimensions an idx file's 4 magic bytes give."""
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES:
        raise DataFileError(
            f"{source}: not an idx file: magic bytes {bytes(magic[:4]).hex() or 'missing'}, "
            "expected 00 00 <type 08/09/0b/0c/0d/0e> <ndim>"
        )
    return IDX_TYPES[magic[2]], magic[3]


def _data_bytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize  # Python ints: no int64 wrap-around


def _array(data: bytearray | bytes, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    array = np.frombuffer(data, dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """The array stored in idx-format `data` (already gunzipped)."""
    dtype, ndim = _magic(data[:4], source)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"{source}: truncated idx header ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = _data_bytes(shape, dtype)
    if len(data) - header != expected:
        raise DataFileError(
            f"{source}: idx header says shape {shape} ({expected} bytes of data), but the file "
            f"holds {len(data) - header}; the file is truncated or corrupt"
        )
    return _array(memoryview(data)[header:], dtype, shape)


def read_idx(path: str | os.PathLike, who: str = "read_idx") -> np.ndarray:
    """read_idx(path): the array in an idx file, plain or gzipped (by content, not by name).

    The sizes the header declares are checked against what the file can hold before the data
    is read, and the data is gunzipped in bounded pieces: a small file whose header lies costs
    no more than the file.
    """
    with Content(path, who) as content:
        source = f"{who}: {content.path}"
        dtype, ndim = _magic(content.read(min(4, content.most), "the idx magic"), source)
        shape = struct.unpack(f">{ndim}I", content.read(4 * ndim, f"the idx header ({ndim} sizes)"))
        expected = _data_bytes(shape, dtype)
        what = f"the idx data (header: shape {shape} of {dtype.name})"
        data = content.read(expected, what)
        content.end(what)
    return _array(data, dtype, shape)


def mnist(root: str | os.PathLike, split: str = "train") -> TensorDataset:
    """mnist(root[, split]): MNIST's 'train' (60000) or 'test' (10000) split from `root`.

    Looks for ``train-images-idx3-ubyte`` and the labels file, each plain or with ``.gz``.
    Inputs are float32 ``(N, 1, 28, 28)`` in [0, 1]; targets int32 class indices 0..9.
    """
    if split not in FILES:
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}")
    images_name, labels_name = FILES[split]
    images_path = find(root, [images_name, images_name + ".gz"], "mnist", URL)
    labels_path = find(root, [labels_name, labels_name + ".gz"], "mnist", URL)
    images = read_idx(images_path, "mnist")
    labels = read_idx(labels_path, "mnist")
    for path, array, ndim, what in (
        (images_path, images, 3, "(N, H, W)"),
        (labels_path, labels, 1, "(N,)"),
    ):
        if array.dtype != np.uint8 or array.ndim != ndim:
            raise DataFileError(
                f"mnist: {path} holds a {array.dtype} array of shape {array.shape}; expected "
                f"unsigned bytes (idx type 08) of shape {what}"
            )
    if len(images) != len(labels):
        raise DataFileError(
            f"mnist: {images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; expected as many of each"
        )
    wrong = np.flatnonzero(labels > 9)
    if wrong.size:
        raise DataFileError(
            f"mnist: {labels_path}: label {labels[wrong[0]]} at index {wrong[0]} "
            f"({wrong.size} labels outside 0..9 in all); expected class indices 0..9"
        )
    inputs = images.astype(np.float32)[:, None]
    inputs /= 255.0
    return TensorDataset(inputs, labels.astype(np.int32))
