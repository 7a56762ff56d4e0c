"""Averaged stochastic gradient descent, Torch7 optim's ``asgd.lua`` (L. Bottou's sgd-2.0).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        eta0    learning rate (1e-4)
        lambda  decay term (1e-4)
        alpha   power for the eta update (0.75)
        t0      the step at which averaging starts (1e6)
    state:  a dict the optimizer fills in (defaults to ``config``)
        t, eta_t, mu_t  Torch7's counters: steps done, the current rate and averaging weight
        ax              the averaged x
        optax_state     the same, for the compiled update

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update
    ax:     the averaged parameters

Steps: (1) evaluate; (2) ``x *= 1 - lambda * eta_t``; (3) ``x -= eta_t * dfdx``; (4)
``ax = x`` while ``mu_t = 1``, else ``ax += mu_t * (x - ax)``; (5) ``t += 1``,
``eta_t = eta0 / (1 + lambda * eta0 * t)^alpha``, ``mu_t = 1 / max(1, t - t0)``.
optax has no averaged SGD; the rule is written here as a GradientTransformation (the average
lives in its state).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._common import Feval, Key, check_config, step

SPEC = {
    "eta0": Key(1e-4, "nonneg"),
    "lambda": Key(1e-4, "nonneg"),
    "alpha": Key(0.75, "nonneg"),
    "t0": Key(1e6, "nonneg"),
}


class AsgdState(NamedTuple):
    """Torch7's ``state.t`` and ``state.ax``."""

    t: jax.Array
    ax: Any


def _rates(config: dict, t: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``eta_t`` and ``mu_t`` after `t` steps (step (5))."""
    tf = t.astype(jnp.float32)
    eta = config["eta0"] / (1 + config["lambda"] * config["eta0"] * tf) ** config["alpha"]
    mu = 1 / jnp.maximum(1.0, tf - config["t0"])
    return eta, mu


def make_transform(config: dict) -> optax.GradientTransformation:
    """Torch7's asgd step as an optax transformation (needs the params)."""

    def init(params):
        return AsgdState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("optim.asgd: the update needs the parameters (params=...)")
        eta, mu = _rates(config, state.t)
        # (2) decay and (3) the gradient step, as an update of x
        step_ = jax.tree.map(lambda g, x: -config["lambda"] * eta * x - eta * g, updates, params)
        # (4) averaging
        new_x = jax.tree.map(jnp.add, params, step_)
        ax = jax.tree.map(lambda a, x: jnp.where(mu == 1, x, a + mu * (x - a)), state.ax, new_x)
        return step_, AsgdState(optax.safe_increment(state.t), ax)

    return optax.GradientTransformation(init, update)


def asgd(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx, ax = asgd(feval, x[, config][, state]): one step of ASGD (see the module doc)."""
    state = (config if config is not None else {}) if state is None else state
    x, fx = step("asgd", SPEC, make_transform, feval, x, config, state)
    inner = state["optax_state"]
    eta, mu = _rates(check_config("asgd", SPEC, config), inner.t)
    state["t"], state["eta_t"], state["mu_t"] = int(inner.t), float(eta), float(mu)
    state["ax"] = inner.ax
    return x, fx, inner.ax
