import jax.numpy as jnp
import numpy as np

from nets import optim
from tests.tolerance import assert_close, path_terms


def test_cg_solves_a_quadratic_in_a_few_line_searches(quadratic, system):
    feval, _, x0 = quadratic
    a, b = system
    x, fx, evals = optim.cg(feval, jnp.asarray(x0, jnp.float32), {"maxIter": 20})
    # conjugate directions on a 3-d quadratic: the minimum A^-1 b (float32 residual)
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(a, b), atol=1e-4)
    assert all(f1 >= f2 for f1, f2 in zip(fx, fx[1:], strict=False))  # each search descends
    assert evals <= 20 * 1.25 + 1


def test_cg_minimises_rosenbrock(rosen):
    x = jnp.zeros(2)
    for _ in range(3):  # Rasmussen's example: minimize([0 0]', 'rosenbrock', -25), repeated
        x, fx, evals = optim.cg(rosen, x, {"maxEval": 25})
        assert evals <= 26
    np.testing.assert_allclose(np.asarray(x), [1.0, 1.0], atol=1e-4)
    assert fx[-1] < 1e-8


def torch_cg(opfunc, x, max_eval, max_iter=20, rho=0.01, sig=0.5, intr=0.1, ext=3.0, ratio=100):
    """cg.lua transcribed in float64, line by line (Lua's `ls_failed or ...` is always true)."""
    fx = []
    f1, df1 = opfunc(x)
    fx.append(f1)
    i = 1
    s = -df1
    d1 = -s @ s
    z1 = 1 / (1 - d1)
    while i < abs(max_eval):
        x0, f0, df0 = x.copy(), f1, df1.copy()
        x = x + z1 * s
        f2, df2 = opfunc(x)
        i += 1
        d2 = df2 @ s
        f3, d3, z3 = f1, d1, -z1
        m = min(max_iter, max_eval - i)
        success, limit = False, -1
        while True:
            while (f2 > f1 + z1 * rho * d1 or d2 > -sig * d1) and m > 0:
                limit = z1
                if f2 > f1:
                    z2 = z3 - (0.5 * d3 * z3 * z3) / (d3 * z3 + f2 - f3)
                else:
                    a = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)
                    b = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
                    z2 = (np.sqrt(b * b - a * d2 * z3 * z3) - b) / a
                if not np.isfinite(z2):
                    z2 = z3 / 2
                z2 = max(min(z2, intr * z3), (1 - intr) * z3)
                z1 += z2
                x = x + z2 * s
                f2, df2 = opfunc(x)
                i += 1
                m -= 1
                d2 = df2 @ s
                z3 -= z2
            if f2 > f1 + z1 * rho * d1 or d2 > -sig * d1:
                break
            if d2 > sig * d1:
                success = True
                break
            if m == 0:
                break
            a = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)
            b = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
            z2 = -d2 * z3 * z3 / (b + np.sqrt(b * b - a * d2 * z3 * z3))
            if not np.isfinite(z2) or z2 < 0:
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
            x = x + z2 * s
            f2, df2 = opfunc(x)
            i += 1
            m -= 1
            d2 = df2 @ s
        if success:
            f1 = f2
            fx.append(f1)
            ss = (df2 @ df2 - df2 @ df1) / (df1 @ df1)
            s = ss * s - df2
            df1, df2 = df2, df1
            d2 = df1 @ s
            if d2 > 0:
                s = -df1
                d2 = -s @ s
            z1 = z1 * min(ratio, d1 / (d2 - 1e-320))
            d1 = d2
        else:
            x, f1, df1 = x0, f0, df0
            break  # `if ls_failed or i > maxEval then break end`, ls_failed being 0 or 1
    return x, fx, i


def test_cg_matches_torch_formula_for_three_line_searches(quadratic, system):
    feval, grad64, x0 = quadratic
    a, b = system

    def opfunc(x):
        return 0.5 * x @ a @ x - b @ x, grad64(x)

    for max_eval in (3, 6, 9):  # 0, 2 and 3 successful line searches (the first one cut short)
        x, fx, evals = optim.cg(feval, jnp.asarray(x0, jnp.float32), {"maxEval": max_eval})
        want_x, want_fx, want_evals = torch_cg(opfunc, x0, max_eval)
        assert evals == want_evals and len(fx) == len(want_fx)
        # the quadratic's value and gradient (3 terms each) along a few steps, in float32
        assert_close(np.asarray(x), want_x, terms=max_eval * path_terms(3, 3, 4))
        assert_close(
            np.asarray(fx), np.asarray(want_fx), terms=max_eval * path_terms(9, 4), dtype=np.float32
        )
