"""CIFAR-10 and CIFAR-100, binary and python versions, https://www.cs.toronto.edu/~kriz/cifar.html.

Binary version: fixed-size records, ``<label> <3072 pixel bytes>`` for CIFAR-10 and
``<coarse label> <fine label> <3072 pixel bytes>`` for CIFAR-100; pixels are 1024 red, 1024
green, 1024 blue, each row-major 32x32. Python version: pickled dicts with ``data`` (N x 3072
uint8) and ``labels`` / ``fine_labels`` / ``coarse_labels``, read here by the restricted reader in
``_pickle.py`` (no code from the file is ever run). The python version as distributed was
written by Python 2's cPickle (protocol 2, byte-string keys and dtype descriptors).

The version is told from the files present, so ``cifar10(root)`` reads either unpacked archive;
`root` may also be the folder above it (``~/data`` holding ``cifar-10-batches-py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._files import Content, DataFileError, read_bytes, regular
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


# the folder each archive unpacks to
ARCHIVE_FOLDERS = {
    ("cifar10", "binary"): "cifar-10-batches-bin",
    ("cifar10", "python"): "cifar-10-batches-py",
    ("cifar100", "binary"): "cifar-100-binary",
    ("cifar100", "python"): "cifar-100-python",
}
VERSIONS = ("binary", "python")


def read_binary(path: str | os.PathLike, label_bytes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N, label_bytes)`` from a binary batch file.

    A plain file's size is checked before it is read; a gzipped one is gunzipped in pieces.
    """
    path = Path(path)
    record = label_bytes + PIXELS
    with Content(path, "cifar") as content:
        if not content.gzip:
            _check_records(path, content.size, record, label_bytes)
        data = content.rest()
    _check_records(path, len(data), record, label_bytes)
    records = np.frombuffer(data, np.uint8).reshape(-1, record)
    return records[:, label_bytes:].reshape(-1, 3, 32, 32), records[:, :label_bytes]


def _check_records(path: Path, size: int, record: int, label_bytes: int) -> None:
    if size == 0 or size % record:
        raise DataFileError(
            f"{path}: {size} bytes is not a whole number of {record}-byte CIFAR records "
            f"({label_bytes} label byte(s) + {PIXELS} pixels); the file is truncated or not "
            "a CIFAR binary batch"
        )


