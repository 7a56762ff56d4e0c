import jax.numpy as jnp
import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the gradient (5), weight decay (2), two moments (3 each), the bias correction (3), the step (3)
STEP_TERMS = path_terms(5, 2, 3, 3, 3, 3)


def torch_adamax(grad, x, cfg, steps):
    """adamax.lua transcribed in float64."""
    lr, b1, b2 = cfg.get("learningRate", 0.002), cfg.get("beta1", 0.9), cfg.get("beta2", 0.999)
    eps, wd = cfg.get("epsilon", 1e-38), cfg.get("weightDecay", 0)
    m, u = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        dfdx = grad(x)
        if wd != 0:
            dfdx = dfdx + wd * x
        m = b1 * m + (1 - b1) * dfdx
        u = np.maximum(b2 * u, np.abs(dfdx) + eps)
        x = x - lr / (1 - b1**t) * m / u
    return x


@pytest.mark.parametrize(
    "cfg",
    [{"learningRate": 0.05}, {"learningRate": 0.1, "beta1": 0.5, "beta2": 0.9, "weightDecay": 0.1}],
)
def test_adamax_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, state = run(optim.adamax, feval, x0, cfg, steps=3)
    assert_close(x, torch_adamax(grad64, x0, cfg, 3), terms=3 * STEP_TERMS)
    assert state["t"] == 3


def test_adamax_zero_gradient_gives_no_nan():
    # Torch7's default epsilon 1e-38 is flushed to 0 in float32: 0 / 0 must still be 0
    x, _ = optim.adamax(lambda x: (jnp.sum(x[:1] ** 2), x.at[1].set(0.0) * 2), jnp.ones(2))
    np.testing.assert_array_equal(np.isfinite(x), [True, True])
    assert float(x[1]) == 1.0 and float(x[0]) < 1.0
