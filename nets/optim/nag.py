"""Nesterov's accelerated gradient, Torch7 optim's ``nag.lua`` (Sutskever et al., "On the
importance of initialization and momentum in deep learning", ICML 2013).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        learningRate       learning rate (1e-3)
        learningRateDecay  learning rate decay (0): ``clr = lr / (1 + nevals * lrd)``
        weightDecay        weight decay (0), added to the gradient
        momentum           momentum (0.9), must be > 0
        dampening          accepted and unused, as in Torch7
        learningRates      per-parameter learning rates, shaped like x (none)
    state:  a dict the optimizer fills in (defaults to ``config``)
        evalCounter; optax_state (holds the velocity, Torch7's ``state.dfdx``)

RETURN:
    x:      the new parameters
    fx:     ``[f(x + momentum * v)]``, the function at the look-ahead point, before the update

Steps (Torch7's): (1) look ahead, ``y = x + mom * v``, and evaluate there; (2)
``dfdx += wd * y``; (3) ``clr = lr / (1 + nevals * lrd)``; (4) ``v = mom * v``; (5)
``d = learningRates * dfdx`` (or dfdx), ``x = y - clr * d``, ``v -= clr * d``.

The rule is kept as an optax transformation over the look-ahead point ``y`` (where Torch7
evaluates the gradient): ``v' = mom v - clr d`` and ``y' = y + mom v' - clr d``, which is
Torch7's step rewritten, not optax's ``trace(nesterov=True)`` (that one scales the whole
velocity by the current learning rate, which differs once it decays). ``transform('nag')``
therefore trains the look-ahead parameters; ``nag(...)`` returns Torch7's ``x = y - mom v``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._common import (
    Feval,
    Key,
    _check_grad,
    _compiled_update,
    _frozen,
    check_config,
    check_vectors,
    weight_decay,
)

SPEC = {
    "learningRate": Key(1e-3, "nonneg"),
    "learningRateDecay": Key(0.0, "nonneg"),
    "weightDecay": Key(0.0, "nonneg"),
    "momentum": Key(0.9, "nonneg"),
    "dampening": Key(None, "unit"),
    "learningRates": Key(None, "vector"),
}


class NagState(NamedTuple):
    """The number of updates done and Torch7's ``state.dfdx`` (the velocity)."""

    count: jax.Array
    v: Any


def nag_lookahead(config: dict) -> optax.GradientTransformation:
    """Steps (3) to (5) on the look-ahead point: the update ``mom v' - clr d``."""
    mom, lr, lrd = config["momentum"], config["learningRate"], config["learningRateDecay"]
    lrs = config["learningRates"]

    def init(params):
        return NagState(jnp.zeros([], jnp.int32), optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        del params
        clr = lr / (1.0 + state.count * lrd)
        d = updates if lrs is None else jax.tree.map(jnp.multiply, lrs.value, updates)
        v = jax.tree.map(lambda v_, d_: mom * v_ - clr * d_, state.v, d)
        step = jax.tree.map(lambda v_, d_: mom * v_ - clr * d_, v, d)
        return step, NagState(optax.safe_increment(state.count), v)

    return optax.GradientTransformation(init, update)


def make_transform(config: dict) -> optax.GradientTransformation:
    """The optax chain for a checked nag config (over the look-ahead parameters)."""
    if config["momentum"] <= 0:
        raise ValueError(
            "optim.nag: momentum must be positive for Nesterov's accelerated gradient, "
            f"got {config['momentum']!r}"
        )
    return optax.chain(weight_decay(config["weightDecay"]), nag_lookahead(config))


def nag(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx = nag(feval, x[, config][, state]): one step of NAG (see the module docstring)."""
    cfg = check_config("nag", SPEC, config)
    state = (config if config is not None else {}) if state is None else state
    tx = make_transform(cfg)
    check_vectors("nag", cfg, x)
    opt_state = state.get("optax_state")
    if opt_state is None:
        opt_state = tx.init(x)
    elif jax.tree.structure(opt_state) != jax.tree.structure(tx.init(x)):
        raise ValueError(
            "optim.nag: this state dict was filled by a different configuration; "
            "pass a fresh state dict"
        )
    mom = cfg["momentum"]
    velocity = opt_state[1].v
    # (1) look ahead along the momentum, evaluate there
    y = jax.tree.map(lambda x_, v_: x_ + mom * v_, x, velocity)
    fx, grad = feval(y)
    _check_grad("nag", x, grad)
    # (2)-(5) weight decay, annealing, momentum and the step, compiled as one update
    y, opt_state = _compiled_update(make_transform, _frozen(cfg))(grad, opt_state, y)
    state["optax_state"], state["optax_config"] = opt_state, _frozen(cfg)
    state["evalCounter"] = state.get("evalCounter", 0) + 1
    return jax.tree.map(lambda y_, v_: y_ - mom * v_, y, opt_state[1].v), [fx]
