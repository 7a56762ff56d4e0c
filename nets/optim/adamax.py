"""AdaMax, Torch7 optim's ``adamax.lua`` (Kingma and Ba, https://arxiv.org/abs/1412.6980,
section 7.1).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        learningRate       learning rate (0.002)
        beta1              first moment coefficient (0.9)
        beta2              second moment coefficient (0.999)
        epsilon            for numerical stability (1e-38)
        weightDecay        weight decay (0), added to the gradient
    state:  a dict the optimizer fills in (defaults to ``config``)
        t                  the time step; evalCounter; optax_state (holds m and u)

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update

Steps: (1) ``dfdx += wd * x``; (2) ``m = beta1 m + (1 - beta1) dfdx``; (3)
``u = max(beta2 u, |dfdx| + eps)``; (4) ``x -= lr / (1 - beta1^t) * m / u``. This is optax's
``scale_by_adamax`` exactly, with one difference kept from Torch7: epsilon 1e-38 is below
float32's smallest normal number, which XLA flushes to zero, so a parameter whose gradient has
always been 0 would give ``0 / 0``; Torch7 computes ``0 / 1e-38 = 0``, and so do we.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from ._common import Feval, Key, learning_rate, step, weight_decay

SPEC = {
    "learningRate": Key(0.002, "nonneg"),
    "beta1": Key(0.9, "open_unit"),
    "beta2": Key(0.999, "open_unit"),
    "epsilon": Key(1e-38, "positive"),
    "weightDecay": Key(0.0, "nonneg"),
}


def torch_adamax(beta1: float, beta2: float, epsilon: float) -> optax.GradientTransformation:
    """optax's ``scale_by_adamax`` with Torch7's ``0 / eps = 0`` where the norm flushed to 0."""
    inner = optax.scale_by_adamax(b1=beta1, b2=beta2, eps=epsilon)

    def update(updates, state, params=None):
        direction, state = inner.update(updates, state, params)
        direction = jax.tree.map(
            lambda d, u: jnp.where(u == 0, jnp.zeros_like(d), d), direction, state.nu
        )
        return direction, state

    return optax.GradientTransformation(inner.init, update)


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked adamax config."""
    return optax.chain(
        # (2) weight decay
        weight_decay(config["weightDecay"]),
        # (3) the moments and the bias-corrected direction
        torch_adamax(config["beta1"], config["beta2"], config["epsilon"]),
        # (4) the step
        learning_rate(config["learningRate"]),
    )


def adamax(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = adamax(feval, x[, config][, state]): one step of AdaMax (see the module doc)."""
    x, fx = step("adamax", SPEC, make_transform, feval, x, config, state)
    st = config if state is None and config is not None else state
    if st is not None:
        st["t"] = st["evalCounter"]
    return x, fx
