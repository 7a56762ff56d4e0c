"""Torchnet meters: ``add`` measurements, read ``value()``, ``reset()`` between epochs.

Inputs may be NumPy or JAX arrays (they are read to the host). Errors and accuracies are in
percent, as Torchnet's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def _scores(name: str, output: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    output = np.asarray(output)
    target = np.asarray(target)
    if output.ndim == 1:
        output = output[None]
    if target.ndim == 0:
        target = target[None]
    if output.ndim != 2 or target.ndim != 1 or len(output) != len(target):
        raise ValueError(
            f"{name}: expected scores (N, K) and class indices (N,), got {output.shape} and "
            f"{target.shape}"
        )
    k = output.shape[1]
    if len(target) and (target.min() < 0 or target.max() >= k):
        raise ValueError(
            f"{name}: targets must be class indices in 0..{k - 1}, "
            f"got {target.min()}..{target.max()}"
        )
    return output, target.astype(np.int64)


class AverageValueMeter:
    """AverageValueMeter(): the mean and standard deviation of the values added.

    ``add(value[, n])`` adds `value` and counts `n` samples (1); ``value() -> (mean, std)``
    with the unbiased std (inf after one value, nan before any).
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.sum = 0.0
        self.var = 0.0
        self.n = 0

    def add(self, value: float, n: int = 1) -> None:
        value = float(value)
        self.sum += value
        self.var += value * value
        self.n += n

    def value(self) -> tuple[float, float]:
        n = self.n
        if n == 0:
            return math.nan, math.nan
        mean = self.sum / n
        if n == 1:
            return mean, math.inf
        return mean, math.sqrt(max(self.var - n * mean * mean, 0.0) / (n - 1))


class ClassErrorMeter:
    """ClassErrorMeter([topk][, accuracy]): top-k classification error (or accuracy), in percent.

    ``add(output, target)`` with scores ``(N, K)`` and class indices ``(N,)``; ``value()`` returns
    one number per k in `topk` (default ``[1]``), ``value(k)`` the one for k.
    """

    def __init__(self, topk: Sequence[int] = (1,), accuracy: bool = False):
        self.topk = sorted(int(k) for k in topk)
        self.accuracy = accuracy
        self.reset()

    def reset(self) -> None:
        self.sum = {k: 0 for k in self.topk}
        self.n = 0

    def add(self, output: Any, target: Any) -> None:
        output, target = _scores("ClassErrorMeter", output, target)
        if self.topk[-1] > output.shape[1]:
            raise ValueError(
                f"ClassErrorMeter: top-{self.topk[-1]} needs at least that many classes, "
                f"got {output.shape[1]}"
            )
        # ranks of classes by descending score; ties broken by class index, as a stable sort
        order = np.argsort(-output, axis=1, kind="stable")[:, : self.topk[-1]]
        hits = order == target[:, None]
        for k in self.topk:
            self.sum[k] += int(np.sum(hits[:, :k]))
        self.n += len(target)

    def value(self, k: int | None = None) -> list[float] | float:
        if k is not None:
            if k not in self.sum:
                raise ValueError(f"ClassErrorMeter: k={k} not measured; topk is {self.topk}")
            correct = 100.0 * self.sum[k] / self.n if self.n else math.nan
            return correct if self.accuracy else 100.0 - correct
        return [self.value(k) for k in self.topk]


class ConfusionMeter:
    """ConfusionMeter(k[, normalized]): a k x k confusion matrix, rows targets, columns predictions.

    ``add(output, target)``: `output` is scores ``(N, k)`` (the arg max is the prediction) or
    predicted indices ``(N,)``; `target` is indices ``(N,)``. With `normalized` each row sums to 1.
    """

    def __init__(self, k: int, normalized: bool = False):
        self.k = k
        self.normalized = normalized
        self.reset()

    def reset(self) -> None:
        self.conf = np.zeros((self.k, self.k), np.int64)

    def add(self, output: Any, target: Any) -> None:
        output = np.asarray(output)
        target = np.asarray(target).astype(np.int64).reshape(-1)
        pred = output.argmax(axis=1) if output.ndim == 2 else output.astype(np.int64).reshape(-1)
        if output.ndim == 2 and output.shape[1] != self.k:
            raise ValueError(f"ConfusionMeter: scores for {output.shape[1]} classes, k={self.k}")
        if len(pred) != len(target):
            raise ValueError(f"ConfusionMeter: {len(pred)} predictions for {len(target)} targets")
        for name, v in (("predictions", pred), ("targets", target)):
            if len(v) and (v.min() < 0 or v.max() >= self.k):
                raise ValueError(f"ConfusionMeter: {name} must lie in 0..{self.k - 1}")
        np.add.at(self.conf, (target, pred), 1)

    def value(self) -> np.ndarray:
        if not self.normalized:
            return self.conf.copy()
        rows = self.conf.sum(axis=1, keepdims=True).astype(np.float64)
        return self.conf / np.maximum(rows, 1e-12)


