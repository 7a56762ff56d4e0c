"""Torchnet's ranking and multi-label meters against hand-worked cases and scikit-learn."""

import math

import numpy as np
import pytest

from nets.engine import (
    AUCMeter,
    MultiLabelConfusionMeter,
    NDCGMeter,
    PrecisionAtKMeter,
    PrecisionMeter,
    RecallMeter,
    mAPMeter,
)

RNG = np.random.default_rng(193)
SCORES = RNG.random((8, 4))
KHOT = (RNG.random((8, 4)) > 0.5).astype(float)
KHOT[0] = [1, 0, 0, 0]  # every class has a positive and a negative
KHOT[1] = [0, 1, 1, 1]


def test_map_meter_is_the_mean_of_sklearn_average_precisions():
    metrics = pytest.importorskip("sklearn.metrics")
    m = mAPMeter()
    m.add(SCORES[:5], KHOT[:5])
    m.add(SCORES[5:], KHOT[5:])  # accumulates over add()
    want = np.mean([metrics.average_precision_score(KHOT[:, k], SCORES[:, k]) for k in range(4)])
    assert m.value() == pytest.approx(want, abs=1e-12)
    m.reset()
    assert math.isnan(m.value())


def test_auc_meter_against_sklearn_and_by_hand():
    m = AUCMeter()
    assert m.value() == 0.5
    m.add(np.array([0.9, 0.8, 0.4]), np.array([1, 0, 1]))
    m.add(np.array([0.3]), np.array([0]))
    auc, tpr, fpr = m.value()
    # ranking 1, 0, 1, 0: positive-negative pairs ordered right: (0.9 > 0.8), (0.9 > 0.3),
    # (0.4 > 0.3) of 4
    assert auc == pytest.approx(3 / 4)
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    metrics = pytest.importorskip("sklearn.metrics")
    n = AUCMeter()
    n.add(SCORES[:, 0], KHOT[:, 0])
    assert n.value()[0] == pytest.approx(metrics.roc_auc_score(KHOT[:, 0], SCORES[:, 0]))
    with pytest.raises(ValueError, match=r"AUCMeter: targets should be binary"):
        n.add(np.array([0.1]), np.array([2]))


def test_multilabel_confusion_meter_shares_wrong_predictions():
    m = MultiLabelConfusionMeter(4, normalized=False)
    # targets {0, 2}; the two best scores are classes 0 and 3: 0 right, 3 wrong for target 2
    m.add(np.array([0.9, 0.1, 0.2, 0.5]), np.array([1, 0, 1, 0]))
    # targets {1, 2, 3}; the best three are 0, 1, 2: 1 and 2 right, 0 wrong for target 3
    m.add(np.array([[0.8, 0.7, 0.6, 0.1]]), np.array([[0, 1, 1, 1]]))
    want = np.zeros((4, 4))
    want[0, 0] = want[1, 1] = want[2, 2] = 1
    want[2, 3] = 1
    want[3, 0] = 1
    np.testing.assert_array_equal(m.value(), want)
    n = MultiLabelConfusionMeter(4)  # normalized by default, as Torchnet
    n.conf = want.copy()
    np.testing.assert_allclose(n.value().sum(1), [1, 1, 1, 1], rtol=1e-7)
    np.testing.assert_allclose(n.value()[2], [0, 0, 0.5, 0.5], rtol=1e-7)
    with pytest.raises(ValueError, match="expected 4 classes, got 3"):
        m.add(np.ones(3), np.ones(3))


def test_ndcg_meter_by_the_formula():
    m = NDCGMeter(K=[1, 3])
    rel = np.array([3.0, 0.0, 2.0, 1.0])
    out = np.array([0.1, 0.9, 0.5, 0.3])  # ranking: items 1, 2, 3, 0
    m.add(out, rel)
    # DCG_3 = rel1 + rel2/log2(2) + rel3/log2(3) = 0 + 2 + 1/log2(3); IDCG_3 = 3 + 2 + 1/log2(3)
    dcg3 = 0 + 2 / 1 + 1 / math.log2(3)
    idcg3 = 3 + 2 / 1 + 1 / math.log2(3)
    assert m.value(3) == pytest.approx(dcg3 / idcg3)
    assert m.value(1) == 0.0  # the best-scored item has relevance 0
    m.add(rel, rel)  # a perfect ranking
    assert m.value() == pytest.approx({1: 0.5, 3: (dcg3 / idcg3 + 1) / 2})
    assert math.isnan(NDCGMeter(K=[1]).value(1))  # nothing added yet
    with pytest.raises(ValueError, match=r"sample 0 has no relevant item among its best 1"):
        m.add(out, np.zeros(4))
    with pytest.raises(ValueError, match=r"level k 2 was not given"):
        m.value(2)
    with pytest.raises(ValueError, match=r"too few results \(2\) for the level K = 3"):
        m.add(np.ones(2), np.ones(2))


def test_precision_at_k_meter():
    m = PrecisionAtKMeter(topk=[1, 2])
    out = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.1]])
    tgt = np.array([[1, 0, 0], [0, 0, 1]])
    m.add(out, tgt)
    # top-1: row 0 right, row 1 wrong; top-2: row 0 {0, 2} one right, row 1 {1, 0} none
    assert m.value() == pytest.approx({1: 50.0, 2: 25.0})
    online = PrecisionAtKMeter(topk=[1, 2], online=True)
    online.add(out[:, :2], tgt[:, :2])  # documents arrive in two parts
    online.add(out[:, 2:], tgt[:, 2:])
    assert online.value() == pytest.approx(m.value())
    cols = PrecisionAtKMeter(topk=[1], dim=0)  # rank along the other axis
    cols.add(out.T, tgt.T)
    assert cols.value(1) == pytest.approx(50.0)
    with pytest.raises(ValueError, match=r"dim should be 0 or 1 \(0-based\)"):
        PrecisionAtKMeter(dim=2)


def test_precision_and_recall_meters():
    out = np.array([[0.9, 0.6, 0.2], [0.4, 0.7, 0.8]])
    tgt = np.array([[1, 0, 0], [1, 1, 0]])
    p, r = PrecisionMeter(threshold=[0.5, 0.3]), RecallMeter(threshold=[0.5, 0.3])
    pc = PrecisionMeter(threshold=[0.5], perclass=True)
    for meter in (p, r, pc):
        meter.add(out, tgt)
    # at 0.5: predicted {0, 1} and {1, 2}; right: (0,0), (1,1): precision 2/4, recall 2/3
    assert p.value(0.5) == pytest.approx(50.0)
    assert r.value(0.5) == pytest.approx(200 / 3)
    # at 0.3: predicted {0, 1}, {0, 1, 2}; right (0,0), (1,0), (1,1): 3/5, recall 3/3
    assert p.value() == pytest.approx({0.3: 60.0, 0.5: 50.0})
    assert r.value(0.3) == pytest.approx(100.0)
    # per class at 0.5: class 0 1/1, class 1 1/2, class 2 0/1
    np.testing.assert_allclose(pc.value(0.5), [100.0, 50.0, 0.0])
    assert PrecisionMeter().value(0.5) == 100.0  # nothing predicted yet
    with pytest.raises(ValueError, match=r"thresholds must lie in \[0, 1\], got 2"):
        RecallMeter(threshold=[2])
    with pytest.raises(ValueError, match=r"targets must be 0 or 1 \(k-hot rows\), got 3"):
        p.add(out, tgt * 3)
