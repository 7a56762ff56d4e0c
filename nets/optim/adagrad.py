"""AdaGrad, Torch7 optim's ``adagrad.lua`` (Duchi et al., JMLR 2011).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        learningRate       learning rate (1e-3)
        learningRateDecay  learning rate decay (0): ``clr = lr / (1 + nevals * lrd)``
        weightDecay        weight decay (0), added to the gradient
    state:  a dict the optimizer fills in (defaults to ``config``)
        evalCounter; optax_state (holds Torch's paramVariance)

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update

Difference from optax's ``scale_by_rss``: Torch7 divides by ``sqrt(sum g^2) + 1e-10`` and starts
the accumulator at 0; optax divides by ``sqrt(sum g^2 + eps)`` and starts at 0.1. ``torch_adagrad``
keeps Torch's form.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._common import Feval, Key, learning_rate, step, weight_decay

SPEC = {
    "learningRate": Key(1e-3, "nonneg"),
    "learningRateDecay": Key(0.0, "nonneg"),
    "weightDecay": Key(0.0, "nonneg"),
}

EPSILON = 1e-10  # hard-wired in adagrad.lua


class TorchAdagradState(NamedTuple):
    """Torch7's ``state.paramVariance`` (the running sum of squared gradients)."""

    sum_of_squares: Any


def torch_adagrad() -> optax.GradientTransformation:
    """``g / (sqrt(sum g^2) + 1e-10)``, the running sum starting at zero."""

    def init(params):
        return TorchAdagradState(optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        del params
        acc = jax.tree.map(lambda g, s: s + g * g, updates, state.sum_of_squares)
        direction = jax.tree.map(lambda g, s: g / (jnp.sqrt(s) + EPSILON), updates, acc)
        return direction, TorchAdagradState(acc)

    return optax.GradientTransformation(init, update)


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked adagrad config."""
    return optax.chain(
        weight_decay(config["weightDecay"]),
        torch_adagrad(),
        learning_rate(config["learningRate"], config["learningRateDecay"]),
    )


def adagrad(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = adagrad(feval, x[, config][, state]): one AdaGrad step (see the module docstring)."""
    return step("adagrad", SPEC, make_transform, feval, x, config, state)
