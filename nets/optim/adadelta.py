"""AdaDelta, Torch7 optim's ``adadelta.lua`` (Zeiler, https://arxiv.org/abs/1212.5701).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        rho          interpolation parameter (0.9)
        eps          for numerical stability (1e-6)
        weightDecay  weight decay (0), added to the gradient
    state:  a dict the optimizer fills in (defaults to ``config``)
        evalCounter; optax_state (holds Torch's paramVariance and accDelta)

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update

Torch7's rule, ``v = rho*v + (1-rho)*g^2; d = sqrt(u + eps) / sqrt(v + eps) * g; x -= d;
u = rho*u + (1-rho)*d^2``, is exactly optax's ``scale_by_adadelta``; Torch has no learning rate
here (it is 1), unlike optax's ``adadelta`` alias.
"""

from __future__ import annotations

from typing import Any

import optax

from ._common import Feval, Key, step, weight_decay

SPEC = {
    "rho": Key(0.9, "open_unit"),
    "eps": Key(1e-6, "positive"),
    "weightDecay": Key(0.0, "nonneg"),
}


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked adadelta config."""
    return optax.chain(
        weight_decay(config["weightDecay"]),
        optax.scale_by_adadelta(rho=config["rho"], eps=config["eps"]),
        optax.scale(-1.0),
    )


def adadelta(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = adadelta(feval, x[, config][, state]): one AdaDelta step (see the docstring)."""
    return step("adadelta", SPEC, make_transform, feval, x, config, state)
