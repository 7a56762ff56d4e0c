import jax.numpy as jnp
import numpy as np
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms

# the float32 gradient A x - b (A and b rounded to float32, 3 products): 5 terms a step; the
# update: weight decay 2, momentum 3 (Nesterov 2 more), the annealed rate 2, the step 2.
# Against the float64 transcription, over the number of steps.
STEP_TERMS = path_terms(5, 2, 3, 2, 2, 2)


def torch_sgd(grad, x, cfg, steps):
    """sgd.lua transcribed: weight decay, damped momentum (first step undamped), annealing."""
    lr = cfg.get("learningRate", 1e-3)
    lrd = cfg.get("learningRateDecay", 0)
    wd = cfg.get("weightDecay", 0)
    mom = cfg.get("momentum", 0)
    damp = cfg.get("dampening", mom)
    nesterov = cfg.get("nesterov", False)
    lrs, wds = cfg.get("learningRates"), cfg.get("weightDecays")
    buf = None
    for nevals in range(steps):
        dfdx = grad(x)
        if wd != 0:
            dfdx = dfdx + wd * x
        elif wds is not None:
            dfdx = dfdx + wds * x
        if mom != 0:
            buf = dfdx.copy() if buf is None else mom * buf + (1 - damp) * dfdx
            dfdx = dfdx + mom * buf if nesterov else buf
        clr = lr / (1 + nevals * lrd)
        x = x - clr * (dfdx if lrs is None else lrs * dfdx)
    return x


CONFIGS = [
    {"learningRate": 0.1},
    {"learningRate": 0.1, "learningRateDecay": 0.5, "weightDecay": 0.01},
    {"learningRate": 0.05, "momentum": 0.9},  # Torch's default dampening = momentum
    {"learningRate": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"learningRate": 0.05, "momentum": 0.9, "dampening": 0, "nesterov": True},
    {"learningRate": 0.05, "momentum": 0.5, "dampening": 0, "weightDecay": 0.1},
    # per-parameter vectors; weightDecays applies only while weightDecay is 0 (Torch7)
    {"learningRate": 0.1, "learningRates": np.array([1.0, 0.5, 0.0]), "momentum": 0.5},
    {"learningRate": 0.1, "weightDecays": np.array([0.0, 0.5, 2.0])},
    {"learningRate": 0.1, "weightDecay": 0.01, "weightDecays": np.array([0.0, 0.5, 2.0])},
]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_sgd_matches_torch_formula(run, quadratic, cfg):
    feval, grad64, x0 = quadratic
    x, state = run(optim.sgd, feval, x0, cfg, steps=6)
    assert_close(x, torch_sgd(grad64, x0, cfg, 6), terms=6 * STEP_TERMS)
    assert state["evalCounter"] == 6


def test_sgd_returns_loss_before_update(run, quadratic):
    feval, _, x0 = quadratic
    x = jnp.asarray(x0, jnp.float32)
    x1, fx = optim.sgd(feval, x, {"learningRate": 0.1})
    assert float(fx[0]) == pytest.approx(float(feval(x)[0]))
    assert not np.allclose(np.asarray(x1), x0)


def test_sgd_on_a_pytree():
    params = {"w": jnp.ones((2, 2)), "b": jnp.zeros(2)}

    def feval(p):
        return jnp.sum(p["w"] ** 2) + jnp.sum(p["b"]), {"w": 2 * p["w"], "b": jnp.ones(2)}

    new, _ = optim.sgd(feval, params, {"learningRate": 0.25})
    np.testing.assert_allclose(np.asarray(new["w"]), 0.5 * np.ones((2, 2)))
    np.testing.assert_allclose(np.asarray(new["b"]), -0.25 * np.ones(2))


def test_sgd_converges_on_rosenbrock(run, rosen):
    x, _ = run(
        optim.sgd,
        rosen,
        [0.0, 0.0],
        {"learningRate": 1e-3, "momentum": 0.9, "dampening": 0, "nesterov": True},
        3000,
    )
    np.testing.assert_allclose(x, [1.0, 1.0], atol=2e-2)  # convergence, not rounding


def test_nesterov_needs_zero_dampening(run, quadratic):
    feval, _, x0 = quadratic
    with pytest.raises(ValueError, match=r"optim.sgd: nesterov=True requires momentum > 0"):
        optim.sgd(feval, jnp.asarray(x0), {"momentum": 0.9, "nesterov": True})


def test_changing_the_algorithm_layout_mid_run_is_an_error(run, quadratic):
    feval, _, x0 = quadratic
    state = {}
    x, _ = optim.sgd(feval, jnp.asarray(x0), {"learningRate": 0.1}, state)
    with pytest.raises(ValueError, match=r"optim.sgd: this state dict was filled by a different"):
        optim.sgd(feval, x, {"learningRate": 0.1, "momentum": 0.9}, state)


def test_state_defaults_to_config_as_in_torch(run, quadratic):
    feval, _, x0 = quadratic
    config = {"learningRate": 0.1, "momentum": 0.5}
    x = jnp.asarray(x0, jnp.float32)
    for _ in range(3):
        x, _ = optim.sgd(feval, x, config)
    assert config["evalCounter"] == 3
    expected = torch_sgd(quadratic[1], x0, {"learningRate": 0.1, "momentum": 0.5}, 3)
    assert_close(x, expected, terms=3 * STEP_TERMS)


def test_sgd_per_parameter_vectors_are_checked(quadratic):
    feval, _, x0 = quadratic
    x = jnp.asarray(x0, jnp.float32)
    with pytest.raises(ValueError, match=r"config\['learningRates'\] must be shaped like x"):
        optim.sgd(feval, x, {"learningRates": np.ones(2)})
    with pytest.raises(ValueError, match=r"config\['weightDecays'\] must be an array .* >= 0"):
        optim.sgd(feval, x, {"weightDecays": np.array([1.0, -1.0, 0.0])})
    # a compiled training step checks the vector against the parameters when it starts
    tx = optim.transform("sgd", {"learningRates": np.ones(3)})
    with pytest.raises(ValueError, match=r"x has structure PyTreeDef\(\{'w': \*\}\)"):
        tx.init({"w": x})
    # a new vector takes effect in the next step (the compiled update is keyed by it)
    state = {}
    x1, _ = optim.sgd(feval, x, {"learningRate": 0.1, "learningRates": np.ones(3)}, state)
    x2, _ = optim.sgd(feval, x1, {"learningRate": 0.1, "learningRates": np.zeros(3)}, state)
    np.testing.assert_array_equal(np.asarray(x2), np.asarray(x1))
