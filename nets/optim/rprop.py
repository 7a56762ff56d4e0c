"""Resilient propagation, Torch7 optim's ``rprop.lua`` (Riedmiller and Braun, 1993).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        stepsize      initial step size, common to all components (0.1)
        etaplus       multiplicative increase factor, > 1 (1.2)
        etaminus      multiplicative decrease factor, < 1 (0.5)
        stepsizemax   maximum step size allowed (50)
        stepsizemin   minimum step size allowed (1e-6)
        niter         number of iterations per call (1)
    state:  a dict the optimizer fills in (defaults to ``config``)
        evalCounter; optax_state (holds the previous gradient ``delta`` and the step sizes)

RETURN:
    x:      the new parameters
    fx:     the list of function values, one per iteration, each before its update

Steps, per iteration: (1) evaluate; (2) ``s = sign(dfdx * delta)``; (3) step sizes times
etaplus where ``s > 0``, etaminus where ``s < 0``, then every step size clamped to
``[stepsizemin, stepsizemax]``; (4) ``dfdx = 0`` where ``s < 0``; (5)
``x -= sign(dfdx) * stepsize``; (6) ``delta = dfdx``.

Why not ``optax.scale_by_rprop``: it returns the previous step's update (its ``prev_updates``)
and clamps only the step sizes that changed; Torch7 steps at once with the current sign and
clamps all of them. The rule below is Torch7's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._common import Feval, Key, check_config, step

SPEC = {
    "stepsize": Key(0.1, "positive"),
    "etaplus": Key(1.2, "positive"),
    "etaminus": Key(0.5, "positive"),
    "stepsizemax": Key(50.0, "positive"),
    "stepsizemin": Key(1e-6, "nonneg"),
    "niter": Key(1, "posint"),
}


class RpropState(NamedTuple):
    """Torch7's ``state.delta`` and ``state.stepsize``."""

    delta: Any
    stepsize: Any


def torch_rprop(config: dict) -> optax.GradientTransformation:
    """Torch7's rprop update (the negated step, ready for ``apply_updates``)."""
    up, down = config["etaplus"], config["etaminus"]
    lo, hi = config["stepsizemin"], config["stepsizemax"]

    def init(params):
        return RpropState(
            optax.tree.zeros_like(params), optax.tree.full_like(params, config["stepsize"])
        )

    def one(g, delta, size):
        s = jnp.sign(g * delta)
        size = jnp.clip(size * jnp.where(s > 0, up, jnp.where(s < 0, down, 1.0)), lo, hi)
        g = jnp.where(s < 0, 0, g)
        return -jnp.sign(g) * size, g, size

    def update(updates, state, params=None):
        del params
        out = jax.tree.map(one, updates, state.delta, state.stepsize)
        pick = [
            jax.tree.map(lambda t, i=i: t[i], out, is_leaf=lambda t: isinstance(t, tuple))
            for i in range(3)
        ]
        return pick[0], RpropState(pick[1], pick[2])

    return optax.GradientTransformation(init, update)


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax transformation for a checked rprop config (one iteration per update)."""
    if config["niter"] != 1:
        raise ValueError(
            "optim.transform: rprop with niter > 1 evaluates the function several times per "
            "step; call optim.rprop(feval, x, config, state) instead"
        )
    return torch_rprop(config)


def rprop(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = rprop(feval, x[, config][, state]): `niter` iterations of rprop."""
    config = {} if config is None else config
    state = config if state is None else state
    niter = check_config("rprop", SPEC, config)["niter"]
    one = {**config, "niter": 1}
    history = []
    for _ in range(niter):
        x, fx = step("rprop", SPEC, make_transform, feval, x, one, state)
        history += fx
    return x, history
