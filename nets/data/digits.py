"""The handwritten digits scikit-learn ships: the embedded default data set (no network).

1797 grey 8x8 images of the digits 0-9 (UCI "Optical Recognition of Handwritten Digits", the
test part), stored as ``sklearn/datasets/data/digits.csv.gz``: 64 pixel values in 0..16 and the
label on each line. The file is read directly; scikit-learn itself is not imported.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np

from ._files import Content, DataFileError
from .datasets import TensorDataset
from .datasets import split as split_dataset

TEST_FRACTION = 0.2
SPLIT_SEED = 0


def digits_path() -> Path:
    """Where scikit-learn's ``digits.csv.gz`` lies (found without importing scikit-learn)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "digits: the data file ships with scikit-learn, which is not installed; "
            "install it with `pip install scikit-learn`"
        )
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(
            f"digits: file 'digits.csv.gz' not found at {path}; reinstall scikit-learn "
            "(`pip install --force-reinstall scikit-learn`)"
        )
    return path


# scikit-learn's file gunzips to 4.6 times its size (0.26 MB); more than 16 times, or more
# than 16 MiB, is refused as soon as the reader gets there
MAX_RATIO, MAX_TEXT = 16, 16 << 20


def load_digits(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images ``(N, 8, 8)`` float32 in 0..16 and labels ``(N,)`` int32.

    Gunzipped in bounded pieces, at most `MAX_RATIO` times the file's size plus 1 MiB (and
    `MAX_TEXT`); pixels must lie in 0..16 and labels be the integers 0..9.
    """
    path = Path(path) if path is not None else digits_path()
    with Content(path, "digits") as content:
        text = content.rest(min(MAX_TEXT, MAX_RATIO * content.size + (1 << 20)))
    try:
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise DataFileError(f"digits: cannot read {path}: {error}") from error
    if table.shape[1] != 65:
        raise DataFileError(f"digits: expected 65 columns in {path}, got shape {table.shape}")
    pixels, labels = table[:, :64], table[:, 64]
    bad = ~((pixels >= 0) & (pixels <= 16)).all(axis=1)  # NaN fails both comparisons
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            f"digits: {path}, line {row + 1}: a pixel value outside 0..16 "
            f"({pixels[row][~((pixels[row] >= 0) & (pixels[row] <= 16))][0]}); expected 0..16"
        )
    bad = ~((labels >= 0) & (labels <= 9) & (labels == np.round(labels)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFileError(
            f"digits: {path}, line {row + 1}: label {labels[row]}; expected an integer 0..9"
        )
    return pixels.astype(np.float32).reshape(-1, 8, 8), labels.astype(np.int32)


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """8x8 -> size x size: bilinear 3x upscale to 24x24, centred with a zero border (as
    LeNet-5's 28x28 digits sit in a 32x32 field)."""
    from PIL import Image

    if size == 8:
        return images
    if size < 24:
        raise ValueError(f"digits: size must be 8 or >= 24 (28 and 32 suit LeNet-5), got {size}")
    big = np.stack(
        [
            np.asarray(Image.fromarray(im, mode="F").resize((24, 24), Image.BILINEAR))
            for im in images
        ]
    )
    before = (size - 24) // 2
    pad = ((0, 0), (before, size - 24 - before), (before, size - 24 - before))
    return np.pad(big, pad)


def digits(split: str = "train", size: int = 8, planes: int = 1) -> TensorDataset:
    """digits([split][, size][, planes]): scikit-learn's digits, inputs ``(N, planes, size, size)``.

    Args:
        split: 'train' (80%, 1437 images), 'test' (20%, 360) or 'all'; the split is a fixed
            seeded permutation, the same on every machine.
        size: 8 (the original), or 28 / 32 (bilinear 3x upscale, zero-padded) for LeNet-5.
        planes: 1 (grey), or 3 to repeat the grey plane as red, green and blue: with
            ``size=32`` that is CIFAR-10's 3x32x32, the input of the seed's network.

    Inputs are float32 scaled to [0, 1] (pixel / 16); targets int32 in 0..9.

    Example:
        >>> trainset = digits('train', size=32, planes=3)   # fits the seed's CIFAR network
        >>> trainset.data.shape, trainset.label.shape, trainset.size()
        ((1437, 3, 32, 32), (1437,), 1437)
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"digits: split must be 'train', 'test' or 'all', got {split!r}")
    if planes not in (1, 3):
        raise ValueError(
            f"digits: planes must be 1 (grey) or 3 (grey repeated as RGB), got {planes!r}"
        )
    images, labels = load_digits()
    inputs = _resize(images / 16.0, size)[:, None].astype(np.float32)
    inputs = np.repeat(inputs, planes, axis=1) if planes > 1 else inputs
    full = TensorDataset(inputs, labels)
    if split == "all":
        return full
    train, test = split_dataset(full, [1 - TEST_FRACTION, TEST_FRACTION], seed=SPLIT_SEED)
    part = train if split == "train" else test
    return TensorDataset(*full.batch(part.indices))
