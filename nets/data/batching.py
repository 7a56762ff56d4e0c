"""Torchnet's BatchDataset and CoroutineBatchDataset: a dataset whose samples are batches of
another's.

Batch ``i`` holds samples ``i*batchsize ... (i+1)*batchsize - 1`` of the underlying dataset,
each index passed through ``perm(idx, size)``, the samples kept by ``filter(sample)`` and merged
by ``merge(samples)``. The default merge stacks each field: ``(input, target)`` pairs become
``(inputs, targets)``, dicts of arrays a dict of stacked arrays.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .datasets import Dataset

POLICIES = ("include-last", "skip-last", "divisible-only")


def stack_samples(samples: list) -> Any:
    """Torchnet's default ``makebatch``: stack each field of the samples along a new first axis."""
    if not samples:
        return samples
    first = samples[0]
    if isinstance(first, dict):
        return {k: np.stack([np.asarray(s[k]) for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        return tuple(np.stack([np.asarray(s[f]) for s in samples]) for f in range(len(first)))
    return np.stack([np.asarray(s) for s in samples])


class BatchDataset(Dataset):
    """BatchDataset(dataset, batchsize[, perm][, merge][, policy][, filter]): Torchnet's.

    Args:
        dataset: the samples.
        batchsize: samples per batch.
        perm: ``perm(idx, size) -> idx``, 0-based (identity): e.g. a shuffle.
        merge: ``merge(samples) -> batch`` (`stack_samples`).
        policy: what to do with a last incomplete batch: ``'include-last'`` keeps it,
            ``'skip-last'`` drops it, ``'divisible-only'`` refuses a dataset whose size does
            not divide.
        filter: ``filter(sample) -> bool``, the samples to keep (all).
    """

    def __init__(
        self,
        dataset: Dataset,
        batchsize: int,
        perm: Callable[[int, int], int] = lambda idx, size: idx,
        merge: Callable[[list], Any] | None = None,
        policy: str = "include-last",
        filter: Callable[[Any], bool] = lambda sample: True,  # noqa: A002 (Torchnet's name)
    ):
        name = type(self).__name__
        if isinstance(batchsize, bool) or not isinstance(batchsize, int) or batchsize < 1:
            raise ValueError(f"{name}: batchsize should be a positive integer, got {batchsize!r}")
        if policy not in POLICIES:
            raise ValueError(
                f"{name}: policy should be one of {', '.join(POLICIES)}; got {policy!r}"
            )
        if policy == "divisible-only" and len(dataset) % batchsize:
            raise ValueError(
                f"{name}: the dataset's size {len(dataset)} is not divisible by the batch size "
                f"{batchsize} (policy 'divisible-only')"
            )
        self.dataset = dataset
        self.batchsize = batchsize
        self.perm = perm
        self.makebatch = merge if merge is not None else stack_samples
        self.policy = policy
        self.filter = filter

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batchsize
        return -(-n // b) if self.policy == "include-last" else n // b

    def _indices(self, index: int) -> range:
        i = self._index(index)
        n = len(self.dataset)
        return range(i * self.batchsize, min((i + 1) * self.batchsize, n))

    def _sample(self, idx: int) -> Any:
        j = self.perm(idx, len(self.dataset))
        return self.dataset[int(j)]

    def __getitem__(self, index: int) -> Any:
        samples = [self._sample(idx) for idx in self._indices(index)]
        return self.makebatch([s for s in samples if self.filter(s)])


class CoroutineBatchDataset(BatchDataset):
    """CoroutineBatchDataset(dataset, batchsize[, perm][, merge][, policy][, filter]).

    As `BatchDataset`, for datasets whose ``ds[i]`` may return a generator (Torchnet's Lua
    coroutine): each generator is started (run to its first ``yield``, e.g. after issuing an
    asynchronous read), then each is resumed once more and must return its sample (a
    ``return`` in the generator). Plain samples pass through, so every dataset works.
    """

    def __getitem__(self, index: int) -> Any:
        started: list[Any] = []
        for idx in self._indices(index):
            sample = self._sample(idx)
            if isinstance(sample, types.GeneratorType):
                try:
                    next(sample)  # run to its first yield
                except StopIteration as done:  # finished without yielding
                    sample = done.value
            started.append(sample)
        samples = []
        for k, sample in enumerate(started):
            if isinstance(sample, types.GeneratorType):
                try:
                    next(sample)
                except StopIteration as done:
                    sample = done.value
                else:
                    raise RuntimeError(
                        f"CoroutineBatchDataset: the generator of sample {k} of batch {index} "
                        "yielded twice; it should yield once, then return its sample"
                    )
            samples.append(sample)
        return self.makebatch([s for s in samples if self.filter(s)])
