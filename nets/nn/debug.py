"""Debugging modules (torch/nn doc/simple.md): PrintSize, NaN and Profile.

The network runs compiled, so what they report is reported from inside the compiled program:
host callbacks (``jax.debug.callback``) fire at every pass, not once at tracing. The backward
side taps the gradient with an identity whose VJP calls back with the cotangent. Reading a
sub-module's ``output`` after a forward pass computes it on demand (`nets.nn.deferred`), which
runs the pass again: they report that run too.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from .._errors import ModuleError, shape_str
from .._shape import int_arg
from .module import Module, _type_name


def _tap(value: Any, on_grad: Callable[[Any], None]) -> Any:
    """`value` unchanged; on the way back, ``on_grad(cotangent)`` is called (while tracing)."""

    @jax.custom_vjp
    def identity(v):
        return v

    def fwd(v):
        return v, None

    def bwd(_, g):
        on_grad(g)
        return (g,)

    identity.defvjp(fwd, bwd)
    return identity(value)


def _sizes(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_sizes(v) for v in value) + "}"
    return shape_str(value)


def _run_child(module: Module, input: Any) -> Any:
    try:
        return module.modules[0]._run(input)
    except ModuleError as e:
        raise e.within(0).with_traceback(None) from e.__cause__


def _has_nan(*values: Any) -> bool:
    return any(
        np.isnan(np.asarray(v)).any()
        for v in jax.tree_util.tree_leaves(values)
        if np.issubdtype(np.asarray(v).dtype, np.floating)
    )


class PrintSize(Module):
    """nn.PrintSize([prefix='PrintSize']): the identity; prints the size of the input at each
    forward pass and of the gradient at each backward pass (``prefix:input`` and
    ``prefix:gradOutput``, then the shape; a table prints the shapes of its elements)."""

    def __init__(self, prefix: str = "PrintSize") -> None:
        super().__init__()
        if not isinstance(prefix, str):
            raise ModuleError("nn.PrintSize", f"expected prefix to be a string, got {prefix!r}")
        self.prefix = prefix

    def updateOutput(self, input: Any) -> Any:
        line = f"{self.prefix}:input\n{_sizes(input)}"
        jax.debug.callback(lambda: print(line))
        prefix = self.prefix

        def on_grad(g: Any) -> None:
            text = f"{prefix}:gradOutput\n{_sizes(g)}"
            jax.debug.callback(lambda: print(text))

        self.output = _tap(input, on_grad)
        return self.output


_nan_ids = itertools.count(1)  # Torch7's NaN.newId()
_profile_ids = itertools.count(1)


class _Counters(dict):
    """Profile's counters: one dict shared by the module and the copies compiled code runs on."""

    def __init__(self) -> None:
        super().__init__(numFwds=0, numBwds=0, summedFwdTime=0.0, summedBwdTime=0.0)
        self.update(fwd=0.0, bwd=0.0)

    def __deepcopy__(self, memo: dict) -> _Counters:
        return self


class NaN(Module):
    """nn.NaN(module, [id]): runs `module` and raises when a NaN appears.

    Forward: a NaN in the output raises, naming where it came from (the input, the module's
    parameters, or the module itself). Backward: a NaN in the gradient arriving
    (``gradOutput``), in the module's input gradient or in its parameters' gradients raises.
    The error names this module: ``nn.NaN(1) @ nn.Linear(3 -> 2): NaN found in output``. It
    is raised from inside the compiled program, so it reaches the caller wrapped in JAX's
    runtime error, with this text in its message.
    """

    def __init__(self, module: Module, id: Any = None) -> None:  # noqa: A002
        super().__init__()
        if not isinstance(module, Module):
            raise ModuleError("nn.NaN", f"expected an nn.Module to watch, got {module!r:.60}")
        self.modules = [module]
        self.id = next(_nan_ids) if id is None else id

    def _raise(self, what: str) -> None:
        raise ModuleError(self._describe(), f"NaN found in {what} of the module")

    def updateOutput(self, input: Any) -> Any:
        inner = self.modules[0]
        for m in inner.listModules():  # parameter gradients pass through a check
            for name, (kind, _, value) in m.own_arrays().items():
                if kind == "param":
                    setattr(m, name, _tap(value, self._grad_check("gradParameters")))
        x = _tap(input, self._grad_check("gradInput"))
        out = _run_child(self, x)
        params = inner.parameters()[0]

        def check(out, input, params):
            if _has_nan(out):
                if _has_nan(input):
                    self._raise("input")
                if _has_nan(params):
                    self._raise("parameters")
                self._raise("output")

        jax.debug.callback(check, out, input, params)
        self.output = _tap(out, self._grad_check("gradOutput"))
        return self.output

    def _grad_check(self, what: str) -> Callable[[Any], None]:
        def on_grad(g: Any) -> None:
            def check(g):
                if _has_nan(g):
                    self._raise(what)

            jax.debug.callback(check, g)

        return on_grad

    def __repr__(self) -> str:
        return f"{_type_name(self)}({self.id}) @ {self.modules[0]!r}"


