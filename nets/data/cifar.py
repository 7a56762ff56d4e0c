"""CIFAR-10 and CIFAR-100, binary and python versions, https://www.cs.toronto.edu/~kriz/cifar.html.

Binary version: fixed-size records, ``<label> <3072 pixel bytes>`` for CIFAR-10 and
``<coarse label> <fine label> <3072 pixel bytes>`` for CIFAR-100; pixels are 1024 red, 1024
green, 1024 blue, each row-major 32x32. Python version: pickled dicts with ``data`` (N x 3072
uint8) and ``labels`` / ``fine_labels`` / ``coarse_labels``, read here by the restricted reader in
``_pickle.py`` (no code from the file is ever run).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._files import DataFileError, find, read_bytes
from ._pickle import read_pickle
from .datasets import TensorDataset

URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
PIXELS = 3 * 32 * 32

# version -> split -> file names, relative to the folder the archive unpacks to
FILES = {
    ("cifar10", "binary"): {
        "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
        "test": ["test_batch.bin"],
    },
    ("cifar10", "python"): {
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
    },
    ("cifar100", "binary"): {"train": ["train.bin"], "test": ["test.bin"]},
    ("cifar100", "python"): {"train": ["train"], "test": ["test"]},
}


def read_binary(path: str | os.PathLike, label_bytes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N, label_bytes)`` from a binary batch file."""
    path = Path(path)
    data = read_bytes(path)
    record = label_bytes + PIXELS
    if len(data) == 0 or len(data) % record:
        raise DataFileError(
            f"{path}: {len(data)} bytes is not a whole number of {record}-byte CIFAR records "
            f"({label_bytes} label byte(s) + {PIXELS} pixels); the file is truncated or not "
            "a CIFAR binary batch"
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, record)
    return records[:, label_bytes:].reshape(-1, 3, 32, 32), records[:, :label_bytes]


def read_python(path: str | os.PathLike) -> dict:
    """The dict in a python-version batch file, keys as str, read without unpickling code."""
    path = Path(path)
    value = read_pickle(read_bytes(path), str(path))
    if not isinstance(value, dict):
        raise DataFileError(f"{path}: expected a pickled dict, got {type(value).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in value.items()}


def _python_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = read_python(path)
    if "data" not in batch or label_key not in batch:
        raise DataFileError(
            f"{path}: expected keys 'data' and {label_key!r}, found {sorted(batch)}"
        )
    data = np.asarray(batch["data"], np.uint8)
    labels = np.asarray(batch[label_key], np.int64)
    if data.ndim != 2 or data.shape[1] != PIXELS or len(data) != len(labels):
        raise DataFileError(
            f"{path}: expected data (N, {PIXELS}) and N labels, got {data.shape} and {labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels


def cifar10(root: str | os.PathLike, split: str = "train", version: str = "binary"):
    """cifar10(root[, split][, version]): CIFAR-10 'train' (50000) or 'test' (10000).

    `root` is the unpacked folder (``cifar-10-batches-bin`` or ``cifar-10-batches-py``).
    Inputs are float32 ``(N, 3, 32, 32)`` in [0, 1]; targets int32 in 0..9.
    """
    return _cifar("cifar10", root, split, version, coarse=False)


def cifar100(
    root: str | os.PathLike, split: str = "train", version: str = "binary", coarse: bool = False
):
    """cifar100(root[, split][, version][, coarse]): CIFAR-100, fine (100) or coarse (20) labels.

    `root` is the unpacked folder (``cifar-100-binary`` or ``cifar-100-python``).
    """
    return _cifar("cifar100", root, split, version, coarse)


def _cifar(name: str, root, split: str, version: str, coarse: bool) -> TensorDataset:
    if version not in ("binary", "python"):
        raise ValueError(f"{name}: version must be 'binary' or 'python', got {version!r}")
    files = FILES[(name, version)]
    if split not in files:
        raise ValueError(f"{name}: split must be 'train' or 'test', got {split!r}")
    images, labels = [], []
    for file_name in files[split]:
        path = find(root, [file_name], name, URL)
        if version == "binary":
            x, y = read_binary(path, label_bytes=2 if name == "cifar100" else 1)
            y = y[:, 0 if coarse or name == "cifar10" else 1]
        else:
            key = "labels" if name == "cifar10" else ("coarse_labels" if coarse else "fine_labels")
            x, y = _python_batch(path, key)
        images.append(x)
        labels.append(y)
    classes = 10 if name == "cifar10" else (20 if coarse else 100)
    targets = np.concatenate(labels).astype(np.int32)
    if targets.min() < 0 or targets.max() >= classes:
        raise DataFileError(
            f"{name}: labels must lie in 0..{classes - 1}, found {targets.min()}..{targets.max()}"
        )
    inputs = np.concatenate(images).astype(np.float32) / 255.0
    return TensorDataset(inputs, targets)
