"""``nan_hunt(net, x[, target, criterion])``: where a network first goes non-finite, and why.

The network runs once eagerly (no compilation), in training mode as the Engine trains it, with
every module's input and output recorded; then once more under ``jax.vjp`` with a zero "tap"
added to every module's input and output, so that the gradient of the loss with respect to
each of them comes back by name. The report names the first module, in the order the values
are computed, whose output is non-finite (forward) or, walking backward from the loss, the
first whose gradient with respect to its input or parameters is non-finite while the gradient
it received is finite. It gives the module's path, the statistics of its input (and of the
gradient it received), and the parameter that caused it: one already non-finite, the one whose
gradient went non-finite first, or else the largest in magnitude.

This is the long form of the eager pass ``Engine.train`` runs when its finite check fires
(`nets.nn.trainer.explain_nonfinite`, which names only the layer). It shares its helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .nn.binding import bound, pure_call
from .nn.module import Module
from .nn.state import BUFFER
from .nn.structure import tree
from .nn.trainer import _first_nonfinite

_KEY_SEED = 0  # dropout key of the eager passes (the same in both, so they see one network)


def _leaves(value: Any) -> list[Any]:
    return [v for v in jax.tree_util.tree_leaves(value) if hasattr(v, "dtype")]


def _finite(value: Any) -> bool:
    return all(_first_nonfinite(v) is None for v in _leaves(value))


def stats(value: Any) -> str:
    """One line of statistics of an array (or of each array of a table)."""
    leaves = _leaves(value)
    if len(leaves) != 1:
        return "; ".join(stats(v) for v in leaves) or "no arrays"
    a = np.asarray(leaves[0])
    head = f"{tuple(a.shape)} {a.dtype}"
    if a.size == 0:
        return head + ", empty"
    if not np.issubdtype(a.dtype, np.inexact):
        return f"{head}: min {a.min()} max {a.max()}"
    finite = a[np.isfinite(a)]
    nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    numbers = (
        f"min {finite.min():.4g} max {finite.max():.4g} mean {finite.mean():.4g} "
        f"std {finite.std():.4g}"
        if finite.size
        else "no finite value"
    )
    return f"{head}: {numbers}, {nan} NaN, {inf} Inf of {a.size}"


@dataclass
class NanReport:
    """What `nan_hunt` found; printed as a few lines. `phase` is 'forward', 'backward',
    'loss' or None (everything finite)."""

    phase: str | None
    path: str = ""
    module: str = ""
    lines: list[str] = field(default_factory=list)
    parameter: str | None = None
    checked: int = 0

    @property
    def found(self) -> bool:
        return self.phase is not None

    def __repr__(self) -> str:
        if self.phase is None:
            return (
                f"nan_hunt: every output and gradient is finite ({self.checked} modules, "
                "forward and backward)"
            )
        where = f"({self.path}) {self.module}" if self.path else self.module
        head = {
            "forward": f"nan_hunt: the first non-finite output is that of {where}",
            "backward": f"nan_hunt: the first non-finite gradient comes out of {where}",
            "loss": f"nan_hunt: {self.module}",
        }[self.phase]
        return "\n".join([head, *("  " + line for line in self.lines)])


class _Recorder:
    """Wraps every module's `_run` (on the instance, for one pass) to record or tap values."""

    def __init__(self, network: Module) -> None:
        self.modules = [(p, m) for p, m in network.named_modules()]
        self.order: list[str] = []
        self.inputs: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}

    def install(self, taps: tuple[dict, dict] | None) -> None:
        for path, module in self.modules:
            module.__dict__["_run"] = self._wrapper(path, module, taps)

    def remove(self) -> None:
        for _, module in self.modules:
            module.__dict__.pop("_run", None)

    def _wrapper(self, path: str, module: Module, taps: tuple[dict, dict] | None) -> Callable:
        run = type(module)._run

        def wrapped(input: Any) -> Any:
            if taps is not None:
                input = _add(input, taps[0].get(path))
            output = run(module, input)
            if taps is not None:
                return _add(output, taps[1].get(path))
            if path not in self.outputs:  # a module run twice: its first use
                self.order.append(path)
                self.inputs[path], self.outputs[path] = input, output
            return output

        return wrapped


def _add(value: Any, tap: Any) -> Any:
    if tap is None:
        return value
    return jax.tree_util.tree_map(lambda v, t: v if t is None else v + t, value, tap)


def _zero_tap(value: Any) -> Any:
    def zero(v):
        if hasattr(v, "dtype") and jnp.issubdtype(v.dtype, jnp.inexact):
            return jnp.zeros(v.shape, v.dtype)
        return None

    return jax.tree_util.tree_map(zero, value)


def _own_params(params: dict, path: str) -> dict:
    prefix = f"{path}." if path else ""
    return {k: v for k, v in params.items() if k.startswith(prefix) and "." not in k[len(prefix) :]}


def _largest(params: dict) -> str | None:
    if not params:
        return None
    name, value = max(params.items(), key=lambda kv: float(jnp.max(jnp.abs(kv[1]))))
    return f"{name} (largest |value| {float(jnp.max(jnp.abs(value))):.4g})"