class Profile(Module):
    """nn.Profile(module, [print_interval=100], [name=type of module]): runs `module` and every
    `print_interval` passes prints ``<name> took <s> seconds for <n> forward passes`` (and the
    same for backward passes).

    A pass's time is the wall time from the moment its input is ready to the moment its
    output is (for backward: from the gradOutput to the gradInput), measured by host callbacks
    in the compiled program; work of other modules that XLA runs in parallel may overlap it.
    """

    def __init__(self, module: Module, print_interval: int = 100, name: str | None = None) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise ModuleError("nn.Profile", f"expected an nn.Module to time, got {module!r:.60}")
        self.modules = [module]
        self.print_interval = int_arg(
            self, "print_interval", "passes between two reports", print_interval
        )
        self.name = _type_name(module) if name is None else str(name)
        # compiled code runs on a copy of the tree (and is shared by equal trees): the counters
        # survive the copy, and the number keeps two Profiles' trees (and code) apart
        self.profileId = next(_profile_ids)
        self._stats = _Counters()

    @property
    def module(self) -> Module:
        """The timed module."""
        return self.modules[0]

    @property
    def numFwds(self) -> int:
        """Forward passes since the last report."""
        return self._stats["numFwds"]

    @property
    def numBwds(self) -> int:
        """Backward passes since the last report."""
        return self._stats["numBwds"]

    @property
    def summedFwdTime(self) -> float:
        """Seconds spent in forward passes since the last report."""
        return self._stats["summedFwdTime"]

    @property
    def summedBwdTime(self) -> float:
        """Seconds spent in backward passes since the last report."""
        return self._stats["summedBwdTime"]

    def _start(self, kind: str) -> Callable[..., None]:
        stats = self._stats

        def start(*_: Any) -> None:
            stats[kind] = time.perf_counter()

        return start

    def _stop(self, kind: str) -> Callable[..., None]:
        count, total = (
            ("numFwds", "summedFwdTime") if kind == "fwd" else ("numBwds", "summedBwdTime")
        )
        label = "forward" if kind == "fwd" else "backward"

        stats, name, interval = self._stats, self.name, self.print_interval

        def stop(*_: Any) -> None:
            s = stats
            s[total] += time.perf_counter() - s[kind]
            s[count] += 1
            if s[count] % interval == 0:
                print(f"{name} took {s[total]:.3f} seconds for {s[count]} {label} passes")
                s[count] = 0
                s[total] = 0.0

        return stop

    def updateOutput(self, input: Any) -> Any:
        bwd_stop = self._stop("bwd")
        x = _tap(input, lambda g: jax.debug.callback(bwd_stop, g))
        jax.debug.callback(self._start("fwd"), x)
        out = _run_child(self, x)
        jax.debug.callback(self._stop("fwd"), out)
        bwd_start = self._start("bwd")
        self.output = _tap(out, lambda g: jax.debug.callback(bwd_start, g))
        return self.output

    def __repr__(self) -> str:
        return f"{_type_name(self)} @ {self.modules[0]!r}"
