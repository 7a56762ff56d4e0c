"""A layer's hand-written backward pass as its VJP, also inside compiled code.

Torch7's developer docs: a layer may write ``updateGradInput`` (and ``accGradParameters``)
itself. When it does, its ``updateOutput`` runs under a ``jax.custom_vjp`` whose backward calls
those methods, so every compiled step (``forward``/``backward``, the Engine, StochasticGradient,
a user's ``jax.grad`` over ``net.call``) differentiates the layer the way its author wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from .binding import swapped
from .state import PARAM, grad_name

if TYPE_CHECKING:
    from .module import Module


def call(module: Module, input: Any, own_acc: bool) -> Any:
    """Run ``module.updateOutput(input)`` under a custom VJP made of its own backward methods:
    ``updateGradInput`` always, ``accGradParameters`` where `own_acc` (else parameter gradients
    come from autodiff)."""
    names = [n for n, b in module._vars.items() if b.kind == PARAM]
    boxes = {n: module._vars[n] for n in names}

    def run(vals, x):
        with swapped({boxes[n]: v for n, v in vals.items()}):
            return module.updateOutput(x)

    @jax.custom_vjp
    def f(vals, x):
        return run(vals, x)

    def fwd(vals, x):
        return f(vals, x), (vals, x)

    def bwd(res, g):
        vals, x = res
        grad_boxes = {n: module._vars[grad_name(n)] for n in vals}
        zeros = {grad_boxes[n]: jnp.zeros_like(v) for n, v in vals.items()}
        with swapped({**{boxes[n]: v for n, v in vals.items()}, **zeros}):
            module.updateOutput(x)
            gin = module.updateGradInput(x, g)
            if own_acc:
                module.accGradParameters(x, g, 1.0)
                gvals = {n: grad_boxes[n].value for n in vals}
        if not own_acc:  # only updateGradInput is hand-written: parameter gradients by autodiff
            gvals = jax.vjp(lambda v: run(v, x), vals)[1](g)[0] if vals else {}
        return gvals, gin

    f.defvjp(fwd, bwd)
    return f({n: b.value for n, b in boxes.items()}, input)
