import jax.numpy as jnp
import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the float32 gradient A y - b (5 terms), the look-ahead (2), weight decay (2), the velocity and
# step (4 each), the per-parameter rate (1), the annealed rate (2); over the steps
STEP_TERMS = path_terms(5, 2, 2, 4, 4, 1, 2)


def torch_nag(grad, x, cfg, steps):
    """nag.lua transcribed in float64."""
    lr, lrd = cfg.get("learningRate", 1e-3), cfg.get("learningRateDecay", 0)
    wd, mom = cfg.get("weightDecay", 0), cfg.get("momentum", 0.9)
    lrs = cfg.get("learningRates")
    v = None
    for nevals in range(steps):
        if v is not None:
            x = x + mom * v  # (1) step along the momentum first
        dfdx = grad(x)
        if wd != 0:
            dfdx = dfdx + wd * x
        clr = lr / (1 + nevals * lrd)
        v = np.zeros_like(x) if v is None else mom * v
        d = dfdx if lrs is None else lrs * dfdx
        x = x - clr * d
        v = v - clr * d
    return x, v


CONFIGS = [
    {"learningRate": 0.1},
    {"learningRate": 0.1, "momentum": 0.5, "learningRateDecay": 0.3, "weightDecay": 0.05},
    {"learningRate": 0.2, "learningRates": np.array([1.0, 0.5, 0.25])},
]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_nag_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, state = run(optim.nag, feval, x0, cfg, steps=3)
    assert_close(x, torch_nag(grad64, x0, cfg, 3)[0], terms=3 * STEP_TERMS)
    assert state["evalCounter"] == 3


def test_nag_returns_the_loss_at_the_look_ahead_point(quadratic):
    feval, grad64, x0 = quadratic
    state = {}
    x1, _ = optim.nag(feval, jnp.asarray(x0, jnp.float32), {"learningRate": 0.1}, state)
    _, fx = optim.nag(feval, x1, {"learningRate": 0.1}, state)
    v = -0.1 * grad64(x0)  # the velocity after one step
    look = np.asarray(x1, np.float64) + 0.9 * v
    want = float(feval(jnp.asarray(look, jnp.float32))[0])
    assert_close(float(fx[0]), want, terms=path_terms(5, 9), dtype=np.float32)


def test_nag_refuses_zero_momentum(quadratic):
    feval, _, x0 = quadratic
    with pytest.raises(ValueError, match="optim.nag: momentum must be positive"):
        optim.nag(feval, jnp.asarray(x0), {"momentum": 0})
    with pytest.raises(ValueError, match=r"config\['learningRates'\] must be shaped like x"):
        optim.nag(feval, jnp.asarray(x0), {"learningRates": np.ones(2)})


def test_transform_trains_the_look_ahead_point(quadratic):
    """optim.transform('nag') updates y = x + mom v, where Torch7 takes the gradient."""
    feval, grad64, x0 = quadratic
    cfg = {"learningRate": 0.1, "momentum": 0.5, "learningRateDecay": 0.3, "weightDecay": 0.05}
    tx = optim.transform("nag", cfg)
    y = jnp.asarray(x0, jnp.float32)
    opt_state = tx.init(y)
    for _ in range(3):
        updates, opt_state = tx.update(feval(y)[1], opt_state, y)
        y = y + updates
    x, v = torch_nag(grad64, x0, cfg, 3)
    assert_close(np.asarray(y), x + 0.5 * v, terms=3 * STEP_TERMS)
