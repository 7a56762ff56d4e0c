"""Margin and embedding criterions against THNN's loops transcribed in NumPy (float64): values,
Torch7's explicit gradients, batch and single sample, sizeAverage, target checks."""

import jax
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(19)
X = RNG.standard_normal((4, 5)).astype(np.float32)
X2 = RNG.standard_normal((4, 5)).astype(np.float32)
SIGNS = np.where(RNG.random((4, 5)) > 0.5, 1.0, -1.0).astype(np.float32)
Y = np.array([1.0, -1.0, -1.0, 1.0], np.float32)
CLASSES = np.array([0, 4, 2, 2])


def close(a, b, terms):
    assert_close(a, b, terms=terms, dtype=np.float32)


# ---------------------------------------------------------------- element-wise +1/-1 targets


@pytest.mark.parametrize("size_average", [True, False])
def test_margin_and_soft_margin_values_and_gradients(size_average):
    x, t = X.astype(np.float64), SIGNS.astype(np.float64)
    n = x.size if size_average else 1
    c = nn.MarginCriterion(0.5)
    c.sizeAverage = size_average
    close(c.forward(X, SIGNS), np.maximum(0.5 - x * t, 0).sum() / n, path_terms(2, x.size, 1))
    # THNN: gradInput = -norm * t where x t < margin, else 0: exact (powers of two over 20)
    close(c.backward(X, SIGNS), np.where(x * t < 0.5, -t / n, 0), 2)
    s = nn.SoftMarginCriterion()
    s.sizeAverage = size_average
    close(
        s.forward(X, SIGNS),
        np.log1p(np.exp(-x * t)).sum() / n,
        path_terms(ELEMENTWISE + 2, x.size, 1),
    )
    z = np.exp(-t * x)
    close(s.backward(X, SIGNS), -t * z / (1 + z) / n, 2 * ELEMENTWISE + 3)
    # one sample: a vector; the mean of 5
    close(
        c.forward(X[0], SIGNS[0]),
        np.maximum(0.5 - x[0] * t[0], 0).sum() / (5 if size_average else 1),
        7,
    )


def test_hinge_embedding_value_and_torch_gradient():
    x, y = np.abs(X.astype(np.float64)), SIGNS.astype(np.float64)
    c = nn.HingeEmbeddingCriterion(0.8)
    want = np.where(y == 1, x, np.maximum(0.8 - x, 0)).sum() / x.size
    close(c.forward(np.abs(X), SIGNS), want, path_terms(2, x.size, 1))
    # Torch: gradInput = y, zeroed where y = -1 and x > margin; divided by nElement
    g = np.where((y == -1) & (x > 0.8), 0, y) / x.size
    close(c.backward(np.abs(X), SIGNS), g, 1)


def test_margin_targets_must_be_signs():
    with pytest.raises(
        ModuleError, match=r"nn\.MarginCriterion: expected targets 1 or -1, got 0 at position 2"
    ):
        nn.MarginCriterion().forward(np.ones(3), np.array([1, -1, 0]))
    with pytest.raises(
        ModuleError, match=r"HingeEmbeddingCriterion: expected a target with as many"
    ):
        nn.HingeEmbeddingCriterion().forward(np.ones(3), np.ones(4))
    with pytest.raises(ModuleError, match=r"expected margin \(the margin\) to be a finite number"):
        nn.MarginCriterion("1")


# ---------------------------------------------------------------- multi-class


def thnn_multi_margin(x, t, p, w, margin, size_average):
    """MultiMarginCriterion_updateOutput and _updateGradInput, loop by loop."""
    x = np.atleast_2d(x).astype(np.float64)
    t = np.atleast_1d(t)
    n, dim = x.shape
    total, grad = 0.0, np.zeros_like(x)
    g = 1 / (n * dim) if size_average else 1 / dim
    for i in range(n):
        for d in range(dim):
            z = margin - x[i, t[i]] + x[i, d]
            if d == t[i] or z <= 0:
                continue
            h = z if p == 1 else z * z
            gh = g if p == 1 else 2 * g * z
            if w is not None:
                h, gh = h * w[t[i]], gh * w[t[i]]
            total += h
            grad[i, d] = gh
            grad[i, t[i]] -= gh
    total /= dim
    if size_average:
        total /= n
    return total, grad


