"""What every first-order optimizer shares: config checking, Torch-style state, the compiled step.

Each algorithm file (``sgd.py``, ``adam.py`` ...) declares its Torch7 config keys with their
defaults (a ``ConfigSpec``) and a ``make_transform(config) -> optax.GradientTransformation``.
``step`` turns the pair into Torch7 optim's calling convention::

    x, fx = optim.sgd(feval, x, config, state)

where ``feval(x) -> (loss, grad)``; ``x`` is a flat vector or any pytree of arrays and the updated
parameters are returned (JAX arrays are immutable, so nothing is changed in place). ``state`` is a
dict the optimizer fills in, as Torch's table: ``evalCounter`` and the optax state under
``optax_state``. As in Torch, ``state`` defaults to ``config`` when omitted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import optax

Feval = Callable[[Any], tuple[Any, Any]]

# Keys an optimizer writes into `state`; accepted in `config` too because Torch's
# `state = state or config` makes them share one table.
STATE_KEYS = frozenset(
    {"evalCounter", "t", "optax_state", "optax_config", "funcEval", "nIter", "lbfgs"}
)


@dataclass(frozen=True)
class Key:
    """One config key: its Torch7 default and the range it must lie in."""

    default: Any
    kind: str  # 'nonneg' | 'positive' | 'unit' (0 <= v <= 1) | 'open_unit' (0 <= v < 1)
    #            | 'bool' | 'posint'


_EXPECTED = {
    "nonneg": "a finite number >= 0",
    "positive": "a finite number > 0",
    "unit": "a number in [0, 1]",
    "open_unit": "a number in [0, 1)",
    "bool": "True or False",
    "posint": "an integer >= 1",
}


def _valid(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "posint":
        return isinstance(value, int) and value >= 1
    if not math.isfinite(value):
        return False
    if kind == "nonneg":
        return value >= 0
    if kind == "positive":
        return value > 0
    if kind == "unit":
        return 0 <= value <= 1
    return 0 <= value < 1  # open_unit


def check_config(name: str, spec: Mapping[str, Key], config: Mapping[str, Any] | None) -> dict:
    """Merge `config` over the Torch7 defaults in `spec`, rejecting unknown keys and bad values.

    Raises:
        ValueError: ``optim.<name>: unknown config key 'lr'; valid keys: ...`` or
            ``optim.<name>: config['learningRate'] must be a finite number >= 0, got -1``.
    """
    config = {} if config is None else config
    if not isinstance(config, Mapping):
        raise TypeError(f"optim.{name}: config must be a dict, got {type(config).__name__}")
    merged = {}
    for key, value in config.items():
        if key in STATE_KEYS:
            continue
        if key not in spec:
            raise ValueError(
                f"optim.{name}: unknown config key {key!r}; valid keys: {', '.join(spec)}"
            )
        if value is None:
            continue
        if not _valid(spec[key].kind, value):
            raise ValueError(
                f"optim.{name}: config[{key!r}] must be {_EXPECTED[spec[key].kind]}, got {value!r}"
            )
        merged[key] = value
    return {key: merged.get(key, k.default) for key, k in spec.items()}


def learning_rate(lr: float, lrd: float = 0.0) -> optax.GradientTransformation:
    """Torch7's annealed step ``clr = lr / (1 + nevals * lrd)``, negated for descent.

    ``nevals`` is the number of updates done before this one, which is optax's schedule count.
    """
    if lrd == 0:
        return optax.scale(-lr)
    return optax.scale_by_schedule(lambda count: -lr / (1.0 + count * lrd))


def weight_decay(wd: float) -> optax.GradientTransformation:
    """Torch7's ``dfdx:add(wd, x)``: L2 decay added to the gradient before anything else."""
    if wd == 0:
        return optax.identity()
    return optax.add_decayed_weights(wd)


def _frozen(config: Mapping[str, Any]) -> tuple:
    return tuple(sorted(config.items()))


@functools.lru_cache(maxsize=256)
def _compiled_update(make_transform: Callable, frozen_config: tuple) -> Callable:
    tx = make_transform(dict(frozen_config))

    @jax.jit
    def update(grads, opt_state, params):
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    return update


def _check_grad(name: str, x: Any, grad: Any) -> None:
    x_tree = jax.tree.structure(x)
    g_tree = jax.tree.structure(grad)
    if x_tree != g_tree:
        raise ValueError(
            f"optim.{name}: feval(x) must return (loss, grad) with grad shaped like x; "
            f"x has structure {x_tree}, grad has {g_tree}"
        )
    for xl, gl in zip(jax.tree.leaves(x), jax.tree.leaves(grad), strict=True):
        if jax.numpy.shape(xl) != jax.numpy.shape(gl):
            raise ValueError(
                f"optim.{name}: feval(x) returned a gradient of shape {jax.numpy.shape(gl)} "
                f"for a parameter of shape {jax.numpy.shape(xl)}"
            )


def step(
    name: str,
    spec: Mapping[str, Key],
    make_transform: Callable[[dict], optax.GradientTransformation],
    feval: Feval,
    x: Any,
    config: dict | None,
    state: dict | None,
) -> tuple[Any, list]:
    """One Torch7-style optimizer call: evaluate, update, count. Returns ``(x_new, [f(x_old)])``."""
    cfg = check_config(name, spec, config)
    if state is None:
        state = config if config is not None else {}
    if not isinstance(state, dict):
        raise TypeError(f"optim.{name}: state must be a dict, got {type(state).__name__}")
    # (1) evaluate f(x) and df/dx
    fx, grad = feval(x)
    _check_grad(name, x, grad)
    # (2) the optax state is created on first use, as Torch creates state.m / state.dfdx lazily
    opt_state = state.get("optax_state")
    frozen = _frozen(cfg)
    if opt_state is None:
        opt_state = make_transform(cfg).init(x)
    elif state.get("optax_config") != frozen and jax.tree.structure(
        opt_state
    ) != jax.tree.structure(make_transform(cfg).init(x)):
        raise ValueError(
            f"optim.{name}: this state dict was filled by a different configuration "
            "(e.g. momentum switched on or off after the first step); pass a fresh state dict"
        )
    # (3) the whole update (decay, moments, step) as one compiled call
    update = _compiled_update(make_transform, frozen)
    x, state["optax_state"] = update(grad, opt_state, x)
    state["optax_config"] = frozen
    # (4) update evaluation counter
    state["evalCounter"] = state.get("evalCounter", 0) + 1
    return x, [fx]
