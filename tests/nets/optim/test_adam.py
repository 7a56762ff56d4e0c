import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the float32 gradient A x - b (A and b rounded to float32, 3 products): 5 terms a step; the
# update: weight decay 2, m 3, v 4, sqrt(v) + eps 2, the bias-corrected step 6, the division,
# product and subtraction 3. Against the float64 transcription, over `steps` steps.
STEP_TERMS = path_terms(5, 2, 3, 4, 2, 6, 3)


def torch_adam(grad, x, cfg, steps):
    """adam.lua transcribed: epsilon added to sqrt(v), bias corrections folded into the step."""
    lr = cfg.get("learningRate", 1e-3)
    lrd = cfg.get("learningRateDecay", 0)
    b1, b2 = cfg.get("beta1", 0.9), cfg.get("beta2", 0.999)
    eps = cfg.get("epsilon", 1e-8)
    wd = cfg.get("weightDecay", 0)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t in range(steps):
        g = grad(x) + wd * x
        clr = lr / (1 + t * lrd)
        t = t + 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) + eps
        step = clr * np.sqrt(1 - b2**t) / (1 - b1**t)
        x = x - step * m / denom
    return x


@pytest.mark.parametrize(
    "cfg",
    [
        {"learningRate": 0.05},
        # a large epsilon makes Torch's placement visible (optax's would differ here)
        {"learningRate": 0.05, "epsilon": 0.1, "beta1": 0.8, "beta2": 0.9},
        {"learningRate": 0.05, "learningRateDecay": 0.2, "weightDecay": 0.05},
    ],
)
def test_adam_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, state = run(optim.adam, feval, x0, cfg, steps=7)
    assert_close(x, torch_adam(grad64, x0, cfg, 7), terms=7 * STEP_TERMS)
    assert state["t"] == 7


def test_adam_converges_on_rosenbrock(run, rosen):
    x, _ = run(optim.adam, rosen, [0.0, 0.0], {"learningRate": 0.02}, 3000)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=2e-2)  # convergence, not rounding