@pytest.mark.parametrize("p, weighted", [(1, False), (2, True)])
def test_multi_margin_against_thnn(p, weighted):
    w = np.array([1.0, 0.5, 2.0, 1.5, 0.25], np.float32) if weighted else None
    c = nn.MultiMarginCriterion(p, w, 0.7)
    loss, grad = thnn_multi_margin(X, CLASSES, p, w, 0.7, True)
    close(c.forward(X, CLASSES), loss, path_terms(4, X.size, 2))
    close(c.backward(X, CLASSES), grad, path_terms(4, 5))
    loss1, grad1 = thnn_multi_margin(X[2], CLASSES[2:3], p, w, 0.7, True)
    close(c.forward(X[2], 2), loss1, path_terms(4, 5, 2))
    close(c.backward(X[2], 2), grad1[0], path_terms(4, 5))
    c.sizeAverage = False
    close(
        c.forward(X, CLASSES),
        thnn_multi_margin(X, CLASSES, p, w, 0.7, False)[0],
        path_terms(4, X.size, 2),
    )


def thnn_multilabel_margin(x, t, size_average):
    x = np.atleast_2d(x).astype(np.float64)
    t = np.atleast_2d(t)
    n, dim = x.shape
    total, grad = 0.0, np.zeros_like(x)
    g = 1 / (n * dim) if size_average else 1 / dim
    for i in range(n):
        listed = []
        for j in t[i]:
            if j < 0:
                break
            listed.append(j)
        for j in listed:
            for d in range(dim):
                z = 1 - x[i, j] + x[i, d]
                if d not in listed and z > 0:
                    total += z
                    grad[i, j] -= g
                    grad[i, d] += g
    total /= dim
    return (total / n if size_average else total), grad


MULTILABEL = np.array([[3, 0, -1, 1, 1], [-1, 2, 2, 2, 2], [4, 4, 1, 0, 2], [2, -1, -1, -1, -1]])


@pytest.mark.parametrize("size_average", [True, False])
def test_multilabel_margin_against_thnn(size_average):
    c = nn.MultiLabelMarginCriterion()
    c.sizeAverage = size_average
    loss, grad = thnn_multilabel_margin(X, MULTILABEL, size_average)
    close(c.forward(X, MULTILABEL), loss, path_terms(3, X.size * 5, 2))
    close(c.backward(X, MULTILABEL), grad, 25)
    loss0, grad0 = thnn_multilabel_margin(X[0], MULTILABEL[0], size_average)
    close(c.forward(X[0], MULTILABEL[0]), loss0, path_terms(3, 25, 2))
    close(c.backward(X[0], MULTILABEL[0]), grad0[0], 25)


def test_multilabel_soft_margin_is_weighted_bce_of_sigmoid():
    t = (RNG.random((4, 5)) > 0.5).astype(np.float32)
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0], np.float32)
    x = X.astype(np.float64)
    p = 1 / (1 + np.exp(-x))
    terms = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    close(
        nn.MultiLabelSoftMarginCriterion().forward(X, t),
        terms.mean(),
        path_terms(3 * ELEMENTWISE, X.size, 1),
    )
    close(
        nn.MultiLabelSoftMarginCriterion(w, False).forward(X, t),
        (terms * w).sum(),
        path_terms(3 * ELEMENTWISE, X.size, 1),
    )
    # Torch: gradInput = (sigmoid(x) - t) * w / nElement
    close(nn.MultiLabelSoftMarginCriterion(w).backward(X, t), (p - t) * w / X.size, 2 * ELEMENTWISE)
    close(
        nn.MultiLabelSoftMarginCriterion(w).forward(X[1], t[1]),
        (terms[1] * w).mean(),
        path_terms(3 * ELEMENTWISE, 5, 1),
    )


