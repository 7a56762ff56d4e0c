"""MM, Bilinear, Euclidean, Cosine, Normalize and WeightNorm: NumPy and PyTorch references,
finite differences, reprs, errors, and a checkpoint of a weight-normalised net."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close

RNG = np.random.default_rng(19)
FD_TOL = 1e-6  # float64 central differences with Torch7's step (see test_jacobian)


def f64(v):
    return np.asarray(v, np.float64)


def test_mm_plain_transposed_and_batched():
    a = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    b = RNG.standard_normal((2, 4, 5)).astype(np.float32)
    assert_close(nn.MM().forward([a, b]), f64(a) @ f64(b), terms=4)
    assert_close(nn.MM(True, False).forward([a[0].T, b[0]]), f64(a[0]) @ f64(b[0]), terms=4)
    assert_close(nn.MM(False, True).forward([a, np.swapaxes(b, 1, 2)]), f64(a) @ f64(b), terms=4)
    net = nn.Sequential(nn.SplitTable(0), nn.MM(False, True))  # {A, B} from one (2, 3, 3) array
    errors = nn.Jacobian.testAll(net, np.zeros((2, 3, 3)))
    assert errors["input"] < FD_TOL, errors
    with pytest.raises(ModuleError, match=r"nn\.MM: expected two matrices or two \(N, \., \.\) "):
        nn.MM().forward([a[0], b[0].T])


def test_bilinear_formula_gradients_and_repr():
    m = nn.Bilinear(3, 4, 2)
    x1 = RNG.standard_normal((5, 3)).astype(np.float32)
    x2 = RNG.standard_normal((5, 4)).astype(np.float32)
    want = np.einsum("ni,kij,nj->nk", f64(x1), f64(m.weight), f64(x2)) + f64(m.bias)
    assert_close(m.forward([x1, x2]), want, terms=12 + 1)  # 3 x 4 products and the bias
    assert_close(m.forward([x1[0], x2[0]]), want[0], terms=12 + 1)
    # finite differences through a table made of one (2, 3) array: x1 = x2 rows of size 3
    m3 = nn.Bilinear(3, 3, 2)
    errors = nn.Jacobian.testAll(nn.Sequential(nn.SplitTable(0, 2), m3), np.zeros((2, 2, 3)))
    assert set(errors) == {"input", "1.weight", "1.bias"}
    assert max(errors.values()) < FD_TOL, errors
    assert repr(m) == "nn.Bilinear(3x4 -> 2)"
    assert repr(nn.Bilinear(3, 4, 2, False)) == "nn.Bilinear(3x4 -> 2) without bias"
    with pytest.raises(ModuleError, match=r"nn\.Bilinear\(3x4 -> 2\): expected a table of two "):
        m.forward([x1, x1])


# name: (builder, NumPy reference of (x, module)) for (N, D) and (D,) input
WEIGHTED = {
    "Euclidean": (
        lambda: nn.Euclidean(4, 3),
        lambda x, m: np.linalg.norm(x[..., :, None] - f64(m.weight), axis=-2),
    ),
    "Cosine": (
        lambda: nn.Cosine(4, 3),
        lambda x, m: (
            (x @ f64(m.weight).T)
            / np.linalg.norm(f64(m.weight), axis=1)
            / np.linalg.norm(x, axis=-1, keepdims=True)
        ),
    ),
    "Normalize-2": (
        lambda: nn.Normalize(2),
        lambda x, m: x / np.linalg.norm(x, axis=-1, keepdims=True),
    ),
    "Normalize-1.5": (
        lambda: nn.Normalize(1.5),
        lambda x, m: x / (np.abs(x) ** 1.5).sum(-1, keepdims=True) ** (1 / 1.5),
    ),
    "Normalize-inf": (
        lambda: nn.Normalize(math.inf),
        lambda x, m: x / np.abs(x).max(-1, keepdims=True),
    ),
}


@pytest.mark.parametrize("name", WEIGHTED)
def test_weighted_layers_against_numpy_batch_and_single(name):
    build, ref = WEIGHTED[name]
    m = build()
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    want = ref(f64(x), m)
    terms = 4 * 3 + ELEMENTWISE  # two sums over 4, products, a root or power
    assert_close(m.updateOutput(x), want, terms=terms)
    assert_close(m.updateOutput(x[2]), want[2], terms=terms)


@pytest.mark.parametrize("shape", [(2, 4), (4,)], ids=["batch", "single"])
def test_weighted_layer_gradients_match_finite_differences(shape):
    dim = len(shape) - 1
    m = nn.Concat(dim, *(build() for build, _ in WEIGHTED.values()))
    errors = nn.Jacobian.testAll(m, np.zeros(shape), 0.5, 2.0)  # one maximum per row for inf
    assert set(errors) == {"input", "0.weight", "1.weight"}
    assert max(errors.values()) < FD_TOL, errors


def test_weight_norm_reparametrises_the_weight():
    nets.manual_seed(2)
    lin = nn.Linear(4, 3)
    m = nn.WeightNorm(lin)
    params, buffers = m.split()
    assert set(params) == {"v", "g", "0.bias"} and set(buffers) == {"0.weight"}
    np.testing.assert_array_equal(lin.bias, np.zeros(3))  # Torch7's resetInit
    v, g = f64(m.v), f64(m.g)
    assert_close(g, np.linalg.norm(v, axis=1), terms=4, dtype=np.float32)  # stored as float32
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    m.forward(x)
    w = g[:, None] * v / np.sqrt((v * v).sum(1, keepdims=True) + 1e-4)
    assert_close(lin.weight, w, terms=4 + 2)  # the weight last used is kept, as in Torch7
    errors = nn.Jacobian.testAll(m, np.zeros((2, 4)))
    assert set(errors) == {"input", "v", "g", "0.bias"}
    assert max(errors.values()) < FD_TOL, errors
    # outputDim 1 of a convolution-shaped weight: the norm runs over every other dim
    conv = nn.WeightNorm(nn.SpatialConvolution(2, 3, 2, 2), 1)
    assert conv.v.shape == (2, 3 * 2 * 2) and conv.g.shape == (2,)
    errors = nn.Jacobian.testAll(conv, np.zeros((2, 3, 3)))
    assert max(errors.values()) < FD_TOL, errors
    assert repr(m) == "nn.WeightNorm @ nn.Linear(4 -> 3)"


def test_weight_norm_net_survives_a_checkpoint(tmp_path):
    net = nn.Sequential(nn.WeightNorm(nn.Linear(4, 3)), nn.Normalize(2), nn.Cosine(3, 2))
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    want = net.forward(x)
    nets.save(tmp_path / "wn.nets", net)
    back = nets.load(tmp_path / "wn.nets")
    assert repr(back) == repr(net)
    assert set(back.split()[0]) == set(net.split()[0])
    np.testing.assert_array_equal(back.forward(x), want)


def test_product_constructor_and_input_errors():
    with pytest.raises(ModuleError, match=r"nn\.Bilinear: expected outputSize .* >= 1, got 0"):
        nn.Bilinear(2, 2, 0)
    with pytest.raises(ModuleError, match=r"nn\.Normalize: expected p .* > 0, got 0"):
        nn.Normalize(0)
    with pytest.raises(ModuleError, match=r"nn\.WeightNorm: expected a module with a weight"):
        nn.WeightNorm(nn.Tanh())
    with pytest.raises(ModuleError, match=r"nn\.Euclidean: expected input of size 4 in the last"):
        nn.Euclidean(4, 3).forward(jnp.zeros((2, 5)))
    with pytest.raises(ModuleError, match=r"nn\.Normalize\(2\): expected a \(D,\) or \(N, D\) "):
        nn.Normalize(2).forward(jnp.zeros((2, 2, 2)))
    assert repr(nn.Normalize(1.5)) == "nn.Normalize(1.500000)"


def test_products_against_torch():
    torch = pytest.importorskip("torch")
    x1 = RNG.standard_normal((5, 3))
    x2 = RNG.standard_normal((5, 4))
    m = nn.Bilinear(3, 4, 2)
    t1 = torch.tensor(x1, requires_grad=True)
    t2 = torch.tensor(x2, requires_grad=True)
    out = torch.nn.functional.bilinear(
        t1, t2, torch.tensor(f64(m.weight)), torch.tensor(f64(m.bias))
    )
    out.backward(torch.ones_like(out))
    xs = [jnp.asarray(x1, jnp.float32), jnp.asarray(x2, jnp.float32)]
    assert_close(m.forward(xs), out.detach().numpy(), terms=13)
    g1, g2 = m.backward(xs, jnp.ones((5, 2)))
    assert_close(g1, t1.grad.numpy(), terms=13)
    assert_close(g2, t2.grad.numpy(), terms=13)
    t = torch.tensor(x2, requires_grad=True)
    out = torch.nn.functional.normalize(t, 2.0, 1, 0.0)
    out.backward(torch.ones_like(out))
    m = nn.Normalize(2)
    x = jnp.asarray(x2, jnp.float32)
    assert_close(m.forward(x), out.detach().numpy(), terms=4 + ELEMENTWISE)
    assert_close(m.backward(x, jnp.ones((5, 4))), t.grad.numpy(), terms=2 * (4 + ELEMENTWISE))


# ---------------------------------------------------------------- issue 19: WeightedEuclidean, MV


def test_weighted_euclidean_formula_gradients_and_checkpoint(tmp_path):
    m = nn.WeightedEuclidean(4, 3)
    m.diagCov = RNG.uniform(0.5, 2, (4, 3)).astype(np.float32)
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    w, c = f64(m.weight), f64(m.diagCov)
    want = np.sqrt((((f64(x)[:, :, None] - w) * c) ** 2).sum(1))  # y_j = ||c_j * (x - w_j)||
    assert_close(m.forward(x), want, terms=4 + 3 + ELEMENTWISE)
    assert_close(m.forward(x[1]), want[1], terms=4 + 3 + ELEMENTWISE)
    for shape in [(2, 4), (4,)]:
        errors = nn.Jacobian.testAll(m, np.zeros(shape))
        assert set(errors) == {"input", "weight", "diagCov"}
        assert max(errors.values()) < FD_TOL, errors
    assert m.gradDiagCov.shape == (4, 3)
    assert repr(m) == "nn.WeightedEuclidean"
    np.testing.assert_array_equal(nn.WeightedEuclidean(4, 3).diagCov, np.ones((4, 3)))
    with pytest.raises(ModuleError, match=r"expected input of size 4 in the last dimension"):
        m.forward(jnp.zeros((2, 5)))
    nets.save(tmp_path / "we.nets", m)
    back = nets.load(tmp_path / "we.nets")
    np.testing.assert_array_equal(back.forward(x), m.forward(x))


def test_mv_plain_transposed_batched_and_its_gradient():
    mat = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    v = RNG.standard_normal((2, 4)).astype(np.float32)
    u = RNG.standard_normal((2, 3)).astype(np.float32)
    assert_close(nn.MV().forward([mat, v]), np.einsum("nrc,nc->nr", f64(mat), f64(v)), terms=4)
    assert_close(nn.MV().forward([mat[0], v[0]]), f64(mat[0]) @ f64(v[0]), terms=4)
    assert_close(nn.MV(True).forward([mat[1], u[1]]), f64(mat[1]).T @ f64(u[1]), terms=3)
    # {M, v} from one (4, 4) array or a batch: M its first 3 rows and v the last (or, with
    # trans, M its first 3 columns and v the last column)
    for trans, shape in [(False, (4, 4)), (True, (2, 4, 4))]:
        if trans:
            pick = nn.ConcatTable(nn.Narrow(-1, 0, 3), nn.Select(-1, 3))
        else:
            pick = nn.ConcatTable(nn.Narrow(-2, 0, 3), nn.Select(-2, 3))
        errors = nn.Jacobian.testAll(nn.Sequential(pick, nn.MV(trans)), np.zeros(shape))
        assert errors["input"] < FD_TOL, errors
    with pytest.raises(ModuleError, match=r"nn\.MV: expected trans .* to be a bool, got 1"):
        nn.MV(1)
    with pytest.raises(ModuleError, match=r"nn\.MV: expected \{M, v\}: an \(R, C\) matrix"):
        nn.MV().forward([mat, u])
