"""MNIST in its idx format (plain or gzipped), http://yann.lecun.com/exdb/mnist/.

An idx file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the data, big-endian, in C order.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from ._files import DataFileError, find, read_bytes
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


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """The array stored in idx-format `data` (already gunzipped)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise DataFileError(
            f"{source}: not an idx file: magic bytes {data[:4].hex() or 'missing'}, expected "
            "00 00 <type 08/09/0b/0c/0d/0e> <ndim>"
        )
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"{source}: truncated idx header ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataFileError(
            f"{source}: idx header says shape {shape} ({expected} bytes of data), but the file "
            f"holds {len(data) - header}; the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """read_idx(path): the array in an idx file, plain or gzipped (by content, not by name)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no file at {path}")
    return parse_idx(read_bytes(path), str(path))


def mnist(root: str | os.PathLike, split: str = "train") -> TensorDataset:
    """mnist(root[, split]): MNIST's 'train' (60000) or 'test' (10000) split from `root`.

    Looks for ``train-images-idx3-ubyte`` and the labels file, each plain or with ``.gz``.
    Inputs are float32 ``(N, 1, 28, 28)`` in [0, 1]; targets int32 class indices 0..9.
    """
    if split not in FILES:
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}")
    images_name, labels_name = FILES[split]
    images = read_idx(find(root, [images_name, images_name + ".gz"], "mnist", URL))
    labels = read_idx(find(root, [labels_name, labels_name + ".gz"], "mnist", URL))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataFileError(
            f"mnist: expected images (N, H, W) and labels (N,), got {images.shape} and "
            f"{labels.shape} in {root}"
        )
    inputs = (images.astype(np.float32) / 255.0)[:, None]
    return TensorDataset(inputs, labels.astype(np.int32))
