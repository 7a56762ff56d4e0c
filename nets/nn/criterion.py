"""Criterions (torch/nn doc/criterion.md): the Criterion base, ClassNLLCriterion,
CrossEntropyCriterion, MSECriterion, BCECriterion, AbsCriterion, SmoothL1Criterion,
DistKLDivCriterion, WeightedMSECriterion, SpatialAutoCropMSECriterion, L1Cost,
DistanceRatioCriterion. The margin losses are in `criterion_margin`, the spatial and simplex class
losses in `criterion_class`, the weighted sums of criterions in `criterion_composite`.

A criterion is a module (`nets.nn.Module`): its settings are hyper-parameters, its arrays
(class ``weights``) buffers, and its compiled code lives in the one cache (`nets.nn.compiled`).
Its maths is the pure ``call(input, target)`` (one `nets.nn.functional` loss), safe under
``jax.jit``/``jax.grad``; ``prepare(input, target)`` validates and converts in Python, on
concrete values, so a bad target is a clear error, never an XLA trace. ``forward``/``backward``
run ``prepare``, then the compiled loss or its gradient.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ModuleError, shape_str
from . import compiled
from . import functional as F  # noqa: N812
from .module import Module, _tracing
from .state import BUFFER, as_input
from .structure import tree


class Criterion(Module):
    """nn.Criterion(): base class of the loss functions.

    Subclasses set their settings in ``__init__`` and implement ``call(input, target)`` with
    `jax.numpy`, and optionally ``prepare(input, target)`` to validate and convert. A criterion
    written Torch7's way, with ``updateOutput(input, target)`` in `jax.numpy`, works too.
    ``forward`` returns the loss as a Python float (``output``); ``backward`` returns
    ``gradInput``, the gradient of the loss with respect to the input, by autodiff. Inside a
    JAX transformation both return traced values and leave ``output``/``gradInput`` alone.
    """

    # whether the input is a table of arrays ({x1, x2}), kept as a list, not stacked
    table_input = False

    def __init__(self) -> None:
        super().__init__()
        self.output = 0.0
        self.sizeAverage = True

    # ------------------------------------------------------------------ to implement

    def call(self, input: Any, target: Any) -> jax.Array:
        """The pure loss: a scalar array (override in subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(input, target)")

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        """Validate (in Python, on concrete values) and convert input and target; training
        loops call it on each batch's shapes before compiling (override in subclasses)."""
        return input, target

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        """Whether any of the prepared targets is invalid for `input`, as a boolean array that
        compiled training steps compute on every batch (the default: never)."""
        return jnp.zeros((), bool)

    def loss(self, input: Any, target: Any) -> jax.Array:
        """The pure loss of prepared input and target: `call`, or a Torch-style
        ``updateOutput`` written in jax.numpy."""
        cls = type(self)
        if cls.call is Criterion.call and cls.updateOutput is not Criterion.updateOutput:
            return self.updateOutput(input, target)
        return self.call(input, target)

    # ------------------------------------------------------------------ Torch surface

    def _arguments(self, input: Any, target: Any) -> tuple[Any, Any]:
        # A target that is not on the device yet stays a NumPy array until `prepare` has
        # checked it: jnp.asarray would wrap an int64 class index of 2**32 + 3 to 3.
        if isinstance(target, (jax.Array, list, tuple)):
            target = jnp.asarray(as_input(target))
        else:
            target = np.asarray(target)
        input = as_input(input)
        if self.table_input and isinstance(input, list):  # a pair {x1, x2} stays a table
            return self.prepare([jnp.asarray(v) for v in input], target)
        return self.prepare(jnp.asarray(input), target)

    def updateOutput(self, input: Any, target: Any) -> Any:
        """Compute the loss, store it in ``output`` and return it (a Python float)."""
        if _tracing(input, target):
            return self.loss(*self._arguments(input, target))
        input, target = self._arguments(input, target)
        buffers = tree(self).values(BUFFER)
        self.output = float(compiled.criterion_fn(self, "loss")(buffers, input, target))
        return self.output

    def updateGradInput(self, input: Any, target: Any) -> Any:
        """Compute d loss / d input, store it in ``gradInput`` and return it."""
        if _tracing(input, target):
            input, target = self._arguments(input, target)
            return jax.grad(self.loss)(input, target)
        input, target = self._arguments(input, target)
        buffers = tree(self).values(BUFFER)
        self.gradInput = compiled.criterion_fn(self, "grad")(buffers, input, target)
        return self.gradInput

    def forward(self, input: Any, target: Any) -> Any:
        """The loss (Torch7's ``criterion:forward(input, target)``)."""
        return self.updateOutput(input, target)

    def backward(self, input: Any, target: Any) -> Any:
        """d loss / d input (Torch7's ``criterion:backward(input, target)``)."""
        return self.updateGradInput(input, target)

    __call__ = forward


# ---------------------------------------------------------------------- shared checks


def _check_same_elements(crit: Criterion, input: Any, target: Any) -> tuple[Any, Any]:
    """Torch7 pairs input and target element by element: same count; target takes input's shape."""
    if input.size != target.size:
        raise ModuleError(
            crit._describe(),
            f"expected a target with as many elements as the input {shape_str(input)}, "
            f"got {shape_str(target)}",
        )
    return input, jnp.reshape(target, input.shape).astype(input.dtype)


def _weights_arg(weights: Any, who: str) -> jax.Array | None:
    if weights is None:
        return None
    w = jnp.asarray(weights, jnp.float32)
    if w.ndim != 1:
        raise ValueError(f"{who}: weights should be a 1-D array, got shape {w.shape}")
    return w


def _check_classes(crit: Criterion, input: Any, target: Any) -> tuple[Any, Any]:
    """(C,) + scalar or (N, C) + (N,) with 0-based integer targets in range."""
    if input.ndim not in (1, 2):
        raise ModuleError(
            crit._describe(),
            f"expected input (N, nClasses) or (nClasses,), got {shape_str(input)}",
        )
    n_classes = input.shape[-1]
    want = (input.shape[0],) if input.ndim == 2 else ()
    if target.shape != want and not (input.ndim == 1 and target.shape == (1,)):
        raise ModuleError(
            crit._describe(),
            f"expected a target of shape {shape_str(jnp.zeros(want))} for input "
            f"{shape_str(input)}, got {shape_str(target)}",
        )
    weights = getattr(crit, "weights", None)
    if weights is not None and weights.shape[0] != n_classes:
        raise ModuleError(
            crit._describe(),
            f"weights has {weights.shape[0]} entries but the input has {n_classes} classes",
        )
    if isinstance(target, jax.core.Tracer):
        return input, jnp.reshape(target, want).astype(jnp.int32)
    t = np.asarray(target).reshape(want)
    if t.dtype == object:  # Python ints beyond int64
        t = t.astype(np.float64)
    if not np.issubdtype(t.dtype, np.integer):
        if not np.all(np.isfinite(t)) or not np.all(t == np.round(t)):
            raise ModuleError(crit._describe(), f"expected integer class indices, got {t.tolist()}")
    bad = np.flatnonzero((t.ravel() < 0) | (t.ravel() >= n_classes))
    if bad.size:
        i = int(bad[0])
        value = t.ravel()[i]
        shown = str(int(value)) if np.issubdtype(t.dtype, np.integer) else f"{value:.17g}"
        hint = " (targets are 0-based in nets, unlike Torch7)" if value == n_classes else ""
        raise ModuleError(
            crit._describe(),
            f"expected class indices in [0, {n_classes}), got {shown} at position {i}{hint}",
        )
    return input, jnp.asarray(t, jnp.int32)


# ---------------------------------------------------------------------- criterions


class ClassNLLCriterion(Criterion):
    """nn.ClassNLLCriterion([weights], [sizeAverage=True]): negative log-likelihood.

    Input: log-probabilities ``(N, nClasses)`` (e.g. from LogSoftMax) or ``(nClasses,)``.
    Target: 0-based class indices ``(N,)`` or a scalar. Loss ``-sum_i w[t_i] * input[i, t_i]``,
    divided by ``sum_i w[t_i]`` when ``sizeAverage`` (by N without weights), as Torch7.
    """

    def __init__(self, weights: Any = None, sizeAverage: bool = True) -> None:
        super().__init__()
        self.weights = _weights_arg(weights, "nn.ClassNLLCriterion")
        self.sizeAverage = bool(sizeAverage)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        return _check_classes(self, input, target)

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        """A class index outside ``[0, nClasses)`` (checked in the compiled step)."""
        return jnp.any((target < 0) | (target >= input.shape[-1]))

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.class_nll(input, target, self.weights, self.sizeAverage)


class CrossEntropyCriterion(ClassNLLCriterion):
    """nn.CrossEntropyCriterion([weights], [sizeAverage=True]): LogSoftMax then ClassNLL.

    Input: unnormalised scores ``(N, nClasses)`` or ``(nClasses,)``; target as ClassNLLCriterion.
    """

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.cross_entropy(input, target, self.weights, self.sizeAverage)


class MSECriterion(Criterion):
    """nn.MSECriterion([sizeAverage=True]): ``sum((x - t)^2)``, divided by the element count.

    Input and target: any shapes with the same number of elements.
    """

    def __init__(self, sizeAverage: bool = True) -> None:
        super().__init__()
        self.sizeAverage = bool(sizeAverage)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        return _check_same_elements(self, input, target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.mse(input, target, self.sizeAverage)


class AbsCriterion(MSECriterion):
    """nn.AbsCriterion([sizeAverage=True]): ``sum(|x - t|)``, divided by the element count."""

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.abs_loss(input, target, self.sizeAverage)


class SmoothL1Criterion(MSECriterion):
    """nn.SmoothL1Criterion([sizeAverage=True]): Huber loss with threshold 1.

    Per element ``0.5 z^2`` if ``z = |x - t| < 1``, else ``z - 0.5``; summed, and divided by
    the element count when ``sizeAverage``.
    """

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.smooth_l1(input, target, self.sizeAverage)


class BCECriterion(Criterion):
    """nn.BCECriterion([weights], [sizeAverage=True]): binary cross-entropy.

    ``-sum w * (t log(x + eps) + (1 - t) log(1 - x + eps))`` with ``eps = 1e-12`` (Torch7);
    ``x`` are probabilities (e.g. from Sigmoid) and ``t`` targets in [0, 1] of the same size.
    ``weights`` is a vector over the last input dimension, repeated over the batch.
    """

    def __init__(self, weights: Any = None, sizeAverage: bool = True) -> None:
        super().__init__()
        self.weights = _weights_arg(weights, "nn.BCECriterion")
        self.sizeAverage = bool(sizeAverage)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        input, target = _check_same_elements(self, input, target)
        if not isinstance(input, jax.core.Tracer):
            x = np.asarray(input).ravel()
            bad = np.flatnonzero(~((x >= 0) & (x <= 1)))  # NaN is outside too
            if bad.size:
                i = int(bad[0])
                raise ModuleError(
                    self._describe(),
                    f"expected input probabilities in [0, 1] (e.g. from nn.Sigmoid), got "
                    f"{float(x[i]):g} at position {i}",
                )
        if self.weights is not None and (
            input.ndim == 0 or input.shape[-1] != self.weights.shape[0]
        ):
            raise ModuleError(
                self._describe(),
                f"weights has {self.weights.shape[0]} entries but the input's last dimension "
                f"is {shape_str(input)}",
            )
        return input, target

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.bce(input, target, self.weights, self.sizeAverage)


class DistKLDivCriterion(Criterion):
    """nn.DistKLDivCriterion(): Kullback-Leibler divergence.

    Input: log-probabilities; target: probabilities with as many elements. Loss
    ``sum over t > 0 of t * (log t - x)``, divided by the element count when ``sizeAverage``.
    """

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        return _check_same_elements(self, input, target)

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.dist_kl_div(input, target, self.sizeAverage)


class WeightedMSECriterion(MSECriterion):
    """nn.WeightedMSECriterion(w): `MSECriterion` against ``target * w``.

    ``w`` has the shape of the input, or of one sample of a batch (then it weights every
    sample alike). It is a buffer, not a trained parameter.
    """

    def __init__(self, w: Any) -> None:
        super().__init__()
        self.register_buffer("weight", jnp.asarray(w, jnp.float32))

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        input, target = _check_same_elements(self, input, target)
        w = self.weight.shape
        if w != input.shape and w != input.shape[1:]:
            raise ModuleError(
                self._describe(),
                f"expected weights of the input's shape {shape_str(input)} or of one sample's, "
                f"got {shape_str(self.weight)}",
            )
        return input, target

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.weighted_mse(input, target, self.weight, self.sizeAverage)


class SpatialAutoCropMSECriterion(MSECriterion):
    """nn.SpatialAutoCropMSECriterion([sizeAverage=True]): `MSECriterion` against the centre of
    a larger target.

    Input and target are ``(N, C, H, W)`` or ``(C, H, W)``; the target, at least as tall and
    wide as the input, is cropped to the input's size around its centre first.
    """

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        if input.ndim not in (3, 4) or jnp.ndim(target) != input.ndim:
            raise ModuleError(
                self._describe(),
                f"expected input and target of 3 or 4 dimensions alike, got {shape_str(input)} "
                f"and {shape_str(target)}",
            )
        (h, w), (th, tw) = input.shape[-2:], jnp.shape(target)[-2:]
        if th < h or tw < w or jnp.shape(target)[:-2] != input.shape[:-2]:
            raise ModuleError(
                self._describe(),
                f"expected a target at least as tall and wide as the input {shape_str(input)} "
                f"(same leading sizes), got {shape_str(target)}",
            )
        target = F.center_crop2d(jnp.asarray(target, input.dtype), h, w)
        return input, target


class L1Cost(Criterion):
    """nn.L1Cost(): ``sum |x|``, an L1 penalty on the input; the target is ignored (optional)."""

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.l1_cost(input)

    def forward(self, input: Any, target: Any = 0) -> Any:
        return super().forward(input, target)

    def backward(self, input: Any, target: Any = 0) -> Any:
        return super().backward(input, target)

    __call__ = forward


class DistanceRatioCriterion(Criterion):
    """nn.DistanceRatioCriterion([sizeAverage=True]): the triplet loss of a pair of distances.

    Input ``{X, Y}``: distances ``(N,)`` of similar and of dissimilar pairs; loss
    ``-log(exp(-X) / (exp(-X) + exp(-Y)))``, summed, divided by N when ``sizeAverage``. The
    target is ignored (optional). Reference: https://arxiv.org/abs/1610.00243.
    """

    table_input = True

    def __init__(self, sizeAverage: bool = True) -> None:
        super().__init__()
        self.sizeAverage = bool(sizeAverage)

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ModuleError(
                self._describe(),
                f"expected a table of two distances {{X, Y}}, got {shape_str(input)}",
            )
        x, y = input
        if jnp.ndim(x) == 0 or jnp.shape(x) != jnp.shape(y):
            raise ModuleError(
                self._describe(),
                f"expected X and Y of one shape (N,), got {shape_str(x)} and {shape_str(y)}",
            )
        return [x, y], target

    def call(self, input: Any, target: Any) -> jax.Array:
        return F.distance_ratio(input[0], input[1], self.sizeAverage)

    def forward(self, input: Any, target: Any = 0) -> Any:
        return super().forward(input, target)

    def backward(self, input: Any, target: Any = 0) -> Any:
        return super().backward(input, target)

    __call__ = forward
