"""Weighted sums of criterions (torch/nn doc/criterion.md): ParallelCriterion (criterion i on
input i) and MultiCriterion (every criterion on the same input). The children are the
criterion's ``modules``, so they are printed, compiled and saved with it."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .._errors import ModuleError, shape_str
from .criterion import Criterion


def _weight(owner: Criterion, weight: Any) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise ValueError(
            f"{owner._describe()}.add: weight should be a number, got {type(weight).__name__}"
        )
    return float(weight)


def _table_of(value: Any, n: int) -> bool:
    """A list or tuple of at least `n` entries, or an array of at least `n` along axis 0."""
    if isinstance(value, (list, tuple)):
        return len(value) >= n
    return jnp.ndim(value) > 0 and jnp.shape(value)[0] >= n


class _Sum(Criterion):
    """What the two share: ``add(criterion, weight)``. They print as Torch7's do, by type name
    (``nn.ParallelCriterion``); ``criterions`` and ``weights`` hold the parts."""

    def __init__(self) -> None:
        super().__init__()
        self.modules = []
        self.weights = ()

    @property
    def criterions(self) -> list:
        """The children, in order (Torch7's ``criterions`` table)."""
        return self.modules

    def add(self, criterion: Criterion, weight: float = 1) -> _Sum:
        """Add `criterion` with `weight` (1); returns self, so calls chain."""
        if not isinstance(criterion, Criterion):
            raise ValueError(
                f"{self._describe()}.add: expected an nn criterion, got {type(criterion).__name__}"
            )
        weight = _weight(self, weight)
        self.modules.append(criterion)
        self.weights = (*self.weights, weight)  # a new tuple: the structure changed
        return self

    def _empty(self) -> None:
        if not self.modules:
            raise ModuleError(self._describe(), "has no criterions; add some with :add(c, w)")


class ParallelCriterion(_Sum):
    """nn.ParallelCriterion([repeatTarget=False]): ``sum_i w_i * criterion_i(input[i], t_i)``.

    The input is a table with one entry per criterion; ``t_i`` is ``target[i]``, or the whole
    target for every criterion when ``repeatTarget`` (GoogLeNet's weighted auxiliary losses).
    """

    def __init__(self, repeatTarget: bool = False) -> None:
        super().__init__()
        self.repeatTarget = bool(repeatTarget)

    def _split(self, input: Any, target: Any) -> tuple[list, list]:
        """Entry i of each table; an array counts as the table of its first axis, as Torch7's
        ``input[i]`` indexes a tensor."""
        self._empty()
        n = len(self.modules)
        if not _table_of(input, n):
            raise ModuleError(
                self._describe(),
                f"expected a table of {n} inputs, one per criterion, got {shape_str(input)}",
            )
        inputs = [input[i] for i in range(n)]
        if self.repeatTarget:
            return inputs, [target] * n
        if not _table_of(target, n):
            raise ModuleError(
                self._describe(),
                f"expected a table of {n} targets, one per criterion (or repeatTarget=true), "
                f"got {shape_str(target)}",
            )
        return inputs, [target[i] for i in range(n)]

    def _arguments(self, input: Any, target: Any) -> tuple[Any, Any]:
        inputs, targets = self._split(input, target)
        pairs = []
        for i, (c, x, t) in enumerate(zip(self.modules, inputs, targets, strict=True)):
            try:
                pairs.append(c._arguments(x, t))
            except ModuleError as e:
                raise e.within(i) from None
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        inputs, targets = self._split(input, target)
        pairs = []
        for i, (c, x, t) in enumerate(zip(self.modules, inputs, targets, strict=True)):
            try:
                pairs.append(c.prepare(x, t))
            except ModuleError as e:
                raise e.within(i) from None
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        checks = [c.bad_targets(x, t) for c, x, t in zip(self.modules, input, target, strict=True)]
        return jnp.any(jnp.stack(checks))

    def call(self, input: Any, target: Any) -> jax.Array:
        terms = zip(self.modules, self.weights, input, target, strict=True)
        return sum(w * c.loss(x, t) for c, w, x, t in terms)


class MultiCriterion(_Sum):
    """nn.MultiCriterion(): ``sum_i w_i * criterion_i(input, target)``, every criterion on the
    same input and target."""

    def _arguments(self, input: Any, target: Any) -> tuple[Any, Any]:
        self._empty()
        pairs = []
        for i, c in enumerate(self.modules):
            try:
                pairs.append(c._arguments(input, target))
            except ModuleError as e:
                raise e.within(i) from None
        return pairs[0][0], [p[1] for p in pairs]

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        self._empty()
        pairs = []
        for i, c in enumerate(self.modules):
            try:
                pairs.append(c.prepare(input, target))
            except ModuleError as e:
                raise e.within(i) from None
        return pairs[0][0], [p[1] for p in pairs]

    def bad_targets(self, input: Any, target: Any) -> jax.Array:
        return jnp.any(
            jnp.stack([c.bad_targets(input, t) for c, t in zip(self.modules, target, strict=True)])
        )

    def call(self, input: Any, target: Any) -> jax.Array:
        terms = zip(self.modules, self.weights, target, strict=True)
        return sum(w * c.loss(input, t) for c, w, t in terms)
