import gzip
import sys

import numpy as np
import pytest

from nets import data
from nets.data.digits import digits_path, load_digits


def test_digits_is_the_sklearn_file_without_importing_sklearn():
    import subprocess

    code = (
        "import sys; from nets.data import digits; ds = digits('all'); "
        "print(len(ds), 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1797", "False"]


def test_digits_matches_the_csv_and_splits_disjointly():
    images, labels = load_digits()
    with gzip.open(digits_path(), "rt") as f:
        first = [float(v) for v in f.readline().split(",")]
    np.testing.assert_array_equal(images[0].ravel(), first[:64])
    assert labels[0] == first[64] and np.bincount(labels).min() > 170
    train, test = data.digits("train"), data.digits("test")
    assert (len(train), len(test)) == (1437, 360)
    assert train[0][0].shape == (1, 8, 8) and 0 <= train.inputs.min() and train.inputs.max() <= 1
    rows = {row.tobytes() for row in train.inputs}
    assert sum(row.tobytes() in rows for row in test.inputs) < 5  # a few true duplicates only


def test_digits_upscaled_for_lenet():
    ds = data.digits("test", size=32)
    assert ds.inputs.shape == (360, 1, 32, 32)
    assert np.all(ds.inputs[:, :, :4] == 0) and np.all(ds.inputs[:, :, -4:] == 0)
    np.testing.assert_array_equal(ds.targets, data.digits("test").targets)
    with pytest.raises(ValueError, match=r"digits: size must be 8 or >= 24"):
        data.digits(size=16)


def test_bad_split():
    with pytest.raises(ValueError, match=r"digits: split must be 'train', 'test' or 'all'"):
        data.digits("val")


def test_digits_as_three_planes_fit_the_seed_network():
    grey = data.digits("test", size=32)
    rgb = data.digits("test", size=32, planes=3)
    assert rgb.data.shape == (360, 3, 32, 32)  # CIFAR-10's sample shape
    for plane in range(3):
        np.testing.assert_array_equal(rgb.data[:, plane], grey.data[:, 0])
    np.testing.assert_array_equal(rgb.label, grey.label)
    with pytest.raises(ValueError, match=r"digits: planes must be 1 \(grey\) or 3"):
        data.digits(planes=2)
