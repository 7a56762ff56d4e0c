"""Class criterions beyond ClassNLL (torch/nn doc/criterion.md): SpatialClassNLLCriterion (one
class per pixel) and ClassSimplexCriterion (classes as the vertices of a regular simplex).
Targets are 0-based classes, range-checked on the host before tracing."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ModuleError, shape_str
from .._shape import int_arg
from . import functional as F  # noqa: N812
from .criterion import Criterion, _weights_arg


def _class_targets(crit: Criterion, target: Any, want: tuple, n_classes: int) -> jax.Array:
    """Integer targets of shape `want` in ``[0, n_classes)``; checked when concrete."""
    if jnp.shape(target) != want:
        raise ModuleError(
            crit._describe(),
            f"expected a target of shape {shape_str(np.zeros(want))}, got {shape_str(target)}",
        )
    if isinstance(target, jax.core.Tracer):
        return jnp.asarray(target, jnp.int32)
    t = np.asarray(target)
    if t.dtype == object:  # Python ints beyond int64
        t = t.astype(np.float64)
    if not np.issubdtype(t.dtype, np.integer):
        bad = np.flatnonzero(~np.isfinite(t) | (t != np.round(t)))
        if bad.size:
            raise ModuleError(
                crit._describe(),
                f"expected integer class indices, got {t.ravel()[bad[0]]:g} at flat position "
                f"{int(bad[0])}",
            )
    flat = t.ravel()
    bad = np.flatnonzero((flat < 0) | (flat >= n_classes))
    if bad.size:
        i = int(bad[0])
        where = np.unravel_index(i, want) if want else ()
        hint = " (targets are 0-based in nets, unlike Torch7)" if flat[i] == n_classes else ""
        raise ModuleError(
            crit._describe(),
            f"expected class indices in [0, {n_classes}), got {flat[i]:g} at "
            f"{tuple(int(k) for k in where)}{hint}",
        )
    return jnp.asarray(t, jnp.int32)


class SpatialClassNLLCriterion(Criterion):
    """nn.SpatialClassNLLCriterion([weights], [sizeAverage=True]): ClassNLL at every pixel.

    Input: log-probabilities ``(N, C, H, W)`` (or one ``(C, H, W)`` sample); target: 0-based
    classes ``(N, H, W)`` (or ``(H, W)``). Loss ``-sum w[t] * x[n, t, h, w]``, divided by the
    summed weights of the targets when ``sizeAverage`` (and they are not 0).
    """

    def __init__(self, weights: Any = None, sizeAverage: bool = True) -> None:
        super().__init__()
        self.weights = _weights_arg(weights, "nn.SpatialClassNLLCriterion")
        self.sizeAverage = bool(sizeAverage)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        if input.ndim not in (3, 4):
            raise ModuleError(
                self._describe(),
                f"expected input (N, C, H, W) or (C, H, W), got {shape_str(input)}",
            )
        c = input.shape[-3]
        if self.weights is not None and self.weights.shape[0] != c:
            raise ModuleError(
                self._describe(),
                f"weights has {self.weights.shape[0]} entries but the input has {c} classes",
            )
        want = input.shape[:-3] + input.shape[-2:]
        target = _class_targets(self, target, want, c)
        if input.ndim == 3:
            return input[None], target[None]
        return input, target

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return jnp.any((target < 0) | (target >= input.shape[1]))

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.spatial_class_nll(input, target, self.weights, self.sizeAverage)


class ClassSimplexCriterion(Criterion):
    """nn.ClassSimplexCriterion(nClasses): MSE to the class's vertex of a regular simplex.

    Each class is a point of a regular (nClasses-1)-simplex of unit vertices, embedded in
    nClasses dimensions (``simplex``, (nClasses, nClasses)). Input ``(N, nClasses)`` or
    ``(nClasses,)``; target 0-based classes ``(N,)`` or a scalar; the loss is the MSE
    (``sizeAverage``) between the input and the targets' vertices. ``getPredictions(input)`` is
    ``input @ simplex.T``, ``getTopPrediction(input)`` its argmax (0-based).
    Reference: https://arxiv.org/abs/1506.08230.
    """

    def __init__(self, nClasses: int) -> None:
        super().__init__()
        self.nClasses = int_arg(self, "nClasses", "the number of classes", nClasses, minimum=2)
        simplex = F.regular_simplex(self.nClasses - 1)
        self.simplex = jnp.asarray(
            np.concatenate([simplex, np.zeros((self.nClasses, 1))], axis=1), jnp.float32
        )

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        want = (self.nClasses,) if input.ndim == 1 else (input.shape[0], self.nClasses)
        if input.shape != want or input.ndim > 2:
            raise ModuleError(
                self._describe(),
                f"expected input (N, {self.nClasses}) or ({self.nClasses},), "
                f"got {shape_str(input)}",
            )
        if input.ndim == 1 and jnp.shape(target) == (1,):
            target = jnp.reshape(jnp.asarray(target), ())
        return input, _class_targets(self, target, want[:-1], self.nClasses)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return jnp.any((target < 0) | (target >= self.nClasses))

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.mse(input, self.simplex.astype(input.dtype)[target], self.sizeAverage)

    def getPredictions(self, input: Any) -> jax.Array:  # noqa: N802 (Torch7's name)
        """Scores of each class: the input's dot products with the vertices, (N, nClasses)."""
        x = jnp.asarray(input)
        return jnp.reshape(x, (-1, self.nClasses)) @ self.simplex.T

    def getTopPrediction(self, input: Any) -> jax.Array:  # noqa: N802 (Torch7's name)
        """The best class of each sample, 0-based, (N,)."""
        return jnp.argmax(self.getPredictions(input), axis=1)