def test_class_targets_checked_on_the_host():
    with pytest.raises(
        ModuleError,
        match=r"MultiMarginCriterion: expected class indices in \[0, 5\), got 5 at position 1 "
        r"\(targets are 0-based",
    ):
        nn.MultiMarginCriterion().forward(X, np.array([0, 5, 1, 1]))
    with pytest.raises(ValueError, match="p should be 1 or 2, got 3"):
        nn.MultiMarginCriterion(3)
    with pytest.raises(
        ModuleError,
        match=r"MultiLabelMarginCriterion: expected class indices in \[0, 5\) or -1 "
        r".* got -2 at position 3",
    ):
        nn.MultiLabelMarginCriterion().forward(X, np.array([[0, 1, 2, -2, 0]] + [[0] * 5] * 3))
    with pytest.raises(
        ModuleError, match=r"expected integer class indices, got 0\.5 at position 2"
    ):
        nn.MultiLabelMarginCriterion().forward(X[0], np.array([0, 1, 0.5, -1, 0]))
    with pytest.raises(ModuleError, match=r"expected a target of the input's shape \(4, 5\)"):
        nn.MultiLabelMarginCriterion().forward(X, np.zeros((4, 4), int))
    with pytest.raises(ModuleError, match="weights has 3 entries but the input is"):
        nn.MultiLabelSoftMarginCriterion(np.ones(3)).forward(X, X)


def test_bad_targets_inside_compiled_steps():
    c = nn.MultiMarginCriterion()
    assert bool(jax.jit(c.bad_targets)(X, np.array([0, 5, 1, 1])))
    assert not bool(jax.jit(c.bad_targets)(X, CLASSES))
    assert bool(jax.jit(nn.MarginCriterion().bad_targets)(X, SIGNS * 0))


# ---------------------------------------------------------------- pairs {x1, x2}


def test_cosine_embedding_against_torch_formula():
    x1, x2 = X.astype(np.float64), X2.astype(np.float64)
    c = nn.CosineEmbeddingCriterion(0.1)
    w1 = (x1 * x2).sum(1)
    w22 = 1 / ((x1 * x1).sum(1) + 1e-12)
    w32 = 1 / ((x2 * x2).sum(1) + 1e-12)
    w = np.sqrt(w22 * w32)
    cos = w1 * w
    out = np.where(Y == 1, 1 - cos, np.maximum(cos - 0.1, 0))
    close(c.forward([X, X2], Y), out.sum() / 4, path_terms(5, 6, 4, 1))
    # updateGradInput transcribed
    gw1 = (x2 - (w1 * w22)[:, None] * x1) * w[:, None]
    gw2 = (x1 - (w1 * w32)[:, None] * x2) * w[:, None]
    keep = (out > 0)[:, None]
    sign = np.where(Y == 1, -1, 1)[:, None]
    g1, g2 = c.backward([X, X2], Y)
    close(g1, np.where(keep, gw1 * sign, 0) / 4, path_terms(5, 6, 5))
    close(g2, np.where(keep, gw2 * sign, 0) / 4, path_terms(5, 6, 5))
    close(c.forward([X[0], X2[0]], 1), out[0], path_terms(5, 6, 2))
    assert c.backward([X[0], X2[0]], 1)[0].shape == (5,)


