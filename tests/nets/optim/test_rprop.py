import jax.numpy as jnp
import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close


def torch_rprop(grad, x, cfg, steps):
    """rprop.lua transcribed in float64 (niter iterations per call)."""
    up, down = cfg.get("etaplus", 1.2), cfg.get("etaminus", 0.5)
    hi, lo = cfg.get("stepsizemax", 50.0), cfg.get("stepsizemin", 1e-6)
    delta = np.zeros_like(x)
    size = np.full_like(x, cfg.get("stepsize", 0.1))
    for _ in range(steps):
        dfdx = grad(x)
        s = np.sign(dfdx * delta)
        size = size * np.where(s > 0, up, np.where(s < 0, down, 1.0))
        size = np.clip(size, lo, hi)
        dfdx = np.where(s < 0, 0, dfdx)
        x = x - np.sign(dfdx) * size
        delta = dfdx
    return x


@pytest.mark.parametrize(
    "cfg", [{"stepsize": 0.3}, {"stepsize": 0.3, "etaplus": 1.5, "stepsizemax": 0.4}]
)
def test_rprop_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, _ = run(optim.rprop, feval, x0, cfg, steps=3)
    # x moves by sums of a few step sizes (powers of the factors): a few roundings per step
    assert_close(x, torch_rprop(grad64, x0, cfg, 3), terms=3 * 6)


def test_rprop_niter_evaluates_several_times(quadratic):
    feval, grad64, x0 = quadratic
    x, fx = optim.rprop(feval, jnp.asarray(x0, jnp.float32), {"stepsize": 0.3, "niter": 3})
    assert len(fx) == 3
    assert_close(x, torch_rprop(grad64, x0, {"stepsize": 0.3}, 3), terms=18)
    with pytest.raises(ValueError, match="rprop with niter > 1"):
        optim.transform("rprop", {"niter": 2})
