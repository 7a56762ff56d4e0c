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
import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

Feval = Callable[[Any], tuple[Any, Any]]

# Keys an optimizer writes into `state`; accepted in `config` too because Torch's
# `state = state or config` makes them share one table.
STATE_KEYS = frozenset(
    {"evalCounter", "t", "optax_state", "optax_config", "funcEval", "nIter", "lbfgs"}
    | {"eta_t", "mu_t", "ax"}
)


@dataclass(frozen=True)
class Key:
    """One config key: its Torch7 default and the range it must lie in."""

    default: Any
    kind: str  # 'nonneg' | 'positive' | 'unit' (0 <= v <= 1) | 'open_unit' (0 <= v < 1)
    #            | 'bool' | 'posint' | 'vector' (per-parameter values >= 0, shaped like x)


_EXPECTED = {
    "nonneg": "a finite number >= 0",
    "positive": "a finite number > 0",
    "unit": "a number in [0, 1]",
    "open_unit": "a number in [0, 1)",
    "bool": "True or False",
    "posint": "an integer >= 1",
    "vector": "an array (or pytree of arrays) shaped like x, of finite numbers >= 0",
    "function": "a function (such as optim.lswolfe)",
    "options": "a dict",
}


class ConfigVector:
    """A per-parameter config value (sgd's ``learningRates``), hashed by its content so that
    the compiled update is cached per distinct vector; ``value`` is the pytree of arrays."""

    def __init__(self, value: Any) -> None:
        self.value = jax.tree.map(lambda v: jax.numpy.asarray(v, jax.numpy.float32), value)
        leaves, treedef = jax.tree.flatten(self.value)
        host = [np.asarray(v) for v in leaves]
        digest = hashlib.sha1(b"".join(v.tobytes() for v in host)).hexdigest()
        self._key = (str(treedef), tuple(v.shape for v in host), digest)
        self.valid = all(bool(np.all(np.isfinite(v) & (v >= 0))) for v in host)

    def __repr__(self) -> str:
        leaves = [np.asarray(v) for v in jax.tree.leaves(self.value)]
        return ", ".join(np.array2string(v, threshold=8, precision=4) for v in leaves)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConfigVector) and other._key == self._key

    def check_like(self, name: str, key: str, x: Any) -> None:
        """Refuse a vector that is not shaped like the parameters `x`."""
        xs = [jax.numpy.shape(v) for v in jax.tree.leaves(x)]
        vs = [jax.numpy.shape(v) for v in jax.tree.leaves(self.value)]
        sx, sv = jax.tree.structure(x), jax.tree.structure(self.value)
        if sx != sv or xs != vs:
            what = f"structure {sx}" if sx != sv else f"shapes {xs}"
            theirs = f"structure {sv}" if sx != sv else f"shapes {vs}"
            raise ValueError(
                f"optim.{name}: config[{key!r}] must be shaped like x, one value per parameter; "
                f"x has {what}, {key} has {theirs}"
            )


def _valid(kind: str, value: Any) -> bool:
    if kind == "vector":
        return isinstance(value, ConfigVector) and value.valid
    if kind == "function":
        return callable(value)
    if kind == "options":
        return isinstance(value, Mapping)
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
        if spec[key].kind == "vector" and not isinstance(value, ConfigVector):
            try:
                value = ConfigVector(value)
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f"optim.{name}: config[{key!r}] must be {_EXPECTED['vector']}, got {e}"
                ) from None
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


def check_vectors(name: str, cfg: Mapping[str, Any], x: Any) -> None:
    """Every per-parameter vector of a checked config is shaped like the parameters `x`."""
    for key, value in cfg.items():
        if isinstance(value, ConfigVector):
            value.check_like(name, key, x)


def _vector_transform(
    name: str, key: str, vector: ConfigVector, update: Callable
) -> optax.GradientTransformation:
    """A stateless transformation over a per-parameter vector, which ``init`` checks against
    the parameters (so a compiled training step refuses a misshapen vector by its name)."""

    def init(params):
        vector.check_like(name, key, params)
        return optax.EmptyState()

    def apply(updates, state, params=None):
        return update(updates, params), state

    return optax.GradientTransformation(init, apply)


def scale_by_vector(vector: ConfigVector | None, name: str = "sgd") -> optax.GradientTransformation:
    """Multiply the updates by a per-parameter vector (Torch7's ``learningRates``)."""
    if vector is None:
        return optax.identity()
    return _vector_transform(
        name,
        "learningRates",
        vector,
        lambda updates, params: jax.tree.map(jnp.multiply, updates, vector.value),
    )


def decay_by_vector(vector: ConfigVector | None, name: str = "sgd") -> optax.GradientTransformation:
    """Add ``vector * x`` to the gradient (Torch7's ``weightDecays``)."""
    if vector is None:
        return optax.identity()
    return _vector_transform(
        name,
        "weightDecays",
        vector,
        lambda updates, params: jax.tree.map(
            lambda g, w, x: g + w * x, updates, vector.value, params
        ),
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
    check_vectors(name, cfg, x)
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
