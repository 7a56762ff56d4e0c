import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the float32 gradient A x - b (A and b rounded to float32, 3 products): 5 terms a step; the
# update: weight decay 2, var 4, std 2, delta 4 (through acc, 4 more), the step 1.
STEP_TERMS = path_terms(5, 2, 4, 2, 4, 4, 1)


def torch_adadelta(grad, x, cfg, steps):
    """adadelta.lua transcribed (no learning rate)."""
    rho = cfg.get("rho", 0.9)
    eps = cfg.get("eps", 1e-6)
    wd = cfg.get("weightDecay", 0)
    var = np.zeros_like(x)
    acc = np.zeros_like(x)
    for _ in range(steps):
        g = grad(x) + wd * x
        var = rho * var + (1 - rho) * g * g
        std = np.sqrt(var + eps)
        delta = np.sqrt(acc + eps) / std * g
        x = x - delta
        acc = rho * acc + (1 - rho) * delta * delta
    return x


@pytest.mark.parametrize("cfg", [{}, {"rho": 0.5, "eps": 1e-3, "weightDecay": 0.1}])
def test_adadelta_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, _ = run(optim.adadelta, feval, x0, cfg, steps=8)
    assert_close(x, torch_adadelta(grad64, x0, cfg, 8), terms=8 * STEP_TERMS)
