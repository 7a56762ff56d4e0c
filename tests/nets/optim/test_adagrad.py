import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the float32 gradient A x - b (A and b rounded to float32, 3 products): 5 terms a step; the
# update: weight decay 2, the sum of squares 2, the annealed rate 2, sqrt + 1e-10 2, the scaled
# division 2, the step 1.
STEP_TERMS = path_terms(5, 2, 2, 2, 2, 2, 1)


def torch_adagrad(grad, x, cfg, steps):
    """adagrad.lua transcribed: x -= clr * g / (sqrt(sum g^2) + 1e-10)."""
    lr = cfg.get("learningRate", 1e-3)
    lrd = cfg.get("learningRateDecay", 0)
    wd = cfg.get("weightDecay", 0)
    var = np.zeros_like(x)
    for nevals in range(steps):
        g = grad(x) + wd * x
        clr = lr / (1 + nevals * lrd)
        var = var + g * g
        x = x - clr * g / (np.sqrt(var) + 1e-10)
    return x


@pytest.mark.parametrize(
    "cfg",
    [{"learningRate": 0.1}, {"learningRate": 0.3, "learningRateDecay": 0.1, "weightDecay": 0.1}],
)
def test_adagrad_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, state = run(optim.adagrad, feval, x0, cfg, steps=6)
    assert_close(x, torch_adagrad(grad64, x0, cfg, 6), terms=6 * STEP_TERMS)
    assert state["evalCounter"] == 6