def read_python(path: str | os.PathLike) -> dict:
    """The dict in a python-version batch file, keys as str, read without unpickling code."""
    path = Path(path)
    value = read_pickle(read_bytes(path, "cifar"), str(path))
    if not isinstance(value, dict):
        raise DataFileError(f"{path}: expected a pickled dict, got {type(value).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in value.items()}


def _python_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = read_python(path)
    if "data" not in batch or label_key not in batch:
        raise DataFileError(
            f"{path}: expected keys 'data' and {label_key!r}, found {sorted(map(str, batch))}"
        )
    data, labels = batch["data"], batch[label_key]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        got = f"{data.dtype} array {data.shape}" if isinstance(data, np.ndarray) else type(data)
        raise DataFileError(f"{path}: expected 'data' a uint8 array (N, {PIXELS}), got {got}")
    if isinstance(labels, (list, tuple)):
        wrong = next((i for i, v in enumerate(labels) if type(v) is not int), None)
        if wrong is not None:
            raise DataFileError(
                f"{path}: {label_key!r}[{wrong}] is {labels[wrong]!r} "
                f"({type(labels[wrong]).__name__}); expected integer class indices"
            )
        labels = np.asarray(labels, object if any(abs(v) >= 2**62 for v in labels) else np.int64)
    if not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iuO" or labels.ndim != 1:
        got = f"{labels.dtype} array {labels.shape}" if isinstance(labels, np.ndarray) else labels
        raise DataFileError(
            f"{path}: expected {label_key!r} a list of integer class indices, got {got!r:.80}"
        )
    if data.shape[1] != PIXELS or len(data) != len(labels):
        raise DataFileError(
            f"{path}: expected data (N, {PIXELS}) and N labels, got {data.shape} and {labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels


def _check_labels(name: str, path: Path, labels: np.ndarray, classes: int, what: str) -> None:
    """Refuse a label outside 0..classes-1, naming the file and the index (before any cast)."""
    wrong = np.flatnonzero((labels < 0) | (labels >= classes))
    if wrong.size:
        raise DataFileError(
            f"{name}: {path}: {what} {labels[wrong[0]]} at index {wrong[0]} ({wrong.size} "
            f"outside 0..{classes - 1} in all); expected class indices 0..{classes - 1}"
        )


def cifar10(root: str | os.PathLike, split: str = "train", version: str | None = None):
    """cifar10(root[, split][, version]): CIFAR-10 'train' (50000) or 'test' (10000).

    `root` is the unpacked folder (``cifar-10-batches-bin`` or ``cifar-10-batches-py``) or the
    folder holding it. `version` is 'binary' or 'python'; None tells it from the files present.
    Inputs are float32 ``(N, 3, 32, 32)`` in [0, 1]; targets int32 in 0..9.
    """
    return _cifar("cifar10", root, split, version, coarse=False)


def cifar100(
    root: str | os.PathLike,
    split: str = "train",
    version: str | None = None,
    coarse: bool = False,
):
    """cifar100(root[, split][, version][, coarse]): CIFAR-100, fine (100) or coarse (20) labels.

    `root` is the unpacked folder (``cifar-100-binary`` or ``cifar-100-python``) or the folder
    holding it; `version` as in ``cifar10``.
    """
    return _cifar("cifar100", root, split, version, coarse)


def locate(name: str, root: str | os.PathLike, split: str, version: str | None):
    """``(version, [paths])`` of the `split` files under `root`, or an error naming what is there.

    Looks in `root` itself, then in the archive's own folder under it. With ``version=None``
    the first version whose files are all present wins.
    """
    if version not in (None, *VERSIONS):
        raise ValueError(f"{name}: version must be 'binary', 'python' or None, got {version!r}")
    if split not in ("train", "test"):
        raise ValueError(f"{name}: split must be 'train' or 'test', got {split!r}")
    root = Path(root).expanduser()
    versions = VERSIONS if version is None else (version,)
    for v in versions:
        for folder in (root, root / ARCHIVE_FOLDERS[(name, v)]):
            paths = [folder / f for f in FILES[(name, v)][split]]
            if all(os.path.lexists(p) for p in paths):
                for p in paths:
                    regular(p, name)  # a FIFO, folder or link loop is refused, naming it
                return v, paths
    expected = " or ".join(
        f"the {v} version ({', '.join(FILES[(name, v)][split])})" for v in versions
    )
    raise FileNotFoundError(
        f"{name}: {root} holds no complete {split} split; expected {expected}, in {root} or "
        f"in {' or '.join(ARCHIVE_FOLDERS[(name, v)] for v in versions)} under it; found "
        f"{_listing(root)}. Download it from {URL} and unpack it there"
    )


def _listing(root: Path, limit: int = 20) -> str:
    """The names in `root` (at most `limit`), for an error message."""
    if not root.is_dir():
        return "no such folder"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())
    if not names:
        return "an empty folder"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _cifar(name: str, root, split: str, version: str | None, coarse: bool) -> TensorDataset:
    version, paths = locate(name, root, split, version)
    classes = 10 if name == "cifar10" else (20 if coarse else 100)
    images, labels = [], []
    for path in paths:
        if version == "binary":
            x, y = read_binary(path, label_bytes=2 if name == "cifar100" else 1)
            y = y[:, 0 if coarse or name == "cifar10" else 1]
            label = "label"
        else:
            key = "labels" if name == "cifar10" else ("coarse_labels" if coarse else "fine_labels")
            x, y = _python_batch(path, key)
            label = f"{key!r} holds"
        _check_labels(name, path, y, classes, label)
        images.append(x)
        labels.append(y.astype(np.int32))
    targets = np.concatenate(labels)
    inputs = np.concatenate(images).astype(np.float32)
    inputs /= 255.0
    return TensorDataset(inputs, targets)
