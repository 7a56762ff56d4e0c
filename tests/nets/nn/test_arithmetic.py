"""Element-wise arithmetic layers: formulas, finite differences, Torch7's broadcasting of the
learnt arrays, reprs and errors."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(19)
X = RNG.uniform(0.5, 2.0, (3, 4)).astype(np.float32)  # positive: Log, Sqrt, Power(0.5)
FD_TOL = 1e-6  # float64 central differences with Torch7's step (see test_jacobian)


def _w(m):
    return np.asarray(m.weight, np.float64)


def _b(m):
    return np.asarray(m.bias, np.float64)


# name: (builder, formula of (input, module)); every formula is on one sample or a batch
FORMULAS = {
    "Abs": (lambda: nn.Abs(), lambda x, m: np.abs(x - 1)),
    "Power": (lambda: nn.Power(0.5), lambda x, m: x**0.5),
    "Power-3": (lambda: nn.Power(3), lambda x, m: x**3),
    "Square": (lambda: nn.Square(), lambda x, m: x * x),
    "Sqrt": (lambda: nn.Sqrt(), lambda x, m: np.sqrt(x)),
    "Exp": (lambda: nn.Exp(), lambda x, m: np.exp(x)),
    "Log": (lambda: nn.Log(), lambda x, m: np.log(x)),
    "Clamp": (lambda: nn.Clamp(0.8, 1.5), lambda x, m: np.clip(x, 0.8, 1.5)),
    "AddConstant": (lambda: nn.AddConstant(2.5), lambda x, m: x + 2.5),
    "AddConstant-vector": (
        lambda: nn.AddConstant(np.arange(4.0)),
        lambda x, m: x + np.arange(4.0),
    ),
    "Add": (lambda: nn.Add(4), lambda x, m: x + _b(m)),
    "Add-scalar": (lambda: nn.Add(4, True), lambda x, m: x + _b(m)[0]),
    "Mul": (lambda: nn.Mul(), lambda x, m: x * _w(m)[0]),
    "CMul": (lambda: nn.CMul(4), lambda x, m: x * _w(m)),
    "CAdd": (lambda: nn.CAdd(4), lambda x, m: x + _b(m)),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_arithmetic_against_formulas_batch_and_single(name):
    build, formula = FORMULAS[name]
    m = build()
    x = X - 1 if name == "Abs" else X
    want = formula(np.asarray(X, np.float64), m)
    terms = path_terms(ELEMENTWISE, 2)  # a library exp/log/pow and a rounding or two
    assert_close(m.updateOutput(x), want, terms=terms)
    assert_close(m.updateOutput(x[1]), want[1], terms=terms)


def test_learnt_arrays_broadcast_as_torch():
    nets.manual_seed(0)
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    # a weight with the input's dims broadcasts along its size-1 dims
    m = nn.CMul(1, 3, 1)
    assert_close(m.updateOutput(x), x * _w(m), terms=1)
    # a weight with a sample's element count multiplies each sample of the batch
    m = nn.CMul(3, 4)
    assert_close(m.updateOutput(x), x * _w(m)[None], terms=1)
    m = nn.CAdd(12)
    assert_close(m.updateOutput(x), x + _b(m).reshape(3, 4), terms=1)
    m = nn.Add(12)
    assert_close(m.updateOutput(x), x + _b(m).reshape(3, 4), terms=1)
    # gradients: the batch's contributions add up in the learnt array
    m = nn.CMul(3, 4)
    m.zeroGradParameters()
    m.forward(x)
    m.backward(x, np.ones_like(x))
    assert_close(m.gradWeight, x.sum(0), terms=2)


ARRAY_LAYERS = [
    lambda: nn.Abs(),
    lambda: nn.Power(1.5),
    lambda: nn.Square(),
    lambda: nn.Sqrt(),
    lambda: nn.Exp(),
    lambda: nn.Log(),
    lambda: nn.Clamp(0.8, 1.5),
    lambda: nn.AddConstant(2.5),
    lambda: nn.Mul(),
]


@pytest.mark.parametrize("form", ["batch", "single"])
def test_arithmetic_gradients_match_finite_differences(form):
    shape, dim = ((2, 4), 1) if form == "batch" else ((4,), 0)
    learnt = [nn.Add(4), nn.Add(4, True), nn.CMul(4), nn.CAdd(4)]
    m = nn.Concat(dim, *(b() for b in ARRAY_LAYERS), *learnt)
    errors = nn.Jacobian.testAll(m, np.zeros(shape), 0.5, 2.0)  # positive inputs
    k = len(ARRAY_LAYERS)
    want = {"input", "8.weight", f"{k}.bias", f"{k + 1}.bias", f"{k + 2}.weight", f"{k + 3}.bias"}
    assert set(errors) == want
    assert max(errors.values()) < FD_TOL, errors


def test_sqrt_gradient_is_zero_at_zero_and_torch_reset():
    g = nn.Sqrt().backward(jnp.array([0.0, 4.0]), jnp.ones(2))
    np.testing.assert_array_equal(g, [0.0, 0.25])  # Torch7: 0 where the output is 0
    nets.manual_seed(1)
    w = np.asarray(nn.CMul(5, 20).weight)
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.08  # 1/sqrt(100)
    a = nn.Add(4).reset(0.01)
    assert np.abs(np.asarray(a.bias)).max() <= 0.01 * 3**0.5


def test_arithmetic_reprs_and_errors():
    assert repr(nn.Abs()) == "nn.Abs" and repr(nn.CMul(2, 3)) == "nn.CMul"
    assert nn.CMul((2, 3)).weight.shape == (2, 3)
    with pytest.raises(ModuleError, match=r"nn\.Power: expected p \(the exponent\) to be a finite"):
        nn.Power("2")
    with pytest.raises(ModuleError, match=r"nn\.Clamp: expected max_value .* > 1, got 0"):
        nn.Clamp(1, 0)
    with pytest.raises(ModuleError, match=r"nn\.CMul: expected size .* integer >= 1, got 0"):
        nn.CMul(0)
    with pytest.raises(
        ModuleError, match=r"nn\.CMul: expected an input of 3 elements, .* got \(2, 4\)"
    ):
        nn.CMul(3).forward(jnp.zeros((2, 4)))
    with pytest.raises(
        ModuleError, match=r"nn\.Add: expected an input of 3 elements.*got \(2, 4\)"
    ):
        nn.Add(3).forward(jnp.zeros((2, 4)))
    with pytest.raises(
        ModuleError,
        match=r"nn\.AddConstant: expected a \(D,\) or \(N, D\) input "
        r"with D = 3",
    ):
        nn.AddConstant(np.zeros(3)).forward(jnp.zeros((2, 4)))
    with pytest.raises(ModuleError, match=r"nn\.Exp: expected an array, got a table of 1"):
        nn.Exp().forward([jnp.zeros(2)])


def test_arithmetic_against_torch():
    torch = pytest.importorskip("torch")
    x64 = RNG.uniform(0.5, 2.0, (3, 5))
    pairs = [
        (nn.Power(2.5), lambda t: t**2.5),
        (nn.Sqrt(), torch.sqrt),
        (nn.Log(), torch.log),
        (nn.Clamp(0.7, 1.2), lambda t: torch.nn.functional.hardtanh(t, 0.7, 1.2)),
    ]
    for m, ref in pairs:
        t = torch.tensor(x64, requires_grad=True)
        out = ref(t)
        out.backward(torch.ones_like(out))
        x = jnp.asarray(x64, jnp.float32)
        assert_close(m.forward(x), out.detach().numpy(), terms=ELEMENTWISE, err_msg=repr(m))
        g = m.backward(x, jnp.ones((3, 5)))
        assert_close(g, t.grad.numpy(), terms=2 * ELEMENTWISE, err_msg=repr(m))


def test_a_net_of_issue_19_layers_survives_a_checkpoint(tmp_path):
    """Constructor arguments (an array among them), hyper-parameters set later (lambda) and
    learnt arrays come back; the rebuilt net computes the same outputs."""
    net = nn.Sequential(
        nn.AddConstant(np.arange(4.0)),
        nn.CMul(4),
        nn.CAdd(1, 4),
        nn.Add(4, True),
        nn.Mul(),
        nn.PReLU(4),
        nn.RReLU(),
        nn.Padding(0, 2, 1),
        nn.Narrow(1, 1, -1),
        nn.Transpose((0, 1)),
        nn.Transpose((0, 1)),
        nn.GradientReversal(),
        nn.L1Penalty(0.1),
        nn.Normalize(1.5),
        nn.Euclidean(5, 3),
        nn.NaN(nn.HardTanh(-0.5, 0.5), 4),
        nn.Profile(nn.SoftShrink(0.1), 10, "shrink"),
        nn.Sum(0, 1),
        nn.Unsqueeze(0),
        nn.Replicate(2, 0),
    )
    net.modules[11].setLambda(0.5)
    net.evaluate()
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    want = net.forward(x)
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net)
    assert getattr(back.modules[11], "lambda") == 0.5 and back.modules[16].name == "shrink"
    np.testing.assert_array_equal(back.forward(x), want)
