"""A line search satisfying the strong Wolfe conditions, Torch7 optim's ``lswolfe.lua``: what
``lbfgs`` uses with ``config.lineSearch = optim.lswolfe``.

ARGS:
    opfunc:  the objective: ``opfunc(x) -> (f(x), df/dx)`` on the flat vector x
    x:       the starting point (a flat vector)
    t:       the initial step size
    d:       the descent direction
    f:       the function value at x
    g:       the gradient at x
    gtd:     the directional derivative ``g . d`` at x
    options: a dict: c1 (sufficient decrease, 1e-4), c2 (curvature, 0.9), tolX (the smallest
             allowed step change, 1e-9), maxIter (20)

RETURN:
    f:           the function value at ``x + t d``
    g:           the gradient there
    x:           the new point ``x + t d``
    t:           the step length
    lsFuncEval:  the number of function evaluations

Steps: (1) try step t; (2) bracket: grow t by cubic interpolation (`polyinterp`, between
``t + 0.01 (t - t_prev)`` and ``10 t``) until the sufficient-decrease condition fails, the
strong curvature condition holds (done) or the slope turns non-negative; (3) zoom: shrink the
bracket by cubic interpolation, with Torch7's safeguard against steps too near its ends, until
the Wolfe conditions hold or the bracket is narrower than tolX; (4) return the bracket's
lowest point. JAX arrays are immutable, so x is returned, not changed in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from .polyinterp import polyinterp

_OPTIONS = {"c1": 1e-4, "c2": 0.9, "tolX": 1e-9, "maxIter": 20, "verbose": False}


def _options(options: Any) -> dict:
    options = {} if options is None else dict(options)
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise ValueError(
            f"optim.lswolfe: unknown option(s) {sorted(unknown)}; valid: {', '.join(_OPTIONS)}"
        )
    return {**_OPTIONS, **options}


def lswolfe(
    opfunc: Callable, x: Any, t: float, d: Any, f: float, g: Any, gtd: float, options: Any = None
):
    """f, g, x, t, lsFuncEval = lswolfe(opfunc, x, t, d, f, g, gtd[, options])."""
    opts = _options(options)
    c1, c2, tol_x, max_iter = opts["c1"], opts["c2"], opts["tolX"], opts["maxIter"]
    f, gtd = float(f), float(gtd)
    x_init = x

    def evaluate(step: float):
        f_, g_ = opfunc(x_init + step * d)
        return float(f_), g_, float(jnp.dot(g_, d))

    # (1) the initial step
    f_new, g_new, gtd_new = evaluate(t)
    evals = 1
    # (2) bracket an interval containing a point satisfying the Wolfe criteria
    ls_iter, t_prev, done = 0, 0.0, False
    f_prev, g_prev, gtd_prev = f, g, gtd
    bracket = bracket_f = bracket_g = None
    while ls_iter < max_iter:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            break
        # interpolate between the last two points, extrapolating at most tenfold
        tmp, t_prev = t_prev, t
        t = polyinterp([[tmp, f_prev, gtd_prev], [t, f_new, gtd_new]], t + 0.01 * (t - tmp), t * 10)
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new, gtd_new = evaluate(t)
        evals += 1
        ls_iter += 1
    if ls_iter == max_iter:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]
    # (3) zoom: refine the bracket until a point satisfies the Wolfe conditions
    insuf_progress = False
    while not done and ls_iter < max_iter:
        lo = 0 if bracket_f[0] <= bracket_f[1] else 1
        hi = 1 - lo
        f_lo = bracket_f[lo]
        t = polyinterp(
            [
                [bracket[0], bracket_f[0], float(jnp.dot(bracket_g[0], d))],
                [bracket[1], bracket_f[1], float(jnp.dot(bracket_g[1], d))],
            ]
        )
        b_max, b_min = max(bracket), min(bracket)
        if min(b_max - t, t - b_min) / (b_max - b_min) < 0.1:
            # too near an end of the bracket: move 10% inside, or note the lack of progress
            if insuf_progress or t >= b_max or t <= b_min:
                if abs(t - b_max) < abs(t - b_min):
                    t = b_max - 0.1 * (b_max - b_min)
                else:
                    t = b_min + 0.1 * (b_max - b_min)
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new, gtd_new = evaluate(t)
        evals += 1
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= f_lo:
            # Armijo condition not satisfied or not lower than the lowest point
            bracket[hi], bracket_f[hi], bracket_g[hi] = t, f_new, g_new
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # Wolfe conditions satisfied
            elif gtd_new * (bracket[hi] - bracket[lo]) >= 0:
                # the old high point becomes the new low one
                bracket[hi], bracket_f[hi], bracket_g[hi] = (
                    bracket[lo],
                    bracket_f[lo],
                    bracket_g[lo],
                )
            bracket[lo], bracket_f[lo], bracket_g[lo] = t, f_new, g_new
        if not done and abs((bracket[0] - bracket[1]) * gtd_new) < tol_x:
            break
    # (4) the lowest point of the bracket
    lo = min(range(len(bracket_f)), key=lambda i: bracket_f[i])
    t = bracket[lo]
    return bracket_f[lo], bracket_g[lo], x_init + t * d, t, evals
