"""The minimum of the polynomial that interpolates function values and derivatives, Torch7
optim's ``polyinterp.lua`` (used by `lswolfe`).

ARGS:
    points:    N triplets ``(x, f(x), f'(x))``, an (N, 3) array
    xminBound: the low end of the interval searched (default: the smallest x)
    xmaxBound: the high end (default: the largest x)

RETURN:
    minPos:    the position of the minimum in ``[xminBound, xmaxBound]``

Steps: (1) two points and no bounds: the closed form of the cubic's minimum, clamped to the
points (their mean when the cubic has no real minimum); (2) otherwise, fit the polynomial of
degree 2N-1 by least squares (``numpy.linalg.lstsq`` for Torch7's ``torch.gels``); (3) the
candidates are the bounds, the points and the real roots of the derivative inside the bounds;
(4) return the candidate where the polynomial is lowest (the midpoint if none qualifies).
Scalars are host floats: this is control flow, not array maths.
"""

from __future__ import annotations

import math

import numpy as np


def _roots(c: np.ndarray) -> np.ndarray:
    """Torch7's ``roots``: coefficients below 1e-12 in magnitude count as 0."""
    c = np.where(np.abs(c) < 1e-12, 0.0, c)
    if not np.any(c):
        return np.zeros(0)
    return np.roots(c)


def polyinterp(points, xminBound: float | None = None, xmaxBound: float | None = None) -> float:  # noqa: N803 (Torch7's names)
    """minPos = polyinterp(points[, xminBound][, xmaxBound]) (see the module docstring)."""
    points = np.asarray(points, np.float64)
    n = points.shape[0]
    order = 2 * n - 1
    # (1) the common case: a cubic through two points, in closed form
    if n == 2 and xminBound is None and xmaxBound is None:
        lo = int(np.argmin(points[:, 0]))
        hi = 1 - lo
        (x1, f1, g1), (x2, f2, g2) = points[lo], points[hi]
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        disc = d1 * d1 - g1 * g2
        if disc >= 0:
            d2 = math.sqrt(disc)
            t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            return float(min(max(t, x1), x2))
        return float(np.mean(points[:, 0]))
    xmin_b = float(points[:, 0].min()) if xminBound is None else float(xminBound)
    xmax_b = float(points[:, 0].max()) if xmaxBound is None else float(xmaxBound)
    # (2) the interpolating polynomial: values, then derivatives
    a = np.zeros((2 * n, order + 1))
    b = np.zeros(2 * n)
    powers = np.arange(order, -1, -1)
    for i, (x, f, g) in enumerate(points):
        a[i] = x**powers
        a[n + i, :order] = powers[:-1] * x ** (powers[:-1] - 1)
        b[i], b[n + i] = f, g
    params = np.linalg.lstsq(a, b, rcond=None)[0]
    params[np.abs(params) <= 1e-12] = 0
    # (3) the critical points
    d_params = params[:-1] * powers[:-1]
    candidates = [complex(xmin_b), complex(xmax_b), *map(complex, points[:, 0])]
    if np.all(np.isfinite(d_params)):
        candidates += list(_roots(d_params))
    # (4) the lowest candidate inside the bounds
    min_pos, f_min = (xmin_b + xmax_b) / 2, math.inf
    for c in candidates:
        if c.imag == 0 and xmin_b <= c.real <= xmax_b:
            f_c = float(np.polyval(params, c.real))
            if f_c < f_min:
                min_pos, f_min = c.real, f_c
    return float(min_pos)
