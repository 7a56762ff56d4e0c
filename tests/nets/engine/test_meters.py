import math
import time

import numpy as np
import pytest

from nets.engine.meters import (
    APMeter,
    AverageValueMeter,
    ClassErrorMeter,
    ConfusionMeter,
    MovingAverageValueMeter,
    MSEMeter,
    TimeMeter,
)


def test_average_value_meter_mean_and_unbiased_std():
    m = AverageValueMeter()
    assert all(math.isnan(v) for v in m.value())
    m.add(2.0)
    assert m.value() == (2.0, math.inf)
    for v in (4.0, 9.0):
        m.add(v)
    mean, std = m.value()
    assert mean == pytest.approx(5.0)
    assert std == pytest.approx(math.sqrt(((2 - 5) ** 2 + (4 - 5) ** 2 + (9 - 5) ** 2) / 2))
    m.reset()
    assert m.n == 0


def test_class_error_meter_top1_top5():
    scores = np.array(
        [
            [0.1, 0.9, 0.0, 0.0, 0.0, 0.0],  # top-1 = 1
            [0.6, 0.1, 0.2, 0.05, 0.03, 0.02],  # order 0,2,1,3,4,5
            [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],  # order 5,4,3,2,1,0
        ]
    )
    targets = np.array([1, 2, 0])
    m = ClassErrorMeter(topk=[1, 5])
    m.add(scores, targets)
    # row 0 right at top-1; row 1 right at top-2; row 2's class 0 ranks 6th
    assert m.value() == pytest.approx([100 * 2 / 3, 100 * 1 / 3])
    assert m.value(1) == pytest.approx(100 * 2 / 3)
    acc = ClassErrorMeter(topk=[1], accuracy=True)
    acc.add(scores, targets)
    assert acc.value(1) == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match=r"ClassErrorMeter: targets must be class indices in 0..5"):
        m.add(scores, np.array([0, 1, 6]))


def test_confusion_meter_counts_and_normalizes():
    m = ConfusionMeter(3)
    m.add(np.array([[0.9, 0.1, 0], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]]), np.array([0, 1, 2]))
    m.add(np.array([2, 2]), np.array([2, 0]))
    np.testing.assert_array_equal(m.value(), [[1, 0, 1], [0, 1, 0], [0, 1, 1]])
    n = ConfusionMeter(3, normalized=True)
    n.conf = m.conf
    np.testing.assert_allclose(n.value()[0], [0.5, 0, 0.5])
    with pytest.raises(ValueError, match=r"ConfusionMeter: targets must lie in 0..2"):
        m.add(np.array([0]), np.array([3]))


def test_time_meter_units_and_stop():
    m = TimeMeter(unit=True)
    time.sleep(0.02)
    m.incUnit(2)
    m.stop()
    frozen = m.value()
    assert frozen >= 0.01 / 2
    time.sleep(0.01)
    assert m.value() == frozen


def test_ap_meter_against_hand_computed_average_precision():
    m = APMeter()
    scores = np.array([[0.9, 0.1], [0.8, 0.7], [0.3, 0.2], [0.1, 0.6]])
    targets = np.array([[1, 0], [0, 1], [1, 0], [0, 0]])
    m.add(scores[:2], targets[:2])
    m.add(scores[2:], targets[2:])
    # class 0: ranking 0.9(+) 0.8(-) 0.3(+) 0.1(-): precisions at positives 1/1, 2/3
    # class 1: ranking 0.7(+) 0.6 0.2 0.1: precision 1 at its only positive
    np.testing.assert_allclose(m.value(), [(1 + 2 / 3) / 2, 1.0])
    with pytest.raises(ValueError, match=r"APMeter: targets must be 0 or 1"):
        m.add(scores, targets * 2)


def test_ap_meter_with_weights():
    m = APMeter()
    # one class; ranking by score: truth 1, 0, 1 with weights 1, 2, 1
    m.add(np.array([0.9, 0.5, 0.1]), np.array([1, 0, 1]), np.array([1.0, 2.0, 1.0]))
    # weighted precision at the positives: 1/1 and (1 + 1)/(1 + 2 + 1)
    assert m.value() == pytest.approx([(1 + 0.5) / 2])
    with pytest.raises(ValueError, match="give weights with every add"):
        m.add(np.array([0.2]), np.array([1]))


def test_moving_average_value_meter_keeps_the_window():
    m = MovingAverageValueMeter(3)
    assert m.value() == (0.0, 0.0)
    for v in (1.0, 2.0, 3.0, 10.0):
        m.add(v)
    window = np.array([2.0, 3.0, 10.0])
    mean, std = m.value()
    assert mean == pytest.approx(window.mean())
    assert std == pytest.approx(window.std(ddof=1))
    with pytest.raises(ValueError, match="windowsize should be an integer >= 1"):
        MovingAverageValueMeter(0)


def test_mse_meter_and_root():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    m, r = MSEMeter(), MSEMeter(root=True)
    for meter in (m, r):
        meter.add(a, b)
        meter.add(a[:1], a[:1])
    want = ((a - b) ** 2).sum() / 9
    assert m.value() == pytest.approx(want)
    assert r.value() == pytest.approx(math.sqrt(want))
    with pytest.raises(ValueError, match=r"MSEMeter: output and target must have one shape"):
        m.add(a, b[0])
