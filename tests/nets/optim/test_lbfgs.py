import jax.numpy as jnp
import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms


def torch_lbfgs(opfunc, x, max_iter, lr=1.0, n_correction=100, tol_fun=1e-5, tol_x=1e-9):
    """lbfgs.lua transcribed for one call (fixed step), in float64."""
    f, g = opfunc(x)
    old_dirs, old_stps = [], []
    hdiag = 1.0
    d = t = g_old = None
    for n_iter in range(1, max_iter + 1):
        if n_iter == 1:
            d = -g
        else:
            y, s = g - g_old, d * t
            ys = y @ s
            if ys > 1e-10:
                if len(old_dirs) == n_correction:
                    old_dirs.pop(0)
                    old_stps.pop(0)
                old_dirs.append(s)
                old_stps.append(y)
                hdiag = ys / (y @ y)
            ro = [1 / (old_stps[i] @ old_dirs[i]) for i in range(len(old_dirs))]
            al = [0.0] * len(old_dirs)
            q = -g
            for i in reversed(range(len(old_dirs))):
                al[i] = (old_dirs[i] @ q) * ro[i]
                q = q - al[i] * old_stps[i]
            d = q * hdiag
            for i in range(len(old_dirs)):
                d = d + (al[i] - (old_stps[i] @ d) * ro[i]) * old_dirs[i]
        g_old, f_old = g, f
        t = min(1.0, 1.0 / np.abs(g).sum()) * lr if n_iter == 1 else lr
        if g @ d > -tol_x:
            break
        x = x + t * d
        if n_iter != max_iter:
            f, g = opfunc(x)
        if n_iter == max_iter or np.abs(g).sum() <= tol_fun or np.abs(d * t).sum() <= tol_x:
            break
        if abs(f - f_old) < tol_x:
            break
    return x


def test_lbfgs_matches_torch_formula(quadratic):
    feval, grad64, x0 = quadratic

    def opfunc64(x):
        a = grad64(np.zeros(3))  # -b
        return 0.5 * x @ (grad64(x) - a) + a @ x, grad64(x)

    cfg = {"maxIter": 4, "learningRate": 0.5, "nCorrection": 2}
    x, fhist = optim.lbfgs(feval, jnp.asarray(x0, jnp.float32), cfg)
    expected = torch_lbfgs(opfunc64, x0, max_iter=4, lr=0.5, n_correction=2)
    # each iteration: the gradient 5 terms, y and s 2, y.s and y.y 6, the two-loop recursion over
    # 2 corrections (a 3-term dot, a product and an axpy each way: 2 * 2 * 5), the step 2
    assert_close(x, expected, terms=4 * path_terms(5, 2, 6, 2 * 2 * 5, 2))
    assert len(fhist) == 4  # one evaluation per iteration, none after the last
    assert cfg["nIter"] == 4 and cfg["funcEval"] == 4


def test_lbfgs_converges_on_rosenbrock(rosen):
    state = {}
    x = jnp.zeros(2)
    for _ in range(2):
        x, _ = optim.lbfgs(rosen, x, {"maxIter": 60, "learningRate": 0.1}, state)
    np.testing.assert_allclose(np.asarray(x), [1.0, 1.0], atol=1e-2)  # convergence, not rounding


def test_lbfgs_stops_at_once_at_an_optimum(quadratic, system):
    feval, _, _ = quadratic
    xstar = jnp.asarray(np.linalg.solve(*system), jnp.float32)
    x, fhist = optim.lbfgs(feval, xstar, {"tolFun": 1e-3})
    assert len(fhist) == 1
    np.testing.assert_array_equal(np.asarray(x), np.asarray(xstar))


def test_lbfgs_has_no_transformation():
    with pytest.raises(ValueError, match="lbfgs evaluates the function several times"):
        optim.transform("lbfgs", {})
