import jax.numpy as jnp
import numpy as np

from nets import optim
from tests.tolerance import assert_close, path_terms

# the gradient (5), decay and step (4), averaging (3), eta_t's power (4 library terms)
STEP_TERMS = path_terms(5, 4, 3, 4)


def torch_asgd(grad, x, cfg, steps):
    """asgd.lua transcribed in float64; returns x and the average ax."""
    eta0, lam, alpha, t0 = cfg["eta0"], cfg["lambda"], cfg["alpha"], cfg["t0"]
    eta_t, mu_t, t, ax = eta0, 1.0, 0, np.zeros_like(x)
    for _ in range(steps):
        dfdx = grad(x)
        x = x * (1 - lam * eta_t)
        x = x - eta_t * dfdx
        ax = x.copy() if mu_t == 1 else ax + mu_t * (x - ax)
        t += 1
        eta_t = eta0 / (1 + lam * eta0 * t) ** alpha
        mu_t = 1 / max(1, t - t0)
    return x, ax, eta_t, mu_t


def test_asgd_matches_torch_formula_and_averages(quadratic):
    feval, grad64, x0 = quadratic
    cfg = {"eta0": 0.2, "lambda": 0.5, "alpha": 0.75, "t0": 0}
    x, state = jnp.asarray(x0, jnp.float32), {}
    for _ in range(4):
        x, fx, ax = optim.asgd(feval, x, cfg, state)
    want_x, want_ax, eta, mu = torch_asgd(grad64, x0, cfg, 4)
    assert_close(x, want_x, terms=4 * STEP_TERMS)
    assert_close(ax, want_ax, terms=4 * STEP_TERMS)
    # steps 3 and 4 average (mu_t = 1/2, 1/3): the average differs from the last iterate
    assert np.abs(want_ax - want_x).max() > 1e-3
    assert state["t"] == 4 and state["mu_t"] == mu
    assert_close(state["eta_t"], eta, terms=8, dtype=np.float32)
