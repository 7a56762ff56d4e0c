import jax.numpy as jnp
import numpy as np
import pytest

from nets import optim


def test_polyinterp_cubic_closed_form_and_general_fit():
    # f(t) = (t - 1)^2: through t = 0 and t = 3 the cubic is the parabola, minimum at 1
    pts = [[0.0, 1.0, -2.0], [3.0, 4.0, 4.0]]
    assert optim.polyinterp(pts) == pytest.approx(1.0, abs=1e-12)
    # with bounds, the least-squares fit of the same points; the bound wins when lower
    assert optim.polyinterp(pts, 0.0, 5.0) == pytest.approx(1.0, abs=1e-9)
    assert optim.polyinterp(pts, 2.0, 5.0) == pytest.approx(2.0, abs=1e-12)
    # f(t) = t^3 - 3t: minimum at 1 in [0, 2]
    f = [[0.0, 0.0, -3.0], [2.0, 2.0, 9.0]]
    assert optim.polyinterp(f) == pytest.approx(1.0, abs=1e-12)


def test_lswolfe_step_satisfies_the_strong_wolfe_conditions(rosen):
    x = jnp.array([-1.2, 1.0])
    f, g = rosen(x)
    d = -g
    gtd = float(g @ d)
    f_new, g_new, x_new, t, evals = optim.lswolfe(rosen, x, 1.0, d, f, g, gtd)
    c1, c2 = 1e-4, 0.9
    assert float(f_new) <= float(f) + c1 * t * gtd  # sufficient decrease
    assert abs(float(g_new @ d)) <= -c2 * gtd  # curvature
    np.testing.assert_allclose(np.asarray(x_new), np.asarray(x + t * d), rtol=1e-6)
    assert 1 <= evals <= 20
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['c3'\]"):
        optim.lswolfe(rosen, x, 1.0, d, f, g, gtd, {"c3": 1})


def test_lbfgs_with_line_search_minimises_rosenbrock(rosen):
    state = {}
    x, fx = optim.lbfgs(rosen, jnp.zeros(2), {"lineSearch": optim.lswolfe, "maxIter": 100}, state)
    assert fx[-1] < 1e-6 and float(rosen(x)[0]) < 1e-6
    np.testing.assert_allclose(np.asarray(x), [1.0, 1.0], atol=1e-5)
    assert state["funcEval"] > state["nIter"]  # the line search evaluated more than once
