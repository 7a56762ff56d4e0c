import numpy as np
import pytest

from nets import optim


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
    np.testing.assert_allclose(x, torch_adadelta(grad64, x0, cfg, 8), rtol=1e-5, atol=1e-7)
