import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the float32 gradient A x - b (A and b rounded to float32, 3 products): 5 terms a step; the
# update: weight decay 2, m 4, sqrt(m) + eps 2, the scaled division 2, the step 1.
STEP_TERMS = path_terms(5, 2, 4, 2, 2, 1)


def torch_rmsprop(grad, x, cfg, steps):
    """rmsprop.lua transcribed: m = alpha m + (1-alpha) g^2; x -= lr g / (sqrt(m) + eps)."""
    lr = cfg.get("learningRate", 1e-2)
    alpha = cfg.get("alpha", 0.99)
    eps = cfg.get("epsilon", 1e-8)
    wd = cfg.get("weightDecay", 0)
    m = np.full_like(x, cfg.get("initialMean", 0.0))
    for _ in range(steps):
        g = grad(x) + wd * x
        m = alpha * m + (1 - alpha) * g * g
        x = x - lr * g / (np.sqrt(m) + eps)
    return x


@pytest.mark.parametrize(
    "cfg",
    [
        {"learningRate": 0.01},
        {"learningRate": 0.02, "alpha": 0.9, "epsilon": 0.05, "initialMean": 0.5},
        {"learningRate": 0.01, "weightDecay": 0.2},
    ],
)
def test_rmsprop_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, _ = run(optim.rmsprop, feval, x0, cfg, steps=6)
    assert_close(x, torch_rmsprop(grad64, x0, cfg, 6), terms=6 * STEP_TERMS)
