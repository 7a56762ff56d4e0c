"""Torchnet's ranking and multi-label meters: mAPMeter, MultiLabelConfusionMeter, NDCGMeter,
PrecisionAtKMeter, PrecisionMeter, RecallMeter, AUCMeter (formulas from torchnet/meter/*.lua).

Inputs may be NumPy or JAX arrays (read to the host). Classes and ranks are 0-based; where
Torchnet returns a table keyed by a level k or a threshold, ``value()`` returns a dict with those
keys, and ``value(k)`` one entry. Precisions and recalls are in percent, as Torchnet's. Ties in
scores rank by position (a stable sort), where Torch's sort leaves their order unspecified.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .meters import APMeter


def _pair(name: str, output: Any, target: Any, binary: bool = True) -> tuple[np.ndarray, ...]:
    """(N, K) scores and (N, K) targets; a vector is one sample."""
    output = np.asarray(output, np.float64)
    target = np.asarray(target, np.float64)
    if output.ndim == 1:
        output = output[None]
    if target.ndim == 1:
        target = target[None]
    if output.ndim != 2 or output.shape != target.shape:
        raise ValueError(
            f"{name}: expected output and target of one shape (N, K) or (K,), got "
            f"{output.shape} and {target.shape}"
        )
    if binary and not np.all((target == 0) | (target == 1)):
        bad = np.flatnonzero((target != 0) & (target != 1))[0]
        raise ValueError(
            f"{name}: targets must be 0 or 1 (k-hot rows), got {target.ravel()[bad]:g} at "
            f"flat position {bad}"
        )
    return output, target


def _levels(name: str, what: str, values: Sequence[Any], low: float, high: float | None):
    values = sorted(values)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < low:
            raise ValueError(f"{name}: {what} must be numbers >= {low:g}, got {v!r}")
        if high is not None and v > high:
            raise ValueError(f"{name}: {what} must lie in [{low:g}, {high:g}], got {v!r}")
    return values


def _pick(name: str, table: dict, key: Any, what: str) -> Any:
    if key not in table:
        raise ValueError(
            f"{name}: {what} {key!r} was not given at construction; have {list(table)}"
        )
    return table[key]


class mAPMeter:  # noqa: N801 (Torchnet's name)
    """mAPMeter(): the mean over classes of `APMeter`'s average precision.

    ``add(output, target[, weight])`` with scores ``(N, K)``, binary targets ``(N, K)`` and
    optional sample weights ``(N,)``; ``value()`` a number.
    """

    def __init__(self):
        self.apmeter = APMeter()

    def reset(self) -> None:
        self.apmeter.reset()

    def add(self, output: Any, target: Any, weight: Any = None) -> None:
        self.apmeter.add(output, target, weight)

    def value(self) -> float:
        ap = self.apmeter.value()
        return float(ap.mean()) if ap.size else math.nan


class MultiLabelConfusionMeter:
    """MultiLabelConfusionMeter(k[, normalized=True]): a k x k confusion matrix for multi-label
    classification (rows targets, columns predictions).

    For each sample with P positive targets, the P best-scored classes are its predictions; a
    predicted class among the targets adds 1 on the diagonal, and each wrong prediction is
    shared equally among the targets left unpredicted. ``add(output, target)`` with scores and
    k-hot targets ``(N, k)``; ``value()`` the matrix, each row divided by its sum (+1e-8) when
    `normalized`.
    """

    def __init__(self, k: int, normalized: bool = True):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"MultiLabelConfusionMeter: k should be an integer >= 1, got {k!r}")
        self.k = k
        self.normalized = bool(normalized)
        self.reset()

    def reset(self) -> None:
        self.conf = np.zeros((self.k, self.k))

    def add(self, output: Any, target: Any) -> None:
        output, target = _pair("MultiLabelConfusionMeter", output, target)
        if target.shape[1] != self.k:
            raise ValueError(
                f"MultiLabelConfusionMeter: expected {self.k} classes, got {target.shape[1]}"
            )
        ranked = np.argsort(-output, axis=1, kind="stable")
        for scores_order, row in zip(ranked, target, strict=True):
            truth = set(np.flatnonzero(row == 1).tolist())
            predicted = set(scores_order[: len(truth)].tolist())
            for c in truth & predicted:
                self.conf[c, c] += 1
            missed, wrong = truth - predicted, predicted - truth
            for t in missed:
                for p in wrong:
                    self.conf[t, p] += 1 / len(wrong)

    def value(self) -> np.ndarray:
        conf = self.conf.copy()
        if self.normalized:
            conf /= conf.sum(axis=1, keepdims=True) + 1e-8
        return conf


class NDCGMeter:
    """NDCGMeter([K={1}]): normalised discounted cumulative gain at the levels in `K`.

    ``DCG_k = rel_1 + sum_{i=2..k} rel_i / log2(i)`` over the items ranked by descending score,
    ``NDCG_k = DCG_k / IDCG_k`` (the DCG of the ideal ranking), averaged over the samples.
    ``add(output, relevance)`` with scores and relevances ``(N, C)``, C at least max(K);
    ``value()`` a dict ``{k: NDCG_k}``, ``value(k)`` one.
    """

    def __init__(self, K: Sequence[int] = (1,)):  # noqa: N803 (Torchnet's name)
        self.K = [int(k) for k in _levels("NDCGMeter", "K", K, 1, None)]
        self.reset()

    def reset(self) -> None:
        self.ndcg = {k: 0.0 for k in self.K}
        self.n = 0

    @staticmethod
    def _dcg(relevance: np.ndarray, order: np.ndarray, k: int) -> float:
        discounts = np.concatenate([[1.0], np.log2(np.arange(2, k + 1))])
        return float(np.sum(relevance[order[:k]] / discounts))

    def add(self, output: Any, relevance: Any) -> None:
        output, relevance = _pair("NDCGMeter", output, relevance, binary=False)
        if relevance.shape[1] < self.K[-1]:
            raise ValueError(
                f"NDCGMeter: too few results ({relevance.shape[1]}) for the level K = {self.K[-1]}"
            )
        gains = dict.fromkeys(self.K, 0.0)  # added only once every sample is valid
        for n, (scores, rel) in enumerate(zip(output, relevance, strict=True)):
            order = np.argsort(-scores, kind="stable")
            ideal = np.argsort(-rel, kind="stable")
            for k in self.K:
                best = self._dcg(rel, ideal, k)
                if best <= 0:
                    raise ValueError(
                        f"NDCGMeter: sample {n} has no relevant item among its best {k} (ideal "
                        "DCG 0), so its NDCG is undefined; relevances must be >= 0, some > 0"
                    )
                gains[k] += self._dcg(rel, order, k) / best
        for k in self.K:
            self.ndcg[k] += gains[k]
        self.n += len(output)

    def value(self, k: int | None = None) -> dict | float:
        if k is not None:
            total = _pick("NDCGMeter", self.ndcg, k, "level k")
            return total / self.n if self.n else math.nan
        return {k: self.value(k) for k in self.K}


class PrecisionAtKMeter:
    """PrecisionAtKMeter([topk={10}][, dim=1][, online=False]): precision@k in percent.

    ``add(output, target)`` with scores and k-hot targets ``(N, C)``: the share of the k
    best-scored classes of each sample that are targets, averaged. ``dim`` (0-based; Torchnet's
    default 2 is our 1) ranks along the other axis when 0. ``online`` keeps only the best
    max(topk) entries along ``dim`` over every ``add`` (many documents, few queries).
    ``value()`` a dict ``{k: precision}``, ``value(k)`` one.
    """

    def __init__(self, topk: Sequence[int] = (10,), dim: int = 1, online: bool = False):
        if dim not in (0, 1) or isinstance(dim, bool):
            raise ValueError(f"PrecisionAtKMeter: dim should be 0 or 1 (0-based), got {dim!r}")
        self.topk = [int(k) for k in _levels("PrecisionAtKMeter", "topk", topk, 1, None)]
        self.maxk = self.topk[-1]
        self.dim = dim
        self.online = bool(online)
        self.reset()

    def reset(self) -> None:
        self.tp = {k: 0.0 for k in self.topk}
        self.n = 0
        self._top: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, output: Any, target: Any) -> None:
        output, target = _pair("PrecisionAtKMeter", output, target)
        if self.dim == 0:
            output, target = output.T, target.T
        if self.online:
            if self._top is not None:
                output = np.concatenate([self._top[0], output], axis=1)
                target = np.concatenate([self._top[1], target], axis=1)
            order = np.argsort(-output, axis=1, kind="stable")[:, : self.maxk]
            self._top = (
                np.take_along_axis(output, order, 1),
                np.take_along_axis(target, order, 1),
            )
            self.n = output.shape[0]
            return
        if output.shape[1] < self.maxk:
            raise ValueError(
                f"PrecisionAtKMeter: top-{self.maxk} needs at least that many entries, got "
                f"{output.shape[1]}"
            )
        order = np.argsort(-output, axis=1, kind="stable")[:, : self.maxk]
        ranked = np.take_along_axis(target, order, 1)
        for k in self.topk:
            self.tp[k] += float(ranked[:, :k].sum())
        self.n += output.shape[0]

    def value(self, k: int | None = None) -> dict | float:
        if self.online and self._top is not None:
            for level in self.topk:
                self.tp[level] = float(self._top[1][:, :level].sum())
        if k is not None:
            tp = _pick("PrecisionAtKMeter", self.tp, k, "level k")
            return tp / (self.n * k) * 100 if self.n else math.nan
        return {level: self.value(level) for level in self.topk}


class _ThresholdMeter:
    """What PrecisionMeter and RecallMeter share: per-class counts at each threshold."""

    name = ""

    def __init__(self, threshold: Sequence[float] = (0.5,), perclass: bool = False):
        self.threshold = _levels(self.name, "thresholds", threshold, 0, 1)
        self.perclass = bool(perclass)
        self.reset()

    def reset(self) -> None:
        self.tp: dict[float, np.ndarray] = {}
        self.total: dict[float, np.ndarray] = {}

    def _counts(self, output: np.ndarray, target: np.ndarray, t: float) -> np.ndarray:
        raise NotImplementedError

    def add(self, output: Any, target: Any) -> None:
        output, target = _pair(self.name, output, target)
        true_pos = np.where(target == 0, -1.0, output)
        for t in self.threshold:
            if t in self.tp and self.tp[t].shape[0] != output.shape[1]:
                raise ValueError(
                    f"{self.name}: expected {self.tp[t].shape[0]} classes as before, got "
                    f"{output.shape[1]}"
                )
            self.tp[t] = self.tp.get(t, 0) + (true_pos >= t).sum(axis=0)
            self.total[t] = self.total.get(t, 0) + self._counts(output, target, t)

    def value(self, t: float | None = None) -> dict | float | np.ndarray:
        if t is None:
            return {th: self.value(th) for th in self.threshold}
        if t not in self.threshold:
            raise ValueError(f"{self.name}: threshold {t!r} was not given; have {self.threshold}")
        if t not in self.tp:
            return np.zeros(0) if self.perclass else 100.0
        tp, total = self.tp[t], self.total[t]
        if self.perclass:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(total == 0, 100.0, tp / total * 100)
        return 100.0 if total.sum() == 0 else float(tp.sum() / total.sum() * 100)


class PrecisionMeter(_ThresholdMeter):
    """PrecisionMeter([threshold={0.5}][, perclass=False]): precision in percent at thresholds.

    ``add(output, target)`` with probabilities and k-hot targets ``(N, K)``: at threshold t,
    the share of the outputs ``>= t`` that are targets (100 when there are none); per class when
    `perclass`. ``value()`` a dict ``{t: precision}``, ``value(t)`` one.
    """

    name = "PrecisionMeter"

    def _counts(self, output, target, t):
        return (output >= t).sum(axis=0)


class RecallMeter(_ThresholdMeter):
    """RecallMeter([threshold={0.5}][, perclass=False]): recall in percent at thresholds.

    At threshold t, the share of the targets whose output is ``>= t`` (100 when there are no
    targets); per class when `perclass`. ``value()`` a dict ``{t: recall}``.
    """

    name = "RecallMeter"

    def _counts(self, output, target, t):
        return target.sum(axis=0)


class AUCMeter:
    """AUCMeter(): the area under the ROC curve of binary scores.

    ``add(output, target)`` with scores ``(N,)`` and targets 0 or 1 ``(N,)``; ``value()`` returns
    ``(auc, tpr, fpr)``, the rates along the ranking by descending score (0.5 before any data;
    NaN without positives or negatives, as Torchnet's division by zero).
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.scores: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(self, output: Any, target: Any) -> None:
        output = np.squeeze(np.asarray(output, np.float64))
        target = np.squeeze(np.asarray(target, np.float64))
        output, target = np.atleast_1d(output), np.atleast_1d(target)
        if output.ndim != 1 or target.shape != output.shape:
            raise ValueError(
                f"AUCMeter: expected scores and targets of one shape (N,), got {output.shape} "
                f"and {target.shape}"
            )
        if not np.all((target == 0) | (target == 1)):
            raise ValueError("AUCMeter: targets should be binary (0 or 1)")
        self.scores.append(output)
        self.targets.append(target)

    def value(self) -> tuple[float, np.ndarray, np.ndarray] | float:
        if not self.scores:
            return 0.5
        scores = np.concatenate(self.scores)
        targets = np.concatenate(self.targets)
        truth = targets[np.argsort(-scores, kind="stable")]
        tpr = np.concatenate([[0.0], np.cumsum(truth)])
        fpr = np.concatenate([[0.0], np.cumsum(1 - truth)])
        with np.errstate(divide="ignore", invalid="ignore"):
            tpr /= targets.sum()
            fpr /= (1 - targets).sum()
        auc = float(np.sum(tpr[:-1] * np.diff(fpr)))
        return auc, tpr, fpr
