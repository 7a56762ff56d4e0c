import pickle

import numpy as np
import pytest

from nets import data
from nets.data._pickle import read_pickle


def records(n, seed, label_bytes):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    labels = rng.integers(0, 10, (n, label_bytes)).astype(np.uint8)
    return images, labels


def write_binary(path, images, labels):
    rows = np.concatenate([labels, images.reshape(len(images), -1)], axis=1)
    path.write_bytes(rows.astype(np.uint8).tobytes())


def test_cifar10_binary(tmp_path):
    parts = [records(2, i, 1) for i in range(5)]
    for i, (x, y) in enumerate(parts, 1):
        write_binary(tmp_path / f"data_batch_{i}.bin", x, y)
    ds = data.cifar10(tmp_path, "train")
    assert len(ds) == 10
    x, y = ds[3]  # second record of batch 2
    # uint8 / 255 correctly rounded to float32 (float64's quotient rounds to the same: exact)
    np.testing.assert_array_equal(x, (parts[1][0][1] / 255.0).astype(np.float32))
    assert int(y) == parts[1][1][1, 0]


def test_cifar100_binary_fine_and_coarse(tmp_path):
    images, labels = records(4, 7, 2)
    write_binary(tmp_path / "test.bin", images, labels)
    fine = data.cifar100(tmp_path, "test")
    coarse = data.cifar100(tmp_path, "test", coarse=True)
    np.testing.assert_array_equal(fine.targets, labels[:, 1])
    np.testing.assert_array_equal(coarse.targets, labels[:, 0])
    np.testing.assert_array_equal(fine.inputs[2], (images[2] / 255.0).astype(np.float32))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_python_version_without_unpickling(tmp_path, protocol):
    images, labels = records(3, 1, 1)
    batch = {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": [int(v) for v in labels[:, 0]],
        b"data": images.reshape(3, -1),
        b"filenames": [b"a.png", b"b.png", b"c.png"],
    }
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump(batch, f, protocol=protocol)
    ds = data.cifar10(tmp_path, "test", version="python")
    np.testing.assert_array_equal(ds.targets, labels[:, 0])
    np.testing.assert_array_equal(ds.inputs, (images / 255.0).astype(np.float32))  # as above


def test_cifar100_python_version(tmp_path):
    images, _ = records(2, 3, 1)
    batch = {"data": images.reshape(2, -1), "fine_labels": [99, 5], "coarse_labels": [19, 0]}
    (tmp_path / "train").write_bytes(pickle.dumps(batch, protocol=2))
    assert data.cifar100(tmp_path, version="python").targets.tolist() == [99, 5]
    assert data.cifar100(tmp_path, version="python", coarse=True).targets.tolist() == [19, 0]


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_that_names_code_is_refused(tmp_path, capsys):
    (tmp_path / "test_batch").write_bytes(pickle.dumps({"data": Payload(), "labels": []}))
    with pytest.raises(
        data.DataFileError,
        match=r"pickle refers to builtins.print; only plain "
        r"data and NumPy arrays are read",
    ):
        data.cifar10(tmp_path, "test", version="python")
    assert "never run" not in capsys.readouterr().out


def test_restricted_reader_round_trips_plain_data():
    value = {"a": [1, -2, 3.5, None, True], "b": (b"x", "y"), "c": np.eye(2, dtype=">f8").T}
    back = read_pickle(pickle.dumps(value, protocol=4))
    assert back["a"] == value["a"] and back["b"] == value["b"]
    np.testing.assert_array_equal(back["c"], value["c"])
    assert back["c"].dtype == np.dtype(">f8")


def test_truncated_binary_batch(tmp_path):
    images, labels = records(2, 0, 1)
    write_binary(tmp_path / "test_batch.bin", images, labels)
    blob = (tmp_path / "test_batch.bin").read_bytes()
    (tmp_path / "test_batch.bin").write_bytes(blob[:-7])
    with pytest.raises(data.DataFileError, match=r"6139 bytes is not a whole number of 3073-byte"):
        data.cifar10(tmp_path, "test")


def test_truncated_python_batch(tmp_path):
    blob = pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]})
    (tmp_path / "test_batch").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.DataFileError, match=r"test_batch: truncated or corrupt pickle"):
        data.cifar10(tmp_path, "test", version="python")


def test_missing_cifar_file(tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=r"cifar10: file 'test_batch.bin' not found; "
        r"looked for .*; download it from https://www.cs.toronto.edu/~kriz/",
    ):
        data.cifar10(tmp_path, "test")


def test_labels_out_of_range(tmp_path):
    images, labels = records(2, 0, 1)
    labels[1] = 12
    write_binary(tmp_path / "test_batch.bin", images, labels)
    with pytest.raises(
        data.DataFileError,
        match=r"labels must lie in 0..9, found 0..12|"
        r"labels must lie in 0..9, found \d+..12",
    ):
        data.cifar10(tmp_path, "test")
