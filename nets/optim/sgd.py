"""Stochastic gradient descent, Torch7 optim's ``sgd.lua``.

ARGS:
    feval:  a function that takes a single input ``x``, the point of evaluation, and returns
            ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        learningRate       learning rate (1e-3)
        learningRateDecay  learning rate decay (0): ``clr = lr / (1 + nevals * lrd)``
        weightDecay        weight decay (0), added to the gradient: ``dfdx += wd * x``
        momentum           momentum (0)
        dampening          dampening for momentum (defaults to ``momentum``, as in Torch7)
        nesterov           enables Nesterov momentum (False; needs momentum > 0, dampening 0)
        learningRates      per-parameter learning rates, shaped like x (none): the step is
                           ``clr * learningRates * dfdx``
        weightDecays       per-parameter weight decays, shaped like x (none), used when
                           weightDecay is 0: ``dfdx += weightDecays * x``
    state:  a dict the optimizer fills in (defaults to ``config``, as in Torch7)
        evalCounter        number of updates done
        optax_state        the optax state (the momentum buffer lives here)

RETURN:
    x:      the new parameters
    fx:     ``[f(x)]``, the function evaluated before the update

Differences from optax's ``sgd``: Torch7 dampens momentum (``buf = mom * buf + (1 - damp) * g``)
with ``damp = momentum`` by default, but the first step copies the gradient into the buffer
undamped; optax's ``trace`` is the ``dampening = 0`` case, which is what we use when it applies.
Weight decay is added to the gradient before momentum (``optax.add_decayed_weights`` first in the
chain) and the learning rate is annealed as ``lr / (1 + nevals * lrd)``. The per-parameter
``learningRates`` and ``weightDecays`` are element-wise products over the parameter pytree
(optax's ``scale`` and ``add_decayed_weights`` take one number for every leaf); as in Torch7,
``weightDecays`` is used only while ``weightDecay`` is 0.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._common import (
    Feval,
    Key,
    decay_by_vector,
    learning_rate,
    scale_by_vector,
    step,
    weight_decay,
)

SPEC = {
    "learningRate": Key(1e-3, "nonneg"),
    "learningRateDecay": Key(0.0, "nonneg"),
    "weightDecay": Key(0.0, "nonneg"),
    "momentum": Key(0.0, "nonneg"),
    "dampening": Key(None, "unit"),
    "nesterov": Key(False, "bool"),
    "learningRates": Key(None, "vector"),
    "weightDecays": Key(None, "vector"),
}


class DampedMomentumState(NamedTuple):
    """Torch7's ``state.dfdx`` and whether it has been set yet."""

    count: jax.Array
    buf: Any


def damped_momentum(momentum: float, dampening: float) -> optax.GradientTransformation:
    """Torch7's momentum with dampening: first ``buf = g``, then ``buf = mom*buf + (1-damp)*g``."""

    def init(params):
        return DampedMomentumState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        del params
        first = state.count == 0
        buf = jax.tree.map(
            lambda g, b: jnp.where(first, g, momentum * b + (1 - dampening) * g),
            updates,
            state.buf,
        )
        return buf, DampedMomentumState(optax.safe_increment(state.count), buf)

    return optax.GradientTransformation(init, update)


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked sgd config (see ``transform('sgd', config)``)."""
    mom = config["momentum"]
    damp = mom if config["dampening"] is None else config["dampening"]
    if config["nesterov"] and (mom <= 0 or damp != 0):
        raise ValueError(
            "optim.sgd: nesterov=True requires momentum > 0 and dampening = 0, "
            f"got momentum={mom!r}, dampening={damp!r}"
        )
    # (2) weight decay with a single or individual parameters (the vector only when wd is 0)
    if config["weightDecay"] != 0 or config["weightDecays"] is None:
        parts = [weight_decay(config["weightDecay"])]
    else:
        parts = [decay_by_vector(config["weightDecays"])]
    # (3) momentum
    if mom != 0 and damp == 0:
        parts.append(optax.trace(decay=mom, nesterov=config["nesterov"]))
    elif mom != 0:
        parts.append(damped_momentum(mom, damp))
    # (4) learning rate decay and (5) the step, with a single or individual learning rates
    parts.append(learning_rate(config["learningRate"], config["learningRateDecay"]))
    parts.append(scale_by_vector(config["learningRates"]))
    return optax.chain(*parts)


def sgd(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = sgd(feval, x[, config][, state]): one step of SGD (see the module docstring)."""
    return step("sgd", SPEC, make_transform, feval, x, config, state)