def test_margin_ranking_batch_and_single_pair():
    a, b = X[:, 0], X2[:, 0]
    c = nn.MarginRankingCriterion(0.5)
    dist = -Y.astype(np.float64) * (a - b) + 0.5
    close(c.forward([a, b], Y), np.maximum(dist, 0).sum() / 4, path_terms(3, 4, 1))
    g1, g2 = c.backward([a, b], Y)
    close(g1, (dist >= 0) * -Y / 4, 1)
    close(g2, (dist >= 0) * Y / 4, 1)
    # one pair, y a number: never averaged
    d0 = -1 * (a[0] - b[0]) + 0.5
    close(c.forward([a[:1], b[:1]], 1), max(0.0, d0), 3)
    g1, g2 = c.backward([a[:1], b[:1]], 1)
    assert (
        g1.shape == (1,)
        and float(g1[0]) == (-1.0 if d0 > 0 else 0.0)
        and float(g2[0]) == -float(g1[0])
    )


def test_l1_hinge_embedding():
    c = nn.L1HingeEmbeddingCriterion(20.0)
    d = np.abs(X[0].astype(np.float64) - X2[0]).sum()
    close(c.forward([X[0], X2[0]], 1), d, 6)
    close(c.forward([X[0], X2[0]], -1), max(0.0, 20 - d), 7)
    g1, g2 = c.backward([X[0], X2[0]], -1)  # inside the margin: -sign(x1 - x2)
    np.testing.assert_array_equal(g1, -np.sign(X[0] - X2[0]))
    np.testing.assert_array_equal(g2, np.sign(X[0] - X2[0]))
    assert nn.L1HingeEmbeddingCriterion(0.1).forward([X[0], X2[0]], -1) == 0


def test_pair_inputs_are_checked():
    with pytest.raises(
        ModuleError, match=r"CosineEmbeddingCriterion: expected a table of two inputs \{x1, x2\}"
    ):
        nn.CosineEmbeddingCriterion().forward(X, Y)
    with pytest.raises(
        ModuleError, match=r"expected x1 and x2 of one shape, got \(4, 5\) and \(4, 4\)"
    ):
        nn.MarginRankingCriterion().forward([X, X2[:, :4]], Y)
    with pytest.raises(
        ModuleError, match=r"expected 4 target\(s\), one per pair of rows, got \(3,\)"
    ):
        nn.CosineEmbeddingCriterion().forward([X, X2], Y[:3])
    with pytest.raises(
        ModuleError, match=r"L1HingeEmbeddingCriterion: expected targets 1 or -1, got 2"
    ):
        nn.L1HingeEmbeddingCriterion().forward([X[0], X2[0]], 2)


def test_torch_oracle():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, x2 = torch.tensor(X, dtype=torch.float64), torch.tensor(X2, dtype=torch.float64)
    t = torch.tensor(CLASSES)
    close(
        nn.MultiMarginCriterion(2, None, 0.7).forward(X, CLASSES),
        tf.multi_margin_loss(x, t, p=2, margin=0.7).item(),
        path_terms(4, X.size, 2),
    )
    close(
        nn.MultiLabelMarginCriterion().forward(X, MULTILABEL),
        tf.multilabel_margin_loss(x, torch.tensor(MULTILABEL)).item(),
        path_terms(3, X.size * 5, 2),
    )
    close(
        nn.SoftMarginCriterion().forward(X, SIGNS),
        tf.soft_margin_loss(x, torch.tensor(SIGNS, dtype=torch.float64)).item(),
        path_terms(ELEMENTWISE + 2, X.size, 1),
    )
    close(
        nn.CosineEmbeddingCriterion(0.1).forward([X, X2], Y),
        tf.cosine_embedding_loss(x, x2, torch.tensor(Y), margin=0.1).item(),
        path_terms(5, 6, 4, 1),
    )
    close(
        nn.MarginRankingCriterion(0.5).forward([X[:, 0], X2[:, 0]], Y),
        tf.margin_ranking_loss(
            x[:, 0], x2[:, 0], torch.tensor(Y, dtype=torch.float64), margin=0.5
        ).item(),
        path_terms(3, 4, 1),
    )
