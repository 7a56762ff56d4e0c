"""Batches from a dataset: seeded shuffling, per-process sharding, background prefetch.

``DatasetIterator(ds, batch_size)`` is iterable once per epoch (each ``iter()`` is a new epoch);
every batch is ``(inputs, targets)`` as NumPy arrays. Batches are built on a background thread
``prefetch`` batches ahead, so reading and augmenting overlap the compiled training step.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .datasets import Dataset

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]

_DONE = object()


class DatasetIterator:
    """DatasetIterator(dataset, batch_size[, shuffle][, seed][, drop_last][, transform][, prefetch])

    Args:
        dataset: anything with ``len`` and ``ds[i] -> (input, target)`` (``batch`` is used if
            present).
        batch_size: samples per batch (the global batch when sharded over processes).
        shuffle: a new permutation each epoch, drawn from ``(seed, epoch)``, so runs repeat.
        seed: the seed for shuffling and random transforms (0).
        drop_last: drop a last incomplete batch (False).
        transform: ``transform(inputs, rng) -> inputs`` applied to each batch of inputs
            (see ``nets.data.transforms``).
        prefetch: batches prepared ahead on a background thread (2); 0 builds them inline.
        shard: ``(index, count)``: yield only this process's contiguous part of each global batch
            (multi-host training); batch_size must divide by count.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        transform: Transform | None = None,
        prefetch: int = 2,
        shard: tuple[int, int] = (0, 1),
    ):
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"DatasetIterator: batch_size must be an int >= 1, got {batch_size!r}")
        if not _is_int(prefetch):
            raise ValueError(
                f"DatasetIterator: prefetch must be an int (batches ahead; 0 builds them inline), "
                f"got {prefetch!r}"
            )
        if not (isinstance(shard, tuple) and len(shard) == 2 and all(map(_is_int, shard))):
            raise ValueError(f"DatasetIterator: shard must be a pair (index, count), got {shard!r}")
        index, count = shard
        if not 0 <= index < count or batch_size % count:
            raise ValueError(
                f"DatasetIterator: shard={shard} needs 0 <= index < count and batch_size "
                f"({batch_size}) divisible by count"
            )
        if len(dataset) == 0:
            raise ValueError("DatasetIterator: the dataset is empty")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.transform = transform
        self.prefetch = prefetch
        self.shard = (index, count)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` epoch number `epoch` (its shuffle order): used on resume."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _order(self, epoch: int) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng((self.seed, epoch)).permutation(n)

    def _batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = self._order(epoch)
        rng = np.random.default_rng((self.seed, epoch, 1))
        index, count = self.shard
        for k in range(len(self)):
            indices = order[k * self.batch_size : (k + 1) * self.batch_size]
            if count > 1:
                part = -(-len(indices) // count)
                indices = indices[index * part : (index + 1) * part]
            gather = getattr(self.dataset, "batch", None)
            if gather is not None:
                inputs, targets = gather(indices)
            else:
                samples = [self.dataset[int(i)] for i in indices]
                inputs = np.stack([np.asarray(s[0]) for s in samples])
                targets = np.stack([np.asarray(s[1]) for s in samples])
            if self.transform is not None:
                inputs = self.transform(inputs, rng)
            yield inputs, targets

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch = self.epoch
        self.epoch += 1
        if self.prefetch <= 0:
            return self._batches(epoch)
        return _prefetch(self._batches(epoch), self.prefetch)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _prefetch(source: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run `source` on a daemon thread, `depth` items ahead; errors re-raise in the consumer."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(_DONE)
        except BaseException as error:  # handed to the consumer, which re-raises it
            items.put(error)

    worker = threading.Thread(target=produce, name="nets-data-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
