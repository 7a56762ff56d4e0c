"""Nonlinear conjugate gradients, Torch7 optim's ``cg.lua``: a rewrite of Carl E. Rasmussen's
``minimize.m`` (Polak-Ribiere directions, a line search by cubic interpolation and
extrapolation under the Wolfe-Powell conditions).

ARGS:
    feval:  a function that takes a single input ``x`` and returns ``(f(x), df/dx)``
    x:      the initial point (a flat vector or any pytree of arrays)
    config: a dict of configuration parameters for the optimizer
        maxEval   the maximum number of function evaluations (maxIter * 1.25)
        maxIter   the maximum number of line search iterations (20)
        rho       the sufficient decrease constant of the Wolfe-Powell conditions (0.01)
        sig       the curvature constant (0.5)
        int       do not re-evaluate within 0.1 of the bracket's limit (0.1)
        ext       extrapolate at most 3 times the current step (3.0)
        ratio     the largest allowed slope ratio (100)
    state:  a dict (defaults to ``config``); Torch7 keeps its buffers there, we keep nothing

RETURN:
    x:      the new point
    fx:     the function values, ``fx[0]`` at the start and ``fx[-1]`` at the new point
    i:      the number of function evaluations

Steps: (1) evaluate and take the steepest descent direction; (2) for each line search: step,
then (3) while the Wolfe-Powell conditions fail, interpolate back (cubic, or quadratic when
the value rose) and (4) extrapolate forward by cubic extrapolation, bounded by ``ext`` and
the bracket's limit; (5) on success, the Polak-Ribiere direction (steepest descent if it
does not descend) and the next step by the slope ratio; (6) on a failed line search, return
to the best point and stop (Torch7's code means to retry once along steepest descent, but
its test of the failure flag is always true in Lua; we keep what it does).
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ._common import Feval, Key, _check_grad, check_config

SPEC = {
    "maxEval": Key(None, "positive"),
    "maxIter": Key(20, "posint"),
    "rho": Key(0.01, "nonneg"),
    "sig": Key(0.5, "nonneg"),
    "int": Key(0.1, "nonneg"),
    "ext": Key(3.0, "nonneg"),
    "ratio": Key(100.0, "nonneg"),
    "verbose": Key(False, "bool"),
}


def _bad(z: float) -> bool:
    return math.isnan(z) or math.isinf(z)


def cg(feval: Feval, x: Any, config: dict | None = None, state: dict | None = None):
    """x, fx, i = cg(feval, x[, config][, state]) (see the module docstring)."""
    cfg = check_config("cg", SPEC, config)
    rho, sig, intr, ext, ratio = cfg["rho"], cfg["sig"], cfg["int"], cfg["ext"], cfg["ratio"]
    max_iter = cfg["maxIter"]
    max_eval = cfg["maxEval"] if cfg["maxEval"] is not None else max_iter * 1.25
    flat, unravel = ravel_pytree(x)

    def opfunc(v):
        f_, g_ = feval(unravel(v))
        _check_grad("cg", x, g_)
        return float(f_), ravel_pytree(g_)[0].astype(v.dtype)

    def dot(a, b) -> float:
        return float(jnp.dot(a, b))

    fx = []
    # (1) the initial point and the steepest descent direction
    f1, df1 = opfunc(flat)
    fx.append(f1)
    i = 1
    s = -df1
    d1 = -dot(s, s)  # slope
    z1 = 1 / (1 - d1)  # initial step (red = 1)
    while i < abs(max_eval):
        # (2) a line search along s
        x0 = flat  # the best point so far
        flat = flat + z1 * s
        f2, df2 = opfunc(flat)
        i += 1
        d2 = dot(df2, s)
        f3, d3, z3 = f1, d1, -z1  # point 3 starts equal to point 1
        m = min(max_iter, max_eval - i)
        success, limit = False, -1.0
        while True:
            # (3) interpolate back while the value is too high or the slope too steep
            while (f2 > f1 + z1 * rho * d1 or d2 > -sig * d1) and m > 0:
                limit = z1
                if f2 > f1:
                    z2 = z3 - (0.5 * d3 * z3 * z3) / (d3 * z3 + f2 - f3)  # quadratic fit
                else:
                    a = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)  # cubic fit
                    b = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
                    disc = b * b - a * d2 * z3 * z3
                    z2 = (math.sqrt(disc) - b) / a if disc >= 0 and a != 0 else math.nan
                if _bad(z2):
                    z2 = z3 / 2  # bisect if the fit failed
                z2 = max(min(z2, intr * z3), (1 - intr) * z3)
                z1 += z2
                flat = flat + z2 * s
                f2, df2 = opfunc(flat)
                i += 1
                m -= 1
                d2 = dot(df2, s)
                z3 -= z2
            if f2 > f1 + z1 * rho * d1 or d2 > -sig * d1:
                break  # a failure
            if d2 > sig * d1:
                success = True
                break
            if m == 0:
                break
            # (4) extrapolate by a cubic, within ext times the step and the bracket's limit
            a = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)
            b = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
            disc = b * b - a * d2 * z3 * z3
            denom = b + math.sqrt(disc) if disc >= 0 else math.nan
            z2 = -d2 * z3 * z3 / denom if denom else math.nan
            if _bad(z2) or z2 < 0:
                z2 = z1 * (ext - 1) if limit < -0.5 else (limit - z1) / 2
            elif limit > -0.5 and z2 + z1 > limit:
                z2 = (limit - z1) / 2
            elif limit < -0.5 and z2 + z1 > z1 * ext:
                z2 = z1 * (ext - 1)
            elif z2 < -z3 * intr:
                z2 = -z3 * intr
            elif limit > -0.5 and z2 < (limit - z1) * (1 - intr):
                z2 = (limit - z1) * (1 - intr)
            f3, d3, z3 = f2, d2, -z2
            z1 += z2
            flat = flat + z2 * s
            f2, df2 = opfunc(flat)
            i += 1
            m -= 1
            d2 = dot(df2, s)
        if success:
            # (5) Polak-Ribiere direction, then the next initial step by the slope ratio
            f1 = f2
            fx.append(f1)
            ss = (dot(df2, df2) - dot(df2, df1)) / dot(df1, df1)
            s = ss * s - df2
            df1, df2 = df2, df1
            d2 = dot(df1, s)
            if d2 > 0:  # not a descent direction: steepest descent
                s = -df1
                d2 = -dot(s, s)
            z1 = z1 * min(ratio, d1 / (d2 - 1e-320))
            d1 = d2
        else:
            # (6) back to the best point and stop: Torch7 tests `ls_failed or i > maxEval`
            # with ls_failed a number, 0 or 1, and both are true in Lua, so its restart along
            # steepest descent never runs; we keep that behaviour
            flat = x0
            break
    return unravel(flat), fx, i
