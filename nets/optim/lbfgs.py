"""Limited-memory BFGS, Torch7 optim's ``lbfgs.lua``, with a fixed step or a line search.

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        maxIter       maximum number of iterations per call (20)
        maxEval       maximum number of function evaluations per call (maxIter * 1.25)
        tolFun        termination tolerance on the first-order optimality (1e-5)
        tolX          termination tolerance on progress in terms of function/parameter changes
                      (1e-9)
        nCorrection   the number of correction pairs kept, the "memory" (100)
        learningRate  the fixed step size (1), or the line search's first trial step
        lineSearch    a line search function (none: a fixed step), e.g. ``optim.lswolfe``,
                      called as ``lineSearch(opfunc, x, t, d, f, g, gtd, lineSearchOpts)``
        lineSearchOpts  the options passed to it (a dict)
    state:  a dict the optimizer fills in (defaults to ``config``)
        funcEval      total number of function evaluations
        nIter         total number of iterations
        lbfgs         the direction, step, correction pairs and Hessian scale between calls

RETURN:
    x:      the new parameters
    fx:     the list of function values, one per evaluation, ``fx[0]`` before any update

Why not ``optax.scale_by_lbfgs``: Torch7 scales the first step by ``min(1, 1/|g|_1)`` and drops a
correction pair whose curvature ``y's <= 1e-10``; optax scales by the L2 norm and keeps every pair,
and L-BFGS also evaluates the function several times per call, which a GradientTransformation
cannot. The two-loop recursion below follows ``lbfgs.lua`` step by step on the raveled vector.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ._common import Feval, Key, _check_grad, check_config

SPEC = {
    "maxIter": Key(20, "posint"),
    "maxEval": Key(None, "positive"),
    "tolFun": Key(1e-5, "nonneg"),
    "tolX": Key(1e-9, "nonneg"),
    "nCorrection": Key(100, "posint"),
    "learningRate": Key(1.0, "nonneg"),
    "lineSearch": Key(None, "function"),
    "lineSearchOpts": Key(None, "options"),
}


def _direction(g, mem: dict, n_correction: int):
    """The L-BFGS update of the memory, then the two-loop recursion: ``d = -H g``."""
    y = g - mem["g_old"]
    s = mem["d"] * mem["t"]
    ys = float(jnp.dot(y, s))
    if ys > 1e-10:
        # updating memory: shift history by one when full (limited memory)
        if len(mem["old_dirs"]) == n_correction:
            mem["old_dirs"].pop(0)
            mem["old_stps"].pop(0)
        mem["old_dirs"].append(s)
        mem["old_stps"].append(y)
        mem["Hdiag"] = ys / float(jnp.dot(y, y))
    dirs, stps = mem["old_dirs"], mem["old_stps"]
    ro = [1.0 / float(jnp.dot(stps[i], dirs[i])) for i in range(len(dirs))]
    al = [0.0] * len(dirs)
    q = -g
    for i in reversed(range(len(dirs))):
        al[i] = float(jnp.dot(dirs[i], q)) * ro[i]
        q = q - al[i] * stps[i]
    r = q * mem["Hdiag"]
    for i in range(len(dirs)):
        be_i = float(jnp.dot(stps[i], r)) * ro[i]
        r = r + (al[i] - be_i) * dirs[i]
    return r


def lbfgs(
    feval: Feval, x: Any, config: dict | None = None, state: dict | None = None
) -> tuple[Any, list]:
    """x, fx = lbfgs(feval, x[, config][, state]): up to maxIter L-BFGS iterations."""
    cfg = check_config("lbfgs", SPEC, config)
    state = (config if config is not None else {}) if state is None else state
    max_iter = cfg["maxIter"]
    max_eval = cfg["maxEval"] if cfg["maxEval"] is not None else max_iter * 1.25
    tol_fun, tol_x, lr = cfg["tolFun"], cfg["tolX"], cfg["learningRate"]
    flat, unravel = ravel_pytree(x)

    def opfunc(v):
        f, grad = feval(unravel(v))
        _check_grad("lbfgs", x, grad)
        return f, ravel_pytree(grad)[0].astype(v.dtype)

    # (1) evaluate the function at the initial point
    state.setdefault("funcEval", 0)
    state.setdefault("nIter", 0)
    f, g = opfunc(flat)
    f_hist = [f]
    current_evals = 1
    state["funcEval"] += 1
    # (2) check optimality of the initial point
    if float(jnp.sum(jnp.abs(g))) <= tol_fun:
        return x, f_hist
    mem = state.setdefault("lbfgs", {})
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        state["nIter"] += 1
        # (3) compute the descent direction
        if state["nIter"] == 1:
            d = -g
            mem.update(old_dirs=[], old_stps=[], Hdiag=1.0)
        else:
            d = _direction(g, mem, cfg["nCorrection"])
        mem["g_old"], f_old = g, f
        # (4) step length: the first step is scaled by min(1, 1/|g|_1)
        if state["nIter"] == 1:
            t = min(1.0, 1.0 / float(jnp.sum(jnp.abs(g)))) * lr
        else:
            t = lr
        mem["d"], mem["t"] = d, t
        # (5) check that progress can be made along that direction
        gtd = float(jnp.dot(g, d))
        if gtd > -tol_x:
            break
        if cfg["lineSearch"] is not None:
            # (6) the line search finds the step, the new point and its value and gradient
            f, g, flat, t, ls_evals = cfg["lineSearch"](
                opfunc, flat, t, d, f, g, gtd, cfg["lineSearchOpts"]
            )
            mem["t"] = t
            f_hist.append(f)
            current_evals += ls_evals
            state["funcEval"] += ls_evals
        else:
            # (6) no line search: a fixed step; re-evaluate unless this is the last iteration
            flat = flat + t * d
            if n_iter != max_iter:
                f, g = opfunc(flat)
                f_hist.append(f)
                current_evals += 1
                state["funcEval"] += 1
        # (7) check conditions
        if n_iter == max_iter or current_evals >= max_eval:
            break
        if float(jnp.sum(jnp.abs(g))) <= tol_fun:
            break
        if float(jnp.sum(jnp.abs(d * t))) <= tol_x:
            break
        if abs(float(f) - float(f_old)) < tol_x:
            break
    return unravel(flat), f_hist