class TimeMeter:
    """TimeMeter([unit]): seconds since reset, or per unit counted by ``incUnit`` if `unit`."""

    def __init__(self, unit: bool = False):
        self.unit = unit
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.elapsed = 0.0
        self.start = time.perf_counter()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.elapsed += time.perf_counter() - self.start
            self.running = False

    def resume(self) -> None:
        if not self.running:
            self.start = time.perf_counter()
            self.running = True

    def incUnit(self, n: int = 1) -> None:
        self.n += n

    def value(self) -> float:
        total = self.elapsed + (time.perf_counter() - self.start if self.running else 0.0)
        if self.unit:
            return total / self.n if self.n else math.nan
        return total


class APMeter:
    """APMeter(): average precision per class, for multi-label scoring.

    ``add(output, target[, weight])`` with scores ``(N, K)``, binary targets ``(N, K)`` and
    optional positive sample weights ``(N,)``; ``value() -> (K,)``: for each class, the mean of
    the precision at each positive, ranking by descending score (Torchnet's definition; with
    weights the precision at rank r is ``sum(w * truth) / sum(w)`` over the first r; a class
    with no positive scores 0).
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.scores: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []

    def add(self, output: Any, target: Any, weight: Any = None) -> None:
        output = np.asarray(output, np.float64)
        target = np.asarray(target, np.float64)
        if output.ndim == 1:
            output, target = output[:, None], target.reshape(-1, 1)
        if output.shape != target.shape or output.ndim != 2:
            raise ValueError(
                f"APMeter: expected scores and binary targets of one shape (N, K), got "
                f"{output.shape} and {target.shape}"
            )
        if not np.all((target == 0) | (target == 1)):
            raise ValueError("APMeter: targets must be 0 or 1")
        if weight is not None:
            weight = np.asarray(weight, np.float64).reshape(-1)
            if weight.shape != (len(output),) or np.any(weight <= 0):
                raise ValueError(
                    f"APMeter: expected one weight > 0 per sample, {len(output)}, got "
                    f"shape {np.shape(weight)} (min {weight.min() if weight.size else '-'})"
                )
        if self.scores and (weight is None) != (not self.weights):
            raise ValueError("APMeter: give weights with every add() or with none")
        self.scores.append(output)
        self.targets.append(target)
        if weight is not None:
            self.weights.append(weight)

    def value(self) -> np.ndarray:
        if not self.scores:
            return np.zeros(0)
        scores = np.concatenate(self.scores)
        targets = np.concatenate(self.targets)
        weights = np.concatenate(self.weights) if self.weights else None
        ap = np.zeros(scores.shape[1])
        ranks = np.arange(1, len(scores) + 1)
        for k in range(scores.shape[1]):
            order = np.argsort(-scores[:, k], kind="stable")
            truth = targets[order, k]
            if weights is None:
                precision = np.cumsum(truth) / ranks
            else:
                w = weights[order]
                precision = np.cumsum(truth * w) / np.cumsum(w)
            ap[k] = precision[truth == 1].sum() / max(truth.sum(), 1)
        return ap


class MovingAverageValueMeter:
    """MovingAverageValueMeter(windowsize): mean and std of the last `windowsize` values.

    ``add(value)``; ``value() -> (mean, std)`` over the window, as Torchnet's (the std divides
    by ``max(1, n - 1)``; both 0 before any value).
    """

    def __init__(self, windowsize: int):
        if isinstance(windowsize, bool) or not isinstance(windowsize, int) or windowsize < 1:
            raise ValueError(
                f"MovingAverageValueMeter: windowsize should be an integer >= 1, got {windowsize!r}"
            )
        self.windowsize = windowsize
        self.reset()

    def reset(self) -> None:
        self.sum = 0.0
        self.var = 0.0
        self.n = 0
        self.valuequeue = np.zeros(self.windowsize)

    def add(self, value: float) -> None:
        value = float(value)
        slot = self.n % self.windowsize
        old = self.valuequeue[slot]
        self.sum += value - old
        self.var += value * value - old * old
        self.valuequeue[slot] = value
        self.n += 1

    def value(self) -> tuple[float, float]:
        n = min(self.n, self.windowsize)
        mean = self.sum / max(1, n)
        return mean, math.sqrt(max(self.var - n * mean * mean, 0.0) / max(1, n - 1))


class MSEMeter:
    """MSEMeter([root]): the mean squared error over every element added (its root if `root`).

    ``add(output, target)`` with arrays of one shape.
    """

    def __init__(self, root: bool = False):
        self.root = bool(root)
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.sesum = 0.0

    def add(self, output: Any, target: Any) -> None:
        output = np.asarray(output, np.float64)
        target = np.asarray(target, np.float64)
        if output.shape != target.shape:
            raise ValueError(
                f"MSEMeter: output and target must have one shape, got {output.shape} and "
                f"{target.shape}"
            )
        self.n += output.size
        self.sesum += float(np.sum((output - target) ** 2))

    def value(self) -> float:
        mse = self.sesum / max(1, self.n)
        return math.sqrt(mse) if self.root else mse
