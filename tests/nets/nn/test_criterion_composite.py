"""ParallelCriterion and MultiCriterion: weighted sums of their children, values and gradients,
printed form, errors that name the child, and a checkpoint round trip."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(192)
X = RNG.standard_normal((4, 3)).astype(np.float32)
Z = RNG.standard_normal((4, 3)).astype(np.float32)
T = np.array([0, 2, 1, 1])


def close(a, b, terms):
    assert_close(a, b, terms=terms, dtype=np.float32)


def test_parallel_criterion_is_the_weighted_sum_of_its_children():
    mse, nll = nn.MSECriterion(), nn.ClassNLLCriterion()
    p = nn.ParallelCriterion().add(mse, 0.5).add(nll, 0.25)
    want = 0.5 * mse.forward(X, Z) + 0.25 * nll.forward(Z, T)
    close(p.forward([X, Z], [Z, T]), want, path_terms(12, 4, 3))
    g = p.backward([X, Z], [Z, T])
    close(g[0], 0.5 * np.asarray(mse.backward(X, Z)), 2)
    close(g[1], 0.25 * np.asarray(nll.backward(Z, T)), 2)
    assert p.criterions == [mse, nll] and p.weights == (0.5, 0.25)
    assert repr(p) == "nn.ParallelCriterion"  # Torch7 prints a criterion by its type


def test_parallel_criterion_repeat_target():
    p = (
        nn.ParallelCriterion(True)
        .add(nn.CrossEntropyCriterion())
        .add(nn.CrossEntropyCriterion(), 0.3)
    )
    ce = nn.CrossEntropyCriterion()
    close(p.forward([X, Z], T), ce.forward(X, T) + 0.3 * ce.forward(Z, T), path_terms(30, 2))


def test_multi_criterion_applies_all_to_one_input():
    m = nn.MultiCriterion().add(nn.MSECriterion(), 2).add(nn.AbsCriterion())
    want = 2 * ((X - Z) ** 2).mean() + np.abs(X - Z).mean()
    close(m.forward(X, Z), want, path_terms(3, 12, 3))
    close(m.backward(X, Z), 2 * 2 * (X - Z) / 12 + np.sign(X - Z) / 12, 6)
    # children converting the target differently (classes vs floats) each get their own
    m2 = nn.MultiCriterion().add(nn.ClassNLLCriterion()).add(nn.MultiMarginCriterion(), 0.5)
    close(
        m2.forward(X, T),
        nn.ClassNLLCriterion().forward(X, T) + 0.5 * nn.MultiMarginCriterion().forward(X, T),
        30,
    )


def test_errors_name_the_child_and_the_table():
    p = nn.ParallelCriterion().add(nn.MSECriterion()).add(nn.ClassNLLCriterion())
    with pytest.raises(
        ModuleError,
        match=r"^\(1\) nn\.ClassNLLCriterion: expected class indices in \[0, 3\), got 7",
    ):
        p.forward([X, Z], [Z, np.array([0, 7, 1, 1])])
    with pytest.raises(
        ModuleError, match=r"ParallelCriterion: expected a table of 2 inputs, one per criterion"
    ):
        p.forward([X], [Z, T])
    with pytest.raises(
        ModuleError, match=r"expected a table of 2 targets, one per criterion \(or repeatTarget"
    ):
        p.forward([X, Z], 5)
    # an array is the table of its first axis, as Torch7's input[i]
    close(p.forward(np.stack([X, Z]), [Z, T]), p.forward([X, Z], [Z, T]), 1)
    with pytest.raises(ModuleError, match=r"^\(1\) nn\.ClassNLLCriterion: expected class"):
        p.prepare(np.stack([X, Z]), [Z, np.array([0, 7, 1, 1])])
    with pytest.raises(ModuleError, match=r"MultiCriterion: has no criterions"):
        nn.MultiCriterion().forward(X, Z)
    with pytest.raises(ValueError, match=r"add: expected an nn criterion, got Linear"):
        nn.MultiCriterion().add(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="weight should be a number, got str"):
        nn.MultiCriterion().add(nn.MSECriterion(), "1")


def test_weight_change_recompiles_and_checkpoint_round_trip(tmp_path):
    import nets

    p = nn.ParallelCriterion().add(nn.MSECriterion(), 0.5).add(nn.MarginCriterion(0.3))
    y = np.sign(Z) + (Z == 0)
    first = p.forward([X, Z], [Z, y])
    p.add(nn.AbsCriterion(), 2)
    assert p.forward([X, Z, X], [Z, y, Z]) != first
    nets.save(str(tmp_path / "c.nets"), p)
    q = nets.load(str(tmp_path / "c.nets"))
    assert [type(c) for c in q.criterions] == [type(c) for c in p.criterions]
    assert q.weights == (0.5, 1.0, 2.0) and q.criterions[1].margin == 0.3
    assert q.forward([X, Z, X], [Z, y, Z]) == p.forward([X, Z, X], [Z, y, Z])


def test_weighted_auxiliary_losses_train_in_the_engine():
    """GoogLeNet's recipe: one target, the main loss plus 0.3 times an auxiliary head's."""
    import nets
    from nets import data
    from nets.engine import Engine

    nets.manual_seed(0)
    trunk = nn.Sequential().add(nn.Linear(3, 8)).add(nn.Tanh())
    heads = nn.ConcatTable().add(nn.Linear(8, 3)).add(nn.Linear(8, 3))
    net = nn.Sequential().add(trunk).add(heads)
    crit = (
        nn.ParallelCriterion(True)
        .add(nn.CrossEntropyCriterion())
        .add(nn.CrossEntropyCriterion(), 0.3)
    )
    x = RNG.standard_normal((32, 3)).astype(np.float32)
    y = np.argmax(x, axis=1)
    batches = data.DatasetIterator(data.TensorDataset(x, y), 8, prefetch=0)
    before = crit.forward(net.forward(x), y)
    Engine(seed=0).train(net, batches, crit, "sgd", {"learningRate": 0.5}, maxepoch=5)
    after = crit.forward(net.forward(x), y)
    assert after < 0.7 * before
    bad = data.DatasetIterator(data.TensorDataset(x, np.where(y == 2, 3, y)), 8, prefetch=0)
    with pytest.raises(Exception, match=r"ClassNLLCriterion|CrossEntropyCriterion"):
        Engine(seed=0).train(net, bad, crit, "sgd", {}, maxepoch=1)


# ---------------------------------------------------------------- issue 19: CriterionTable,
# ModuleCriterion


def test_criterion_table_is_a_loss_inside_a_network():
    rng = np.random.default_rng(31)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = np.array([0, 2, 1])
    ce = nn.CrossEntropyCriterion()
    m = nn.CriterionTable(nn.CrossEntropyCriterion())
    assert float(m.forward([x, t])) == ce.forward(x, t)  # the same compiled maths
    gx, gt = m.backward([x, t], jnp.float32(1.0))
    np.testing.assert_array_equal(gx, ce.backward(x, t))
    assert np.asarray(gt).shape == t.shape  # the integer target's gradient: empty (zero)
    mse = nn.CriterionTable(nn.MSECriterion())
    y = rng.standard_normal((3, 4)).astype(np.float32)
    assert_close(
        mse.forward([x, y]), ((x.astype(np.float64) - y) ** 2).mean(), terms=12, dtype=np.float32
    )
    assert_close(
        mse.forward([x[0], y[0]]),
        ((x[0].astype(np.float64) - y[0]) ** 2).mean(),
        terms=4,
        dtype=np.float32,
    )
    net = nn.Sequential(
        nn.ParallelTable(nn.Tanh(), nn.Identity()), nn.CriterionTable(nn.MSECriterion())
    )
    errors = nn.Jacobian.testJacobian(nn.Sequential(nn.SplitTable(0), net), np.zeros((2, 3, 4)))
    assert errors < 1e-6
    assert repr(m) == "nn.CriterionTable(nn.CrossEntropyCriterion)"
    with pytest.raises(ModuleError, match=r"nn\.CriterionTable: expected criterion to be an nn"):
        nn.CriterionTable(nn.Tanh())
    with pytest.raises(ModuleError, match=r"expected a table \{input, target\}, got \(3, 4\)"):
        m.forward(x)
    assert np.isnan(m.forward([x, np.array([0, 4, 1])]))  # a value: NaN, not an exception
    with pytest.raises(ModuleError, match=r"\(0\) nn\.CrossEntropyCriterion: expected a target "):
        m.forward([x, np.array([0, 1])])


def test_module_criterion_transforms_input_and_target():
    rng = np.random.default_rng(32)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = np.array([0, 2, 1])
    m = nn.ModuleCriterion(nn.ClassNLLCriterion(), nn.LogSoftMax())
    ce = nn.CrossEntropyCriterion()
    assert_close(m.forward(x, t), ce.forward(x, t), terms=4 + ELEMENTWISE, dtype=np.float32)
    assert_close(m.backward(x, t), ce.backward(x, t), terms=4 + ELEMENTWISE, dtype=np.float32)
    assert_close(
        m.forward(x[1], t[1]), ce.forward(x[1], t[1]), terms=4 + ELEMENTWISE, dtype=np.float32
    )
    y = rng.standard_normal((3, 4)).astype(np.float32)
    both = nn.ModuleCriterion(nn.MSECriterion(), nn.Tanh(), nn.MulConstant(0.5))
    want = ((np.tanh(x.astype(np.float64)) - 0.5 * y) ** 2).mean()
    assert_close(both.forward(x, y), want, terms=12 + ELEMENTWISE, dtype=np.float32)
    assert nn.Jacobian.testCriterion(both, x.astype(np.float64), y) < 1e-6
    assert repr(m) == "nn.ModuleCriterion"
    with pytest.raises(ModuleError, match=r"expected inputModule without parameters"):
        nn.ModuleCriterion(nn.MSECriterion(), nn.Linear(2, 2))
    with pytest.raises(ModuleError, match=r"expected targetModule to be an nn module \(not a"):
        nn.ModuleCriterion(nn.MSECriterion(), None, nn.MSECriterion())
    with pytest.raises(ModuleError, match=r"\(0\) nn\.ClassNLLCriterion: expected class indices"):
        m.forward(x, np.array([0, 7, 1]))


def test_criterion_wrappers_survive_a_checkpoint(tmp_path):
    x = np.random.default_rng(33).standard_normal((2, 3)).astype(np.float32)
    t = np.array([2, 0])
    m = nn.ModuleCriterion(nn.ClassNLLCriterion(np.array([1.0, 2.0, 3.0])), nn.LogSoftMax())
    net = nn.CriterionTable(nn.CrossEntropyCriterion(np.array([1.0, 0.5, 2.0])))
    want = (m.forward(x, t), float(net.forward([x, t])))
    nets.save(tmp_path / "c.nets", nn.ConcatTable(net))
    back = nets.load(tmp_path / "c.nets").modules[0]
    assert float(back.forward([x, t])) == want[1]
    nets.save(tmp_path / "m.nets", m)
    assert nets.load(tmp_path / "m.nets").forward(x, t) == want[0]
