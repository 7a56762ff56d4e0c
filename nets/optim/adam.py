"""Adam, Torch7 optim's ``adam.lua`` (Kingma and Ba, https://arxiv.org/abs/1412.6980).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        learningRate       learning rate (1e-3)
        learningRateDecay  learning rate decay (0): ``clr = lr / (1 + (t - 1) * lrd)``
        beta1              first moment coefficient (0.9)
        beta2              second moment coefficient (0.999)
        epsilon            for numerical stability (1e-8)
        weightDecay        weight decay (0), added to the gradient
    state:  a dict the optimizer fills in (defaults to ``config``)
        t                  the time step; evalCounter; optax_state (holds m and v)

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update

Difference from optax's ``scale_by_adam``: Torch7 adds epsilon to the square root of the *raw*
second moment and folds both bias corrections into the step size,
``x -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)``, whereas optax divides by
``sqrt(v_hat) + eps``. The two agree except for epsilon's weight, so ``torch_adam`` below keeps
Torch's placement, built from optax's moment helpers.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._common import Feval, Key, learning_rate, step, weight_decay

SPEC = {
    "learningRate": Key(1e-3, "nonneg"),
    "learningRateDecay": Key(0.0, "nonneg"),
    "beta1": Key(0.9, "open_unit"),
    "beta2": Key(0.999, "open_unit"),
    "epsilon": Key(1e-8, "positive"),
    "weightDecay": Key(0.0, "nonneg"),
}


class TorchAdamState(NamedTuple):
    """Torch7's ``state.t``, ``state.m`` and ``state.v``."""

    count: jax.Array
    m: Any
    v: Any


def torch_adam(beta1: float, beta2: float, epsilon: float) -> optax.GradientTransformation:
    """Adam's direction with Torch7's epsilon placement (before the learning rate)."""
    log_b1, log_b2 = (math.log(b) if b > 0 else -math.inf for b in (beta1, beta2))

    def init(params):
        m, v = optax.tree.zeros_like(params), optax.tree.zeros_like(params)
        return TorchAdamState(jnp.zeros([], jnp.int32), m, v)

    def update(updates, state, params=None):
        del params
        t = optax.safe_increment(state.count)
        m = optax.tree.update_moment(updates, state.m, beta1, 1)
        v = optax.tree.update_moment_per_elem_norm(updates, state.v, beta2, 2)
        # 1 - beta^t as -expm1(t log(beta)), log taken in float64: exact enough in float32
        tf = t.astype(jnp.float32)
        scale = jnp.sqrt(-jnp.expm1(tf * log_b2)) / -jnp.expm1(tf * log_b1)
        direction = jax.tree.map(lambda m_, v_: scale * m_ / (jnp.sqrt(v_) + epsilon), m, v)
        return direction, TorchAdamState(t, m, v)

    return optax.GradientTransformation(init, update)


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked adam config."""
    return optax.chain(
        weight_decay(config["weightDecay"]),
        torch_adam(config["beta1"], config["beta2"], config["epsilon"]),
        learning_rate(config["learningRate"], config["learningRateDecay"]),
    )


def adam(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = adam(feval, x[, config][, state]): one step of Adam (see the module docstring)."""
    x, fx = step("adam", SPEC, make_transform, feval, x, config, state)
    st = config if state is None and config is not None else state
    if st is not None:
        st["t"] = st["evalCounter"]
    return x, fx
