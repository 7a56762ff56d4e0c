"""RMSprop, Torch7 optim's ``rmsprop.lua`` (Tieleman and Hinton, 2012).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        learningRate  learning rate (1e-2)
        alpha         smoothing constant (0.99)
        epsilon       added to the square root of the mean square (1e-8)
        weightDecay   weight decay (0), added to the gradient
        initialMean   initial value of the mean square (0)
    state:  a dict the optimizer fills in (defaults to ``config``)
        evalCounter; optax_state (holds Torch's state.m)

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update

Torch7's step is ``x -= lr * g / (sqrt(m) + eps)`` with ``m = alpha * m + (1 - alpha) * g^2``:
optax's ``scale_by_rms(decay=alpha, eps_in_sqrt=False)``. optax's default puts epsilon inside the
square root and uses decay 0.9; we follow Torch.
"""

from __future__ import annotations

from typing import Any

import optax

from ._common import Feval, Key, learning_rate, step, weight_decay

SPEC = {
    "learningRate": Key(1e-2, "nonneg"),
    "alpha": Key(0.99, "open_unit"),
    "epsilon": Key(1e-8, "positive"),
    "weightDecay": Key(0.0, "nonneg"),
    "initialMean": Key(0.0, "nonneg"),
}


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked rmsprop config."""
    return optax.chain(
        weight_decay(config["weightDecay"]),
        optax.scale_by_rms(
            decay=config["alpha"],
            eps=config["epsilon"],
            initial_scale=config["initialMean"],
            eps_in_sqrt=False,
        ),
        learning_rate(config["learningRate"]),
    )


def rmsprop(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = rmsprop(feval, x[, config][, state]): one RMSprop step (see the module docstring)."""
    return step("rmsprop", SPEC, make_transform, feval, x, config, state)
