import gzip
import struct

import numpy as np
import pytest

from nets import data
from nets.data.mnist import parse_idx


def write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    payload = header + array.astype(dtype).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload)
    path.write_bytes(payload)


@pytest.fixture
def images_labels():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (5, 28, 28)).astype(np.uint8), np.array([3, 1, 4, 1, 5])


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_reads_real_idx_files(tmp_path, images_labels, suffix):
    images, labels = images_labels
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels)
    ds = data.mnist(tmp_path, "test")
    assert len(ds) == 5 and ds.size() == 5
    x, y = ds[2]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    # uint8 / 255 correctly rounded to float32 (float64's quotient rounds to the same: exact)
    np.testing.assert_array_equal(x[0], (images[2] / 255.0).astype(np.float32))
    assert int(y) == 4


def test_idx_other_types_and_big_endianness(tmp_path):
    a = np.arange(-3, 3, dtype=np.int32).reshape(2, 3)
    write_idx(tmp_path / "ints.idx", a, 0x0C)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "ints.idx"), a)
    f = np.linspace(0, 1, 4, dtype=np.float32)
    write_idx(tmp_path / "floats.idx", f, 0x0D)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "floats.idx"), f)


def test_missing_file_says_which_where_and_where_to_get_it(tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=r"mnist: file 'train-images-idx3-ubyte' not "
        r"found; looked for .*train-images-idx3-ubyte.gz; download it from "
        r"http://yann.lecun.com/exdb/mnist/",
    ):
        data.mnist(tmp_path)


def test_wrong_magic_is_reported(tmp_path):
    (tmp_path / "x").write_bytes(b"\x08\x03\x00\x00" + bytes(20))
    with pytest.raises(data.DataFileError, match=r"not an idx file: magic bytes 08030000"):
        data.read_idx(tmp_path / "x")


def test_truncated_file_is_reported(images_labels):
    images, _ = images_labels
    blob = bytes([0, 0, 8, 3]) + struct.pack(">3I", 5, 28, 28) + images.tobytes()[:-10]
    with pytest.raises(
        data.DataFileError,
        match=r"header says shape \(5, 28, 28\) \(3920 bytes"
        r" of data\), but the file holds 3910",
    ):
        parse_idx(blob, "t")


def test_corrupt_gzip_is_reported(tmp_path):
    idx = bytes([0, 0, 8, 1]) + struct.pack(">I", 4000) + np.random.default_rng(0).bytes(4000)
    blob = gzip.compress(idx)
    (tmp_path / "x.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.DataFileError, match=r"x.gz, byte \d+ of the gunzipped data .*corrupt"):
        data.read_idx(tmp_path / "x.gz")
