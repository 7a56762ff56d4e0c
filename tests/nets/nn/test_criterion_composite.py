"""ParallelCriterion and MultiCriterion: weighted sums of their children, values and gradients,
printed form, errors that name the child, and a checkpoint round trip."""

import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.tolerance import assert_close, path_terms

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
