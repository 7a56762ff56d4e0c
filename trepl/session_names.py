"""The session helpers put in every namespace: `save_session`, `load_session`, `replay`,
`nan_hunt`. Each is a thin callable that imports its module on first use, so a fresh `th`
loads none of them (nor JAX) before the user calls one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trepl.evaluator import Evaluator


class _Helper:
    """A namespace helper bound to the evaluator, implemented in `module.function`."""

    def __init__(self, evaluator: Evaluator, module: str, function: str, usage: str) -> None:
        self._evaluator = evaluator
        self._target = (module, function)
        self._usage = usage
        self.__doc__ = usage

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module, function = self._target
        return getattr(importlib.import_module(module), function)(self._evaluator, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self._usage}>"


def _nan_hunt(evaluator: Evaluator, *args: Any, **kwargs: Any) -> Any:
    from nets.nan_hunt import nan_hunt

    return nan_hunt(*args, **kwargs)


class _NanHunt(_Helper):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _nan_hunt(self._evaluator, *args, **kwargs)


HELPERS = {
    "save_session": (
        "trepl.snapshot",
        "save_session",
        "save_session('run1'): write the arrays, modules, plain data and history of this "
        "session to run1.session (no pickle); it lists what it cannot save",
    ),
    "load_session": (
        "trepl.snapshot",
        "load_session",
        "load_session('run1'): restore what save_session('run1') wrote, here",
    ),
    "replay": (
        "trepl.replay",
        "replay",
        "replay(): re-run this session's inputs in a fresh namespace and report the first "
        "output that differs",
    ),
}


def install(evaluator: Evaluator) -> None:
    """Add the helpers to the evaluator's namespace (where the names are free)."""
    ns = evaluator.namespace
    for name, (module, function, usage) in HELPERS.items():
        ns.setdefault(name, _Helper(evaluator, module, function, usage))
    ns.setdefault(
        "nan_hunt",
        _NanHunt(
            evaluator,
            "nets.nan_hunt",
            "nan_hunt",
            "nan_hunt(net, x[, target, criterion]): run the network layer by layer, eagerly, "
            "forward and backward; report the first module whose output or gradient is "
            "non-finite",
        ),
    )
