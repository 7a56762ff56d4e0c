"""SpatialClassNLLCriterion and ClassSimplexCriterion against THNN's loops and regsplex in
NumPy; DistKLDivCriterion (in criterion.py) against its formula."""

import jax
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(191)
LOGP = np.log(RNG.random((2, 3, 2, 4)) + 0.05).astype(np.float32)
T = RNG.integers(0, 3, (2, 2, 4))
W = np.array([1.0, 2.0, 0.5], np.float32)


def close(a, b, terms):
    assert_close(a, b, terms=terms, dtype=np.float32)


def thnn_spatial_nll(x, t, w, size_average):
    total, total_w = 0.0, 0.0
    grad = np.zeros_like(x, np.float64)
    for b in range(x.shape[0]):
        for h in range(x.shape[2]):
            for v in range(x.shape[3]):
                c = t[b, h, v]
                cw = 1.0 if w is None else float(w[c])
                total_w += cw
                total -= x[b, c, h, v] * cw
                grad[b, c, h, v] = -cw
    norm = total_w if size_average and total_w else 1.0
    return total / norm, grad / norm


@pytest.mark.parametrize("weights, size_average", [(None, True), (W, True), (W, False)])
def test_spatial_class_nll_against_thnn(weights, size_average):
    c = nn.SpatialClassNLLCriterion(weights, size_average)
    loss, grad = thnn_spatial_nll(LOGP, T, weights, size_average)
    close(c.forward(LOGP, T), loss, path_terms(1, T.size, T.size, 1))
    close(c.backward(LOGP, T), grad, path_terms(T.size, 1))
    one, _ = thnn_spatial_nll(LOGP[1:], T[1:], weights, size_average)
    close(c.forward(LOGP[1], T[1]), one, path_terms(1, 8, 8, 1))  # one (C, H, W) sample


def test_spatial_class_nll_checks_targets():
    c = nn.SpatialClassNLLCriterion()
    bad = T.copy()
    bad[1, 0, 2] = 3
    with pytest.raises(
        ModuleError,
        match=r"SpatialClassNLLCriterion: expected class indices in \[0, 3\), "
        r"got 3 at \(1, 0, 2\) \(targets are 0-based",
    ):
        c.forward(LOGP, bad)
    with pytest.raises(ModuleError, match=r"expected a target of shape \(2, 2, 4\), got \(2, 4\)"):
        c.forward(LOGP, T[0])
    with pytest.raises(
        ModuleError, match=r"expected input \(N, C, H, W\) or \(C, H, W\), got \(2, 4\)"
    ):
        c.forward(LOGP[0, 0], T[0])
    with pytest.raises(ModuleError, match="weights has 2 entries but the input has 3 classes"):
        nn.SpatialClassNLLCriterion(np.ones(2)).forward(LOGP, T)
    huge = T.astype(object)
    huge[0, 1, 1] = 2**70  # beyond int64: refused, not wrapped
    with pytest.raises(ModuleError, match=r"got 1\.18059e\+21 at \(0, 1, 1\)"):
        c.forward(LOGP, huge)
    with pytest.raises(ModuleError, match=r"expected integer class indices, got nan"):
        c.forward(LOGP, np.where(T == T.max(), np.nan, T))
    assert bool(jax.jit(c.bad_targets)(LOGP, bad)) and not bool(jax.jit(c.bad_targets)(LOGP, T))


def test_class_simplex_vertices_and_loss():
    c = nn.ClassSimplexCriterion(4)
    s = np.asarray(c.simplex, np.float64)
    assert s.shape == (4, 4)
    np.testing.assert_array_equal(s[:, 3], 0)  # embedded one dimension above the simplex
    gram = s @ s.T  # unit vertices, all pairwise cosines -1/(n-1) = -1/3
    assert_close(gram, np.where(np.eye(4, dtype=bool), 1.0, -1 / 3), terms=8, dtype=np.float32)
    assert_close(s.sum(0), np.zeros(4), terms=8, dtype=np.float32)  # centred at the origin
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    t = np.array([3, 0, 1])
    close(c.forward(x, t), ((x - s[t]) ** 2).mean(), path_terms(3, 12, 1))
    close(c.backward(x, t), 2 * (x - s[t]) / 12, 4)
    close(c.forward(x[0], 3), ((x[0] - s[3]) ** 2).mean(), path_terms(3, 4, 1))
    np.testing.assert_array_equal(c.getTopPrediction(s[[2, 0, 1]] * 3), [2, 0, 1])
    with pytest.raises(ModuleError, match=r"expected class indices in \[0, 4\), got 4 at \(1,\)"):
        c.forward(x, np.array([0, 4, 1]))
    with pytest.raises(ModuleError, match=r"expected input \(N, 4\) or \(4,\), got \(3, 5\)"):
        c.forward(np.zeros((3, 5)), t)
    with pytest.raises(ModuleError, match="nClasses"):
        nn.ClassSimplexCriterion(1)


def test_dist_kl_div():
    x = np.log(RNG.random((3, 4)) + 0.1).astype(np.float32)
    t = RNG.random((3, 4)).astype(np.float32)
    t[0, 1] = 0  # a zero target contributes nothing, and no NaN
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    want = np.where(t64 > 0, t64 * (np.log(np.where(t64 > 0, t64, 1)) - x64), 0)
    c = nn.DistKLDivCriterion()
    close(c.forward(x, t), want.mean(), path_terms(ELEMENTWISE + 2, 12, 1))
    close(c.backward(x, t), np.where(t64 > 0, -t64 / 12, 0), 2)
    c.sizeAverage = False
    close(c.forward(x, t), want.sum(), path_terms(ELEMENTWISE + 2, 12))
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.kl_div(torch.tensor(x64), torch.tensor(t64), reduction="sum")
    close(c.forward(x, t), ref.item(), path_terms(ELEMENTWISE + 2, 12))
