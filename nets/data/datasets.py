"""Torchnet-style datasets: ``ds[i] -> (input, target)``, ``len(ds)``, ``ds.size()``.

Every dataset also answers Torch7's ``ds.data`` and ``ds.label`` (the seed loads
``cifar10-train.t7``, a table with those two fields, and predicts
``net:forward(testset.data[100])``): in a ``TensorDataset`` they are aliases of the stored arrays,
elsewhere every sample stacked.

Samples are NumPy arrays on the host; the engine moves whole batches to devices. A dataset that
can gather many samples at once (``TensorDataset``) offers ``batch(indices)``, which the iterators
use instead of stacking samples one by one.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class Dataset:
    """The protocol: ``__getitem__(i) -> (input, target)`` and ``__len__``; ``size()`` is len."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        raise NotImplementedError

    def size(self) -> int:
        """Number of samples (Torchnet's ``dataset:size()``)."""
        return len(self)

    @property
    def data(self) -> np.ndarray:
        """Torch7's ``ds.data``: every input, stacked along a first (sample) axis.

        Reads every sample; a ``TensorDataset`` returns its stored array instead.
        """
        return self.batch(np.arange(len(self)))[0]

    @property
    def label(self) -> np.ndarray:
        """Torch7's ``ds.label``: every target, stacked along a first (sample) axis."""
        return self.batch(np.arange(len(self)))[1]

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples `indices` stacked along a new first axis."""
        samples = [self[int(i)] for i in indices]
        inputs = np.stack([np.asarray(s[0]) for s in samples])
        targets = np.stack([np.asarray(s[1]) for s in samples])
        return inputs, targets

    def _index(self, index: int) -> int:
        n = len(self)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: index must be an int, got {index!r}")
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {n} samples")
        return int(index) % n

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} samples)"


class TensorDataset(Dataset):
    """TensorDataset(inputs, targets): sample ``i`` is ``(inputs[i], targets[i])``.

    Args:
        inputs: an array whose first axis indexes samples.
        targets: an array with the same first dimension.

    ``ds.data`` and ``ds.label`` (Torch7's names) are ``ds.inputs`` and ``ds.targets`` under
    another name: reading gives the same array, assigning replaces it (the seed's
    ``trainset.data = trainset.data:cuda()``).

    Example:
        >>> ds = TensorDataset(np.zeros((5, 3, 32, 32)), np.arange(5))
        >>> ds.size(), ds.data is ds.inputs, ds.label[4]
        (5, True, np.int64(4))
    """

    def __init__(self, inputs: Any, targets: Any):
        self.inputs = np.asarray(inputs)
        self.targets = np.asarray(targets)
        self._check()

    def _check(self) -> None:
        if self.inputs.ndim == 0 or self.targets.ndim == 0:
            raise ValueError("TensorDataset: inputs and targets need a first (sample) axis")
        if len(self.inputs) != len(self.targets):
            raise ValueError(
                f"TensorDataset: inputs have {len(self.inputs)} samples but targets have "
                f"{len(self.targets)}; expected the same first dimension"
            )

    @property
    def data(self) -> np.ndarray:
        """Torch7's name for ``inputs`` (the same array)."""
        return self.inputs

    @data.setter
    def data(self, value: Any) -> None:
        old, self.inputs = self.inputs, np.asarray(value)
        try:
            self._check()
        except ValueError:
            self.inputs = old
            raise

    @property
    def label(self) -> np.ndarray:
        """Torch7's name for ``targets`` (the same array)."""
        return self.targets

    @label.setter
    def label(self, value: Any) -> None:
        old, self.targets = self.targets, np.asarray(value)
        try:
            self._check()
        except ValueError:
            self.targets = old
            raise

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        i = self._index(index)
        return self.inputs[i], self.targets[i]

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.inputs[indices], self.targets[indices]


class ListDataset(Dataset):
    """ListDataset(items, load): sample ``i`` is ``load(items[i])``, which returns (input, target).

    Torchnet's ListDataset: a list of file names (or anything) plus a loader.
    """

    def __init__(self, items: Sequence[Any], load: Callable[[Any], tuple[Any, Any]]):
        self.items = list(items)
        self.load = load

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.load(self.items[self._index(index)])


class SubsetDataset(Dataset):
    """SubsetDataset(dataset, indices): the samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        given = np.asarray(indices)
        if given.size and (given.dtype.kind not in "iu" or given.ndim != 1):
            raise TypeError(
                f"SubsetDataset: indices must be a 1-D sequence of integers, got a {given.dtype} "
                f"array of shape {given.shape}"
            )
        self.indices = given.astype(np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= n):
            raise IndexError(f"SubsetDataset: indices must lie in [0, {n}), the parent's size")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.dataset[int(self.indices[self._index(index)])]

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.dataset.batch(self.indices[np.asarray(indices)])


def shuffle(dataset: Dataset, seed: int = 0) -> SubsetDataset:
    """The samples of `dataset` in a fixed random order (Torchnet's ShuffleDataset)."""
    order = np.random.default_rng(seed).permutation(len(dataset))
    return SubsetDataset(dataset, order)


def split(
    dataset: Dataset, fractions: Sequence[float], seed: int | None = 0
) -> list[SubsetDataset]:
    """Split into disjoint parts of the given fractions (Torchnet's SplitDataset).

    The fractions must be positive and sum to at most 1. With ``seed=None`` the parts are
    contiguous; otherwise samples are shuffled with `seed` first. The last part takes the
    rounding remainder when the fractions sum to 1.
    """
    fractions = [float(f) for f in fractions]
    if not fractions or not all(f > 0 for f in fractions) or not sum(fractions) <= 1 + 1e-9:
        raise ValueError(f"split: fractions must be positive and sum to at most 1, got {fractions}")
    n = len(dataset)
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    bounds = np.floor(np.cumsum([0.0, *fractions]) * n + 1e-9).astype(int)
    if abs(sum(fractions) - 1) < 1e-9:
        bounds[-1] = n
    return [
        SubsetDataset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


class TransformDataset(Dataset):
    """TransformDataset(dataset, input_fn[, target_fn]): samples mapped through the functions.

    For deterministic per-sample maps (decoding, resizing). Random augmentation belongs in the
    iterator (``DatasetIterator(transform=...)``), which owns a seeded generator.
    """

    def __init__(
        self,
        dataset: Dataset,
        input_fn: Callable[[Any], Any] | None = None,
        target_fn: Callable[[Any], Any] | None = None,
    ):
        self.dataset = dataset
        self.input_fn = input_fn
        self.target_fn = target_fn

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        x, y = self.dataset[index]
        if self.input_fn is not None:
            x = self.input_fn(x)
        if self.target_fn is not None:
            y = self.target_fn(y)
        return x, y


class ConcatDataset(Dataset):
    """ConcatDataset(datasets): the samples of each dataset in turn (Torchnet's).

    Sample ``i`` comes from the dataset whose range holds it, found by bisection.
    """

    def __init__(self, datasets: Sequence[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be empty")
        for k, d in enumerate(self.datasets):
            if not (hasattr(d, "__len__") and hasattr(d, "__getitem__")):
                raise TypeError(
                    f"ConcatDataset: datasets[{k}] should be a dataset (len and ds[i]), got "
                    f"{type(d).__name__}"
                )
        self.ends = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.ends[-1]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = self._index(index)
        k = bisect.bisect_right(self.ends, i)
        start = self.ends[k - 1] if k else 0
        return self.datasets[k][i - start]


class ResampleDataset(Dataset):
    """ResampleDataset(dataset[, sampler][, size]): sample ``i`` is ``dataset[sampler(dataset, i)]``
    (Torchnet's, 0-based). `size` (default: the dataset's) sets the length; the sampler's index
    is checked against the dataset.
    """

    def __init__(
        self,
        dataset: Dataset,
        sampler: Callable[[Dataset, int], int] = lambda dataset, i: i,
        size: int | None = None,
    ):
        self.dataset = dataset
        self.sampler = sampler
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValueError(f"{type(self).__name__}: size should be an integer >= 0, got {size!r}")
        self._size = size

    def __len__(self) -> int:
        return self._size if self._size else len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = self._index(index)
        j = self.sampler(self.dataset, i)
        n = len(self.dataset)
        if (
            isinstance(j, (bool, np.bool_))
            or not isinstance(j, (int, np.integer))
            or not 0 <= j < n
        ):
            raise IndexError(
                f"{type(self).__name__}: the sampler mapped index {i} to {j!r}, outside the "
                f"dataset's [0, {n})"
            )
        return self.dataset[int(j)]


class ShuffleDataset(ResampleDataset):
    """ShuffleDataset(dataset[, size][, replacement][, seed]): the samples in a random order.

    The permutation is fixed until ``resample()`` draws a new one (Torchnet's); with
    `replacement` the indices are drawn with replacement, and `size` may exceed the dataset's.
    Draws come from a NumPy generator seeded with `seed` (0), so runs repeat.
    """

    def __init__(
        self, dataset: Dataset, size: int | None = None, replacement: bool = False, seed: int = 0
    ):
        if size is not None and not replacement and size > len(dataset):
            raise ValueError(
                f"ShuffleDataset: size {size} cannot exceed the dataset's {len(dataset)} when "
                "sampling without replacement"
            )
        super().__init__(dataset, lambda dataset, i: int(self.perm[i]), size)
        self.replacement = bool(replacement)
        self.rng = np.random.default_rng(seed)
        self.resample()

    def resample(self) -> None:
        """Draw a new permutation (or a new sample with replacement)."""
        n = len(self.dataset)
        if self.replacement:
            self.perm = self.rng.integers(0, n, len(self))
        else:
            self.perm = self.rng.permutation(n)[: len(self)]
