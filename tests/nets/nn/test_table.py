"""Table layers (torch/nn doc/table.md) and the list-valued containers that feed them."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.nets.nn.custom_layers import Scale
from tests.nets.nn.custom_layers import sample as _x
from tests.tolerance import assert_close


def test_concat_table_parallel_table_cadd_join():
    x = _x()
    branches = nn.ConcatTable().add(Scale(3, 2.0)).add(Scale(3, 3.0))
    outs = branches.forward(x)
    assert isinstance(outs, list) and len(outs) == 2
    residual = nn.Sequential(branches, nn.CAddTable())
    assert_close(residual.forward(x), 5 * x, terms=2)  # 2x + 3x
    gin = residual.backward(x, jnp.ones_like(x))
    np.testing.assert_array_equal(gin, 5 * jnp.ones_like(x))  # 2 + 3: exact
    par = nn.ParallelTable().add(Scale(3, 2.0)).add(Scale(3, 3.0))
    joined = nn.Sequential(par, nn.JoinTable(1)).forward([x, x])
    assert joined.shape == (2, 6, 4, 4)
    np.testing.assert_array_equal(joined[:, 3:], 3 * x)  # the same one product


def test_join_table_n_input_dims_shifts_for_batches():
    join = nn.JoinTable(0, 3)
    single = join.forward([jnp.ones((2, 4, 4)), jnp.ones((3, 4, 4))])
    assert single.shape == (5, 4, 4)
    batch = join.forward([jnp.ones((8, 2, 4, 4)), jnp.ones((8, 3, 4, 4))])
    assert batch.shape == (8, 5, 4, 4)


def test_table_errors():
    with pytest.raises(
        ModuleError,
        match=r"nn.CAddTable: expected arrays of one shape, got "
        r"\(2, 3\) at \[0\] and \(3,\) at \[1\]",
    ):
        nn.CAddTable().forward([jnp.ones((2, 3)), jnp.ones(3)])
    with pytest.raises(ModuleError, match=r"expected a non-empty list \(table\) of arrays"):
        nn.JoinTable(0).forward(jnp.ones(3))
    with pytest.raises(ModuleError, match=r"nn.ParallelTable: expected a list of 2 inputs, got"):
        nn.ParallelTable().add(Scale(1)).add(Scale(1)).forward([jnp.ones((1, 1))])


# ---------------------------------------------------------------- issue 19: the rest of table.md

RNG = np.random.default_rng(19)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.uniform(0.5, 2.0, (3, 4)).astype(np.float32)  # away from 0: CDivTable
FD_TOL = 1e-6  # float64 central differences with Torch7's step (see test_jacobian)


def _rows(f):
    """A per-row reference that also takes two vectors (as a batch of one row)."""
    return lambda a, b: f(np.atleast_2d(a), np.atleast_2d(b))


# name: (builder, reference on (a, b)); two (3, 4) arrays, or two (4,) vectors
PAIRS = {
    "CSubTable": (nn.CSubTable, lambda a, b: a - b),
    "CMulTable": (nn.CMulTable, lambda a, b: a * b),
    "CDivTable": (nn.CDivTable, lambda a, b: a / b),
    "CMaxTable": (nn.CMaxTable, np.maximum),
    "CMinTable": (nn.CMinTable, np.minimum),
    "PairwiseDistance": (nn.PairwiseDistance, _rows(lambda a, b: np.linalg.norm(a - b, axis=1))),
    "PairwiseDistance-1": (
        lambda: nn.PairwiseDistance(1),
        _rows(lambda a, b: np.abs(a - b).sum(1)),
    ),
    "PairwiseDistance-3": (
        lambda: nn.PairwiseDistance(3),
        _rows(lambda a, b: (np.abs(a - b) ** 3).sum(1) ** (1 / 3)),
    ),
    "DotProduct": (nn.DotProduct, _rows(lambda a, b: (a * b).sum(1))),
    "CosineDistance": (
        nn.CosineDistance,
        _rows(lambda a, b: (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)),
    ),
}


@pytest.mark.parametrize("name", PAIRS)
def test_pair_layers_against_numpy_batch_and_single(name):
    build, ref = PAIRS[name]
    m = build()
    a64, b64 = A.astype(np.float64), B.astype(np.float64)
    # a sum over the 4 features, a power or a root or two
    assert_close(m.updateOutput([A, B]), ref(a64, b64), terms=4 + 8)
    single = m.updateOutput([A[1], B[1]])
    want = ref(a64[1], b64[1])
    assert single.shape == np.shape(want)  # distances of two vectors: a (1,) output, as Torch7
    assert_close(single, want, terms=4 + 8)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 4)], ids=["batch", "single"])
def test_pair_layer_gradients_match_finite_differences(shape):
    # SplitTable(0) turns one array into the table {a, b}: nn.Jacobian checks d output / d a, b.
    # PairwiseDistance with p > 1 has Torch7's gradient, off the exact one by its 1e-6 (below).
    exact = [n for n in PAIRS if n in ("PairwiseDistance-1",) or not n.startswith("Pairwise")]
    layers = [PAIRS[name][0]() for name in exact]
    m = nn.Sequential(
        nn.SplitTable(0),
        nn.ConcatTable(*(nn.Sequential(layer, nn.View(-1)) for layer in layers)),
        nn.JoinTable(0),
    )
    errors = nn.Jacobian.testAll(m, np.zeros(shape), 0.5, 2.0)  # away from 0: CDivTable, norms
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("p", [2, 3])
def test_pairwise_distance_gradient_is_torch7s(p):
    m = nn.PairwiseDistance(p)
    out = m.forward([A, B])
    g = RNG.standard_normal(3).astype(np.float32)
    ga, gb = m.backward([A, B], g)
    # PairwiseDistance.lua: d |d|^(p-2) / (||d|| + 1e-6)^(p-1) times gradOutput, and minus for b
    d = A.astype(np.float64) - B
    norm = np.asarray(out, np.float64)[:, None]
    want = d * np.abs(d) ** (p - 2) * (norm + 1e-6) ** (1 - p) * g[:, None]
    assert_close(ga, want, terms=4 + 8)  # the norm's sum over 4, powers and products
    np.testing.assert_array_equal(gb, -ga)


def test_cmax_table_gradient_goes_to_the_first_maximum():
    a = jnp.array([1.0, 5.0, 2.0])
    b = jnp.array([1.0, 3.0, 4.0])
    m = nn.CMaxTable()
    np.testing.assert_array_equal(m.forward([a, b]), [1.0, 5.0, 4.0])
    ga, gb = m.backward([a, b], jnp.ones(3))
    np.testing.assert_array_equal(ga, [1, 1, 0])  # the tie at 0 goes to the first, as Torch7
    np.testing.assert_array_equal(gb, [0, 0, 1])


def test_select_narrow_flatten_split_tables():
    xs = [jnp.full((2,), float(i)) for i in range(4)]
    assert nn.SelectTable(1).forward(xs) is xs[1] or float(nn.SelectTable(1).forward(xs)[0]) == 1
    assert float(nn.SelectTable(-1).forward(xs)[0]) == 3
    out = nn.NarrowTable(1, 2).forward(xs)
    assert [float(o[0]) for o in out] == [1, 2]
    assert [float(o[0]) for o in nn.NarrowTable(1, -1).forward(xs)] == [1, 2, 3]
    nested = [xs[0], [xs[1], [xs[2]]], xs[3]]
    flat = nn.FlattenTable().forward(nested)
    assert [float(o[0]) for o in flat] == [0, 1, 2, 3]
    x = jnp.asarray(RNG.standard_normal((2, 3, 4)), jnp.float32)
    parts = nn.SplitTable(0, 2).forward(x)  # a batch of (3, 4) samples: split along dim 1
    assert len(parts) == 3 and all(p.shape == (2, 4) for p in parts)
    np.testing.assert_array_equal(parts[2], x[:, 2])
    assert len(nn.SplitTable(-1).forward(x)) == 4
    # gradients: zero for the elements not selected, the narrowed ones in place
    net = nn.Sequential(nn.SplitTable(0), nn.SelectTable(1))
    g = net.backward(x, jnp.ones((3, 4)))
    np.testing.assert_array_equal(g, np.stack([np.zeros((3, 4)), np.ones((3, 4))]))
    net = nn.Sequential(nn.SplitTable(1), nn.NarrowTable(1, 2), nn.JoinTable(1))
    g = net.backward(x, jnp.ones((2, 8)))
    np.testing.assert_array_equal(g, np.ones((2, 3, 4)) * np.array([0, 1, 1])[None, :, None])
    assert repr(nn.SelectTable(2)) == "nn.SelectTable(2)"
    # FlattenTable: {{a, b}, b} flattened to {a, b, b}; b's two gradients add up
    nested = nn.ConcatTable(nn.NarrowTable(0, 2), nn.SelectTable(1))
    net = nn.Sequential(nn.SplitTable(0), nested, nn.FlattenTable(), nn.JoinTable(0))
    assert net.forward(x).shape == (3 * 3, 4)
    g = net.backward(x, jnp.ones((9, 4)))
    np.testing.assert_array_equal(g, np.stack([np.ones((3, 4)), 2 * np.ones((3, 4))]))


def test_new_table_errors():
    two = [jnp.ones((2, 3)), jnp.ones((2, 3))]
    with pytest.raises(
        ModuleError, match=r"nn\.SelectTable\(2\): expected a table with an element 2"
    ):
        nn.SelectTable(2).forward(two)
    with pytest.raises(
        ModuleError, match=r"nn\.CSubTable: expected a table of 2 arrays, got a table of 3"
    ):
        nn.CSubTable().forward([*two, two[0]])
    with pytest.raises(
        ModuleError,
        match=r"nn\.CMulTable: expected arrays of one shape, got \(2, 3\) at \[0\] and \(3,\) at",
    ):
        nn.CMulTable().forward([two[0], jnp.ones(3)])
    with pytest.raises(
        ModuleError,
        match=r"nn\.DotProduct: expected a table of two \(D,\) vectors or two \(N, D\) arrays",
    ):
        nn.DotProduct().forward([jnp.ones((1, 2, 3))] * 2)
    with pytest.raises(
        ModuleError, match=r"nn\.NarrowTable: expected offset 1 and length 3 to fit in a table of 2"
    ):
        nn.NarrowTable(1, 3).forward(two)
    with pytest.raises(ModuleError, match=r"nn\.SplitTable: cannot split along dim 2"):
        nn.SplitTable(2).forward(two[0])
    with pytest.raises(ModuleError, match=r"nn\.PairwiseDistance: expected p .* >= 1, got 0.5"):
        nn.PairwiseDistance(0.5)
    with pytest.raises(ModuleError, match=r"nn\.FlattenTable: expected a table, got \(2, 3\)"):
        nn.FlattenTable().forward(two[0])


def test_pair_layers_against_torch():
    torch = pytest.importorskip("torch")
    a64, b64 = A.astype(np.float64), B.astype(np.float64)
    refs = [
        (nn.PairwiseDistance(2), lambda a, b: torch.nn.functional.pairwise_distance(a, b, 2, 0)),
        (nn.CosineDistance(), lambda a, b: torch.nn.functional.cosine_similarity(a, b, 1, 1e-12)),
        (nn.CMaxTable(), torch.maximum),
    ]
    for m, ref in refs:
        ta = torch.tensor(a64, requires_grad=True)
        tb = torch.tensor(b64, requires_grad=True)
        out = ref(ta, tb)
        out.backward(torch.ones_like(out))
        assert_close(m.forward([A, B]), out.detach().numpy(), terms=4 + 8, err_msg=repr(m))
        ga, gb = m.backward([A, B], jnp.ones(out.shape))
        # Torch7's PairwiseDistance adds 1e-6 to the norm it divides by: relative 1e-6 off
        assert_close(ga, ta.grad.numpy(), terms=16, scale=8, err_msg=repr(m))
        assert_close(gb, tb.grad.numpy(), terms=16, scale=8, err_msg=repr(m))


# ---------------------------------------------------------------- issue 19: more table layers


def test_cadd_tensor_table_and_zip_tables():
    a, b0, b1 = (jnp.asarray(RNG.standard_normal((2, 3)), jnp.float32) for _ in range(3))
    out = nn.CAddTensorTable().forward([a, [b0, b1]])
    np.testing.assert_array_equal(out[0], a + b0)  # one addition each: exact
    np.testing.assert_array_equal(out[1], a + b1)
    m = nn.CAddTensorTable()
    ga, (gb0, gb1) = m.backward([a, [b0, b1]], [jnp.ones((2, 3)), 2 * jnp.ones((2, 3))])
    np.testing.assert_array_equal(ga, 3 * np.ones((2, 3)))  # the sum of the outputs' gradients
    np.testing.assert_array_equal(gb1, 2 * np.ones((2, 3)))
    zipped = nn.ZipTable().forward([[a, b0], [b1, a]])
    np.testing.assert_array_equal(zipped[0][1], b1)
    np.testing.assert_array_equal(zipped[1][0], b0)
    many = nn.ZipTableOneToMany().forward([a, [b0, b1, b0]])
    assert len(many) == 3 and all(len(pair) == 2 for pair in many)
    np.testing.assert_array_equal(many[2][1], b0)
    m = nn.ZipTableOneToMany()
    ge, gt = m.backward([a, [b0, b1]], [[jnp.ones((2, 3)), b0], [2 * jnp.ones((2, 3)), b1]])
    np.testing.assert_array_equal(ge, 3 * np.ones((2, 3)))
    np.testing.assert_array_equal(gt[1], b1)


@pytest.mark.parametrize("form", ["batch", "single"])
def test_mixture_table_against_numpy_and_finite_differences(form):
    batch = form == "batch"
    gater = RNG.uniform(size=(2, 3) if batch else (3,)).astype(np.float32)
    experts = [RNG.standard_normal((2, 4) if batch else (4,)).astype(np.float32) for _ in range(3)]
    g64 = gater.astype(np.float64)
    want = sum((g64[..., i : i + 1] * experts[i] for i in range(3)), np.zeros(1))
    assert_close(nn.MixtureTable().forward([gater, experts]), want, terms=3)
    stacked = np.stack(experts, 1 if batch else 0)  # the experts as one array along dim
    assert_close(nn.MixtureTable().forward([gater, stacked]), want, terms=3)
    # d / d gater and d / d experts: {gater, experts} from one array (gater in the first 3 columns)
    if batch:
        pick = nn.ConcatTable(nn.Narrow(1, 0, 3), nn.Sequential(nn.Narrow(1, 3, 12), nn.View(3, 4)))
        shape = (2, 15)
    else:
        pick = nn.ConcatTable(nn.Narrow(0, 0, 3), nn.Sequential(nn.Narrow(0, 3, 12), nn.View(3, 4)))
        shape = (15,)
    net = nn.Sequential(pick, nn.MixtureTable())
    errors = nn.Jacobian.testAll(net, np.zeros(shape))
    assert errors["input"] < FD_TOL, errors


def test_more_table_layers_errors_and_checkpoint(tmp_path):
    two = [jnp.ones((2, 3)), jnp.ones((2, 3))]
    with pytest.raises(ModuleError, match=r"nn\.CAddTensorTable: expected \{a, \{b_0, b_1"):
        nn.CAddTensorTable().forward([two[0], [jnp.ones(3)]])
    with pytest.raises(ModuleError, match=r"nn\.ZipTable: expected a table of tables of one len"):
        nn.ZipTable().forward([two, [two[0]]])
    with pytest.raises(ModuleError, match=r"nn\.ZipTableOneToMany: expected \{element, table\}"):
        nn.ZipTableOneToMany().forward(two)
    with pytest.raises(
        ModuleError, match=r"nn\.MixtureTable: expected 3 experts \(one per gater output\) along"
    ):
        nn.MixtureTable().forward([jnp.ones((2, 3)), jnp.ones((2, 2, 4))])
    with pytest.raises(ModuleError, match=r"nn\.MixtureTable: expected a table of 2 arrays"):
        nn.MixtureTable().forward([jnp.ones((2, 2)), [two[0]]])
    with pytest.raises(ModuleError, match=r"nn\.MixtureTable: expected dim .* >= 0, got -1"):
        nn.MixtureTable(-1)
    net = nn.Sequential(nn.ConcatTable(nn.Identity(), nn.Identity()), nn.MixtureTable(1))
    x = jnp.asarray(RNG.uniform(size=(2, 2)), jnp.float32)
    want = net.forward(x)
    nets.save(tmp_path / "mix.nets", net)
    back = nets.load(tmp_path / "mix.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(x), want)
