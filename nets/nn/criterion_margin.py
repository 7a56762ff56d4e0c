"""Margin and embedding criterions (torch/nn doc/criterion.md): MarginCriterion,
SoftMarginCriterion, MultiMarginCriterion, MultiLabelMarginCriterion,
MultiLabelSoftMarginCriterion, HingeEmbeddingCriterion, L1HingeEmbeddingCriterion,
CosineEmbeddingCriterion, MarginRankingCriterion.

Their +1/-1 targets and 0-based class targets are checked on the host, before tracing, as
`criterion.ClassNLLCriterion` checks its classes; ``bad_targets`` repeats the check inside
compiled training steps.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ModuleError, shape_str
from .._shape import number_arg
from . import functional as F  # noqa: N812
from .criterion import Criterion, _check_classes, _check_same_elements, _weights_arg


def _concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _check_signs(crit: Criterion, target: Any) -> Any:
    """Targets that must be 1 or -1 (Torch7's convention for these losses)."""
    if _concrete(target):
        t = np.asarray(target, np.float64).ravel()
        bad = np.flatnonzero((t != 1) & (t != -1))
        if bad.size:
            i = int(bad[0])
            raise ModuleError(
                crit._describe(), f"expected targets 1 or -1, got {t[i]:g} at position {i}"
            )
    return target


def _bad_signs(target: Any) -> jax.Array:
    return jnp.any((target != 1) & (target != -1))


def _check_pair(crit: Criterion, input: Any) -> tuple[Any, Any]:
    """A table {x1, x2} of two arrays of one shape."""
    if not isinstance(input, (list, tuple)) or len(input) != 2:
        raise ModuleError(
            crit._describe(), f"expected a table of two inputs {{x1, x2}}, got {shape_str(input)}"
        )
    x1, x2 = input
    if jnp.shape(x1) != jnp.shape(x2):
        raise ModuleError(
            crit._describe(),
            f"expected x1 and x2 of one shape, got {shape_str(x1)} and {shape_str(x2)}",
        )
    return x1, x2


class MarginCriterion(Criterion):
    """nn.MarginCriterion([margin=1]): two-class hinge loss.

    ``sum(max(0, margin - x * y))`` over the elements, divided by their count when
    ``sizeAverage``; targets ``y`` are 1 or -1, with as many elements as the input.
    """

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = number_arg(self, "margin", "the margin", margin)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        input, target = _check_same_elements(self, input, target)
        return input, _check_signs(self, target)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return _bad_signs(target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.margin_loss(input, target, self.margin, self.sizeAverage)


class SoftMarginCriterion(Criterion):
    """nn.SoftMarginCriterion(): two-class logistic loss ``sum(log(1 + exp(-x * y)))``.

    Divided by the element count when ``sizeAverage``; targets are 1 or -1.
    """

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        input, target = _check_same_elements(self, input, target)
        return input, _check_signs(self, target)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return _bad_signs(target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.soft_margin(input, target, self.sizeAverage)


class MultiMarginCriterion(Criterion):
    """nn.MultiMarginCriterion([p=1], [weights], [margin=1]): multi-class hinge loss.

    Input ``(N, C)`` or ``(C,)`` scores, target 0-based classes ``(N,)`` or a scalar. Per sample
    ``sum_{d != y} w[y] * max(0, margin - x[y] + x[d])^p / C``; summed over the samples and
    divided by N when ``sizeAverage``. ``p`` is 1 or 2.
    """

    def __init__(self, p: int = 1, weights: Any = None, margin: float = 1.0) -> None:
        super().__init__()
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError(f"nn.MultiMarginCriterion: p should be 1 or 2, got {p!r}")
        self.p = int(p)
        self.weights = _weights_arg(weights, "nn.MultiMarginCriterion")
        self.margin = number_arg(self, "margin", "the margin", margin)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        return _check_classes(self, input, target)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return jnp.any((target < 0) | (target >= input.shape[-1]))

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.multi_margin(input, target, self.p, self.weights, self.margin, self.sizeAverage)


class MultiLabelMarginCriterion(Criterion):
    """nn.MultiLabelMarginCriterion(): multi-class multi-label hinge loss.

    Input ``(N, C)`` or ``(C,)``; target of the same shape holding each sample's 0-based target
    classes, ended by the first -1 (Torch7 ends them with a 0, its classes being 1-based): a
    target ``[3, 0, -1, 1]`` means classes 3 and 0. Per sample, for each target class ``j`` and
    each class ``d`` not among the targets, ``max(0, 1 - x[j] + x[d])``; the sum divided by C,
    and by N when ``sizeAverage``.
    """

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        if input.ndim not in (1, 2):
            raise ModuleError(
                self._describe(), f"expected input (N, C) or (C,), got {shape_str(input)}"
            )
        if jnp.shape(target) != input.shape:
            raise ModuleError(
                self._describe(),
                f"expected a target of the input's shape {shape_str(input)} (class indices "
                f"ended by -1), got {shape_str(target)}",
            )
        if not _concrete(target):
            return input, jnp.asarray(target, jnp.int32)
        t = np.asarray(target)
        if t.dtype == object:  # Python ints beyond int64
            t = t.astype(np.float64)
        c = input.shape[-1]
        if not np.issubdtype(t.dtype, np.integer):
            bad = np.flatnonzero(t.ravel() != np.round(t.ravel()))  # NaN too
            if bad.size:
                raise ModuleError(
                    self._describe(),
                    f"expected integer class indices, got {t.ravel()[bad[0]]:g} at position "
                    f"{int(bad[0])}",
                )
        flat = t.ravel()
        bad = np.flatnonzero((flat < -1) | (flat >= c))
        if bad.size:
            i = int(bad[0])
            raise ModuleError(
                self._describe(),
                f"expected class indices in [0, {c}) or -1 (the end of a sample's list), got "
                f"{flat[i]:g} at position {i}",
            )
        return input, jnp.asarray(t, jnp.int32)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return jnp.any((target < -1) | (target >= input.shape[-1]))

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.multilabel_margin(input, target, self.sizeAverage)


class MultiLabelSoftMarginCriterion(Criterion):
    """nn.MultiLabelSoftMarginCriterion([weights], [sizeAverage=True]): multi-label logistic
    loss ``-sum w (t log p + (1 - t) log(1 - p))`` with ``p = sigmoid(x)``, divided by the
    element count when ``sizeAverage``. Targets are 0 or 1, with the input's shape; ``weights``
    a vector over the last dimension.
    """

    def __init__(self, weights: Any = None, sizeAverage: bool = True) -> None:
        super().__init__()
        self.weights = _weights_arg(weights, "nn.MultiLabelSoftMarginCriterion")
        self.sizeAverage = bool(sizeAverage)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        input, target = _check_same_elements(self, input, target)
        if self.weights is not None and (
            input.ndim == 0 or input.shape[-1] != self.weights.shape[0]
        ):
            raise ModuleError(
                self._describe(),
                f"weights has {self.weights.shape[0]} entries but the input is {shape_str(input)}",
            )
        return input, target

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.multilabel_soft_margin(input, target, self.weights, self.sizeAverage)


class HingeEmbeddingCriterion(Criterion):
    """nn.HingeEmbeddingCriterion([margin=1]): ``x`` where ``y = 1``, ``max(0, margin - x)``
    where ``y = -1`` (x: distances, e.g. from nn.PairwiseDistance); summed, divided by the
    element count when ``sizeAverage``.
    """

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = number_arg(self, "margin", "the margin", margin)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        input, target = _check_same_elements(self, input, target)
        return input, _check_signs(self, target)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return _bad_signs(target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.hinge_embedding(input, target, self.margin, self.sizeAverage)


class L1HingeEmbeddingCriterion(Criterion):
    """nn.L1HingeEmbeddingCriterion([margin=1]): for a pair ``{x1, x2}`` and ``y`` (1 or -1),
    with ``d = |x1 - x2|_1``: ``d`` if ``y = 1``, else ``max(0, margin - d)``. No averaging.
    """

    table_input = True

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = number_arg(self, "margin", "the margin", margin)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        pair = _check_pair(self, input)
        if jnp.size(target) != 1:
            raise ModuleError(
                self._describe(), f"expected one target, 1 or -1, got {shape_str(target)}"
            )
        return list(pair), jnp.reshape(jnp.asarray(_check_signs(self, target)), ())

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return _bad_signs(target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.l1_hinge_embedding(input[0], input[1], target, self.margin)


class CosineEmbeddingCriterion(Criterion):
    """nn.CosineEmbeddingCriterion([margin=0]): for pairs ``{x1, x2}`` of rows ``(N, D)`` (or
    one ``(D,)`` pair) and targets ``y`` (1 or -1): ``1 - cos(x1, x2)`` where ``y = 1``,
    ``max(0, cos(x1, x2) - margin)`` where ``y = -1``; summed, divided by N when ``sizeAverage``.
    """

    table_input = True

    def __init__(self, margin: float = 0.0) -> None:
        super().__init__()
        self.margin = number_arg(self, "margin", "the margin", margin)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        x1, x2 = _check_pair(self, input)
        if x1.ndim not in (1, 2):
            raise ModuleError(
                self._describe(), f"expected x1, x2 of shape (N, D) or (D,), got {shape_str(x1)}"
            )
        n = x1.shape[0] if x1.ndim == 2 else 1
        if jnp.size(target) != n:
            raise ModuleError(
                self._describe(),
                f"expected {n} target(s), one per pair of rows, got {shape_str(target)}",
            )
        target = _check_signs(self, target)
        return [x1, x2], jnp.reshape(jnp.asarray(target, x1.dtype), (n,))

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return _bad_signs(target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.cosine_embedding(input[0], input[1], target, self.margin, self.sizeAverage)


class MarginRankingCriterion(Criterion):
    """nn.MarginRankingCriterion([margin=1]): for a pair ``{x1, x2}`` of scores and ``y`` (1 or
    -1: which should rank higher), ``max(0, -y (x1 - x2) + margin)``; over a batch of ``(N,)``
    pairs summed and divided by N when ``sizeAverage`` (a single pair, ``y`` a number, is not).
    """

    table_input = True

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = number_arg(self, "margin", "the margin", margin)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        x1, x2 = _check_pair(self, input)
        if jnp.size(target) != jnp.size(x1):
            raise ModuleError(
                self._describe(),
                f"expected one target per pair, {jnp.size(x1)}, got {shape_str(target)}",
            )
        target = jnp.asarray(_check_signs(self, target), x1.dtype)
        if jnp.ndim(target) == 0:  # one pair: never averaged
            return [x1, x2], target
        return [x1, x2], jnp.reshape(target, jnp.shape(x1))

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return _bad_signs(target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.margin_ranking(input[0], input[1], target, self.margin, self.sizeAverage)
