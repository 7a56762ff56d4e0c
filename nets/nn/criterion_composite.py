"""Weighted sums of criterions (torch/nn doc/criterion.md): ParallelCriterion (criterion i on
input i) and MultiCriterion (every criterion on the same input); and the wrappers
CriterionTable (a criterion as a module) and ModuleCriterion (modules before a criterion).
The children are the ``modules``, so they are printed, compiled and saved with the owner."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .._errors import ModuleError, shape_str
from .criterion import Criterion
from .module import Module


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


# ---- more Torch7 criterion wrappers (issue 19)


def _module_arg(owner: str, name: str, value: Any, criterion: bool = False) -> Any:
    want = Criterion if criterion else Module
    if not isinstance(value, want) or (not criterion and isinstance(value, Criterion)):
        kind = "an nn criterion" if criterion else "an nn module (not a criterion)"
        raise ModuleError(owner, f"expected {name} to be {kind}, got {type(value).__name__}")
    return value


class CriterionTable(Module):
    """nn.CriterionTable(criterion): a module whose input is the table ``{input, target}`` and
    whose output is ``criterion(input, target)`` (a scalar array), so a loss can sit inside a
    network; the gradient reaches ``input`` (the target's is zero). Shapes are checked as the
    criterion checks them; a target whose values are invalid (a class index out of range)
    gives a NaN output, since a compiled network cannot raise on values."""

    def __init__(self, criterion: Criterion) -> None:
        super().__init__()
        self.modules = [_module_arg("nn.CriterionTable", "criterion", criterion, True)]

    @property
    def criterion(self) -> Criterion:
        """The wrapped criterion."""
        return self.modules[0]

    def updateOutput(self, input: Any) -> Any:
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ModuleError(
                self._describe(), f"expected a table {{input, target}}, got {shape_str(input)}"
            )
        try:
            x, t = self.criterion.prepare(*input)
        except ModuleError as e:
            raise e.within(0) from None
        loss = self.criterion.loss(x, t)
        # inside a compiled pass the target's values cannot be checked: a bad one gives NaN, as
        # in the Engine's compiled steps
        self.output = jnp.where(self.criterion.bad_targets(x, t), jnp.nan, loss)
        return self.output

    def __repr__(self) -> str:
        return f"nn.CriterionTable({self.criterion._describe()})"


class ModuleCriterion(Criterion):
    """nn.ModuleCriterion(criterion, [inputModule], [targetModule], [castTarget=True]):
    ``criterion(inputModule(input), targetModule(target))``; a missing module passes its
    argument through. The gradient goes back through ``inputModule``.

    As in Torch7, the modules' parameters are not trained through it; here a module with
    parameters is refused rather than left stale (Torch7 printed a warning). ``castTarget`` is
    kept for Torch7's signature (arrays have one type here).
    """

    def __init__(
        self,
        criterion: Criterion,
        inputModule: Module | None = None,
        targetModule: Module | None = None,
        castTarget: bool = True,
    ) -> None:
        super().__init__()
        who = "nn.ModuleCriterion"
        self.modules = [_module_arg(who, "criterion", criterion, True)]
        self.hasInputModule = inputModule is not None
        self.hasTargetModule = targetModule is not None
        for name, m in (("inputModule", inputModule), ("targetModule", targetModule)):
            if m is None:
                continue
            _module_arg(who, name, m)
            if m.parameters()[0]:
                raise ModuleError(
                    who,
                    f"expected {name} without parameters (ModuleCriterion does not train them), "
                    f"got {m._describe()} with parameters",
                )
            self.modules.append(m)
        self.castTarget = bool(castTarget)

    @property
    def criterion(self) -> Criterion:
        """The wrapped criterion."""
        return self.modules[0]

    def _transformed(self, input: Any, target: Any) -> tuple[Any, Any]:
        i = 1
        if self.hasInputModule:
            input = self.modules[i].forward(input)
            i += 1
        if self.hasTargetModule:
            target = self.modules[i].forward(target)
        return input, target

    def prepare(self, input: Any, target: Any) -> tuple[Any, Any]:
        # validate what the criterion will see; hand on the untransformed pair
        try:
            self.criterion.prepare(*self._transformed(input, target))
        except ModuleError as e:
            raise e.within(0) from None
        return input, target

    def call(self, input: Any, target: Any) -> jax.Array:
        x, t = self.criterion.prepare(*self._transformed(input, target))
        return self.criterion.loss(x, t)