def nan_hunt(
    net: Module, x: Any, target: Any = None, criterion: Any = None, train: bool = True
) -> NanReport:
    """nan_hunt(net, x[, target, criterion]): the first module whose output or gradient is
    non-finite, with its input statistics and the parameter at fault.

    Args:
        net: an ``nn.Module``.
        x: an input batch (arrays or a table of them).
        target, criterion: the loss to take the gradient of; without them the gradient flowing
            back is ones (``backward(x, ones)``).
        train: run in training mode (dropout, batch statistics) as ``Engine.train`` does.

    Returns:
        A `NanReport`; it prints as a few lines (``report.found``, ``report.path``,
        ``report.parameter`` for programs).
    """
    if not isinstance(net, Module):
        raise TypeError(f"nan_hunt: expected an nn.Module as net, got {type(net).__name__}")
    if (target is None) != (criterion is None):
        raise TypeError("nan_hunt: give both target and criterion, or neither")
    x = jax.tree_util.tree_map(jnp.asarray, x)
    params, buffers = net.split()
    names = dict(net.named_modules())
    key = jax.random.key(_KEY_SEED)
    recorder = _Recorder(net)
    recorder.install(None)
    try:
        output = pure_call(net, params, buffers, x, train, key)[0]
    finally:
        recorder.remove()
    report = NanReport(None, checked=len(recorder.order))
    for path in recorder.order:  # the order outputs were computed in: children before parents
        if not _finite(recorder.outputs[path]):
            return _forward_report(path, names[path], recorder, params, x)

    taps = (
        {p: _zero_tap(v) for p, v in recorder.inputs.items()},
        {p: _zero_tap(v) for p, v in recorder.outputs.items()},
    )
    crit_buffers = tree(criterion).values(BUFFER) if isinstance(criterion, Module) else {}

    def loss_of(p: dict, taps: tuple[dict, dict]) -> Any:
        recorder.install(taps)
        try:
            out = pure_call(net, p, buffers, x, train, key)[0]
        finally:
            recorder.remove()
        if criterion is None:
            return sum(jnp.sum(v) for v in _leaves(out) if jnp.issubdtype(v.dtype, jnp.inexact))
        with bound(criterion, {}, crit_buffers, None, None):
            _, prepared = criterion.prepare(out, target)
            return criterion.loss(out, prepared)

    loss, (grads, (grad_in, grad_out)) = jax.value_and_grad(loss_of, argnums=(0, 1))(params, taps)
    if not _finite(loss):
        report.phase, report.module = "loss", f"the loss is {float(loss)} on a finite output"
        report.lines = [f"output: {stats(output)}"]
        return report
    root_grad = grad_out.get("")
    if root_grad is not None and not _finite(root_grad):
        report.phase = "loss"
        report.module = "the criterion's gradient with respect to the output is non-finite"
        report.lines = [f"output: {stats(output)}", f"gradient: {stats(root_grad)}"]
        return report
    leaves = [p for p in reversed(recorder.order) if not names[p].children()]
    for path in leaves:
        own = {k: grads[k] for k in _own_params(params, path)}
        received = grad_out.get(path)
        bad_param = next((k for k, g in own.items() if not _finite(g)), None)
        bad_input = grad_in.get(path) is not None and not _finite(grad_in[path])
        if received is not None and _finite(received) and (bad_param or bad_input):
            report.phase, report.path = "backward", path
            report.module = names[path]._describe()
            report.lines = [
                f"input: {stats(recorder.inputs[path])}",
                f"gradient received: {stats(received)}",
            ]
            if bad_param is not None:
                report.parameter = bad_param
                report.lines.append(f"parameter {bad_param}: gradient {stats(own[bad_param])}")
            else:
                report.lines.append(f"gradient passed back: {stats(grad_in[path])}")
                report.parameter = _largest(_own_params(params, path))
                report.lines.append(
                    f"its parameters are finite; {report.parameter}"
                    if report.parameter
                    else "it has no parameters: its derivative at this input is non-finite"
                )
            return report
    return report


def _forward_report(path: str, module: Module, recorder: _Recorder, params: dict, x: Any):
    report = NanReport("forward", path, module._describe(), checked=len(recorder.order))
    seen = recorder.inputs[path]
    report.lines = [f"input: {stats(seen)}", f"output: {stats(recorder.outputs[path])}"]
    own = _own_params(params, path)
    bad = next((k for k, v in own.items() if not _finite(v)), None)
    if bad is not None:
        report.parameter = bad
        report.lines.append(f"parameter {bad} is itself non-finite: {stats(own[bad])}")
    elif not _finite(seen):
        report.lines.append(
            "its input is already non-finite: "
            + ("the network's input" if path == recorder.order[0] else "from outside the module")
        )
    else:
        report.parameter = _largest(own)
        cause = f"; {report.parameter}" if report.parameter else " (it has no parameters)"
        report.lines.append(f"input and parameters finite: the module's own computation{cause}")
    return report
