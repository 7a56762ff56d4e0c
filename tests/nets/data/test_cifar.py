import io
import pickle
import pickletools
import struct

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
    with pytest.raises(data.DataFileError, match=r"test_batch, byte \d+: truncated or corrupt"):
        data.cifar10(tmp_path, "test", version="python")


def test_missing_cifar_file_names_both_versions_and_what_is_there(tmp_path):
    (tmp_path / "readme.txt").write_text("not a batch")
    (tmp_path / "data_batch_1").write_bytes(b"")  # one python batch of five
    with pytest.raises(
        FileNotFoundError,
        match=r"cifar10: .* holds no complete train split; expected the binary version "
        r"\(data_batch_1.bin, .*data_batch_5.bin\) or the python version \(data_batch_1, .*"
        r"data_batch_5\), in .* or in cifar-10-batches-bin or cifar-10-batches-py under it; "
        r"found data_batch_1, readme.txt. Download it from https://www.cs.toronto.edu/~kriz/",
    ):
        data.cifar10(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match=r"expected the binary version \(test.bin\), in "):
        data.cifar100(tmp_path / "nowhere", "test", version="binary")
    with pytest.raises(FileNotFoundError, match=r"found no such folder"):
        data.cifar100(tmp_path / "nowhere", "test", version="binary")


def test_version_is_told_from_the_files_present(tmp_path):
    images, labels = records(2, 5, 1)
    py = tmp_path / "cifar-10-batches-py"
    py.mkdir()
    (py / "test_batch").write_bytes(py2_cifar_batch(images, labels[:, 0]))
    from_parent = data.cifar10(tmp_path, "test")  # the folder above the unpacked archive
    from_folder = data.cifar10(py, "test")
    np.testing.assert_array_equal(from_parent.label, labels[:, 0])
    np.testing.assert_array_equal(from_folder.data, from_parent.data)
    write_binary(py / "test_batch.bin", images[::-1], labels[::-1])  # both: binary is read
    np.testing.assert_array_equal(data.cifar10(py, "test").label, labels[::-1, 0])
    np.testing.assert_array_equal(data.cifar10(py, "test", "python").label, labels[:, 0])
    with pytest.raises(ValueError, match=r"version must be 'binary', 'python' or None, got 'py'"):
        data.cifar10(py, "test", version="py")


# --- Python 2's cPickle, written opcode by opcode -------------------------------------------
# Python 3's pickle cannot write what the distributed cifar-10-batches-py files hold: protocol
# 2 with Python 2 `str` (SHORT_BINSTRING/BINSTRING) for every key, the dtype descriptor b'u1',
# the byte-order b'|' and the pixel data, and cPickle's BINPUT after every object.


class Py2Pickler:
    """The opcodes cPickle (protocol 2) writes for a CIFAR batch dict."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")  # PROTO 2
        self.memo = 0

    def put(self):
        self.memo += 1
        self.out += (
            b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)
        )

    def str(self, raw):
        n = len(raw)
        self.out += (b"U" + bytes([n]) if n < 256 else b"T" + struct.pack("<i", n)) + raw
        self.put()

    def int(self, v):
        if 0 <= v < 256:
            self.out += b"K" + bytes([v])  # BININT1
        elif 0 <= v < 65536:
            self.out += b"M" + struct.pack("<H", v)  # BININT2
        else:
            self.out += b"J" + struct.pack("<i", v)  # BININT

    def glob(self, module, name):
        self.out += b"c" + module + b"\n" + name + b"\n"
        self.put()

    def array(self, a):
        self.glob(b"numpy.core.multiarray", b"_reconstruct")
        self.glob(b"numpy", b"ndarray")
        self.int(0)
        self.out += b"\x85"  # TUPLE1: shape (0,)
        self.put()
        self.str(b"b")
        self.out += b"\x87"  # TUPLE3
        self.put()
        self.out += b"R"  # REDUCE
        self.put()
        self.out += b"("  # MARK: state (1, shape, dtype, fortran, raw)
        self.int(1)
        for n in a.shape:
            self.int(n)
        self.out += b"\x86"  # TUPLE2: the shape
        self.put()
        self.glob(b"numpy", b"dtype")
        self.str(a.dtype.str[1:].encode())
        self.int(0)
        self.int(1)
        self.out += b"\x87R"
        self.put()
        self.out += b"("  # the dtype's state: (3, '|', None, None, None, -1, -1, 0)
        self.int(3)
        self.str(b"|")
        self.out += b"NNN"
        self.int(-1)
        self.int(-1)
        self.int(0)
        self.out += b"tb"  # TUPLE, BUILD
        self.out += b"\x89"  # NEWFALSE: C order
        self.str(a.tobytes())
        self.out += b"t"
        self.put()
        self.out += b"b"

    def list_of_ints(self, values):
        self.out += b"]"
        self.put()
        self.out += b"("
        for v in values:
            self.int(int(v))
        self.out += b"e"  # APPENDS


def py2_cifar_batch(images, labels, label_key=b"labels"):
    """A python-version batch as Python 2 wrote it: {'batch_label', 'labels', 'data', ...}."""
    p = Py2Pickler()
    p.out += b"}"
    p.put()
    p.out += b"("
    p.str(b"data")
    p.array(images.reshape(len(images), -1))
    p.str(label_key)
    p.list_of_ints(labels)
    p.str(b"batch_label")
    p.str(b"testing batch 1 of 1")
    p.str(b"filenames")
    p.out += b"]"
    p.put()
    p.out += b"("
    for i in range(len(images)):
        p.str(b"img_%d.png" % i)
    p.out += b"eu."  # APPENDS, SETITEMS, STOP
    blob = bytes(p.out)
    pickletools.dis(blob, out=io.StringIO())  # a well-formed stream (checked, never run)
    return blob


def test_reads_a_python2_cpickle_batch_as_distributed(tmp_path):
    images, labels = records(3, 11, 1)
    blob = py2_cifar_batch(images, labels[:, 0])
    assert b"U\x02u1" in blob and b"U\x04data" in blob  # byte strings, as cPickle wrote them
    (tmp_path / "test_batch").write_bytes(blob)
    ds = data.cifar10(tmp_path, "test")
    np.testing.assert_array_equal(ds.label, labels[:, 0])
    np.testing.assert_array_equal(np.round(ds.data * 255).astype(np.uint8), images)
    raw = data.cifar.read_python(tmp_path / "test_batch")
    assert raw["batch_label"] == b"testing batch 1 of 1" and raw["filenames"][2] == b"img_2.png"


def test_reads_a_python2_cifar100_batch(tmp_path):
    images, _ = records(2, 12, 1)
    fine = py2_cifar_batch(images, [99, 7], label_key=b"fine_labels")
    (tmp_path / "test").write_bytes(fine)
    assert data.cifar100(tmp_path, "test").label.tolist() == [99, 7]


def _offset(blob, marker):
    assert blob.count(marker) == 1
    return blob.index(marker)


def _hostile(tmp_path):
    """A batch whose 'data' is os.system('touch <file>'), as a pickle exploit writes it."""
    target = tmp_path / "pwned"
    blob = (
        b"\x80\x02}q\x01(U\x04dataq\x02cos\nsystem\nq\x03U"
        + bytes([len(b"touch " + bytes(target))])
        + b"touch "
        + bytes(target)
        + b"\x85Ru."
    )
    return blob, target


@pytest.mark.parametrize("damage", ["hostile", "truncated", "renamed global", "bad opcode"])
def test_a_damaged_or_hostile_batch_is_refused_naming_file_and_offset(tmp_path, damage):
    images, labels = records(2, 13, 1)
    blob = py2_cifar_batch(images, labels[:, 0])
    raw_at = _offset(blob, b"T" + struct.pack("<i", images.size))
    target = tmp_path / "pwned"
    if damage == "hostile":
        blob, target = _hostile(tmp_path)
        where, why = _offset(blob, b"cos\n"), r"pickle refers to os.system; only plain data"
    elif damage == "truncated":
        blob, where, why = blob[: raw_at + 100], raw_at, r"truncated or corrupt pickle"
    elif damage == "renamed global":
        where = _offset(blob, b"cnumpy\ndtype\n")
        blob = blob.replace(b"cnumpy\ndtype\n", b"cnumpy\nloadz\n")
        why = r"pickle refers to numpy.loadz; only plain data"
    else:  # the NEWFALSE before the pixel data becomes an opcode that does not exist
        where = raw_at - 1
        blob = blob[:where] + b"\xff" + blob[where + 1 :]
        why = r"truncated or corrupt pickle \(.*opcode b'\\xff' unknown"
    path = tmp_path / "test_batch"
    path.write_bytes(blob)
    with pytest.raises(data.DataFileError, match=rf"{path}, byte {where}: {why}"):
        data.cifar10(tmp_path, "test", version="python")
    assert not target.exists()  # nothing in the file ran


def test_an_array_whose_data_does_not_fit_its_shape_is_refused(tmp_path):
    images, labels = records(2, 14, 1)
    blob = py2_cifar_batch(images, labels[:, 0])
    shape = b"K\x02M\x00\x0c\x86"  # (2, 3072)
    assert blob.count(shape) == 1
    blob = blob.replace(shape, b"K\x03M\x00\x0c\x86")  # claims 3 rows, holds 2
    (tmp_path / "test_batch").write_bytes(blob)
    with pytest.raises(
        data.DataFileError,
        match=r"test_batch, byte \d+: array data of 6144 bytes for shape \(3, 3072\) of uint8 "
        r"\(9216 bytes expected\)",
    ):
        data.cifar10(tmp_path, "test")


def test_batch_contents_are_checked(tmp_path):
    images, _ = records(2, 15, 1)
    (tmp_path / "test_batch").write_bytes(
        pickle.dumps({"data": images.reshape(2, -1).astype(np.float32), "labels": [1, 2]})
    )
    with pytest.raises(data.DataFileError, match=r"expected 'data' a uint8 array \(N, 3072\)"):
        data.cifar10(tmp_path, "test")
    (tmp_path / "test_batch").write_bytes(
        pickle.dumps({"data": images.reshape(2, -1), "labels": ["1", "2"]})
    )
    with pytest.raises(data.DataFileError, match=r"'labels'\[0\] is '1' \(str\); expected integer"):
        data.cifar10(tmp_path, "test")


def test_labels_out_of_range(tmp_path):
    images, labels = records(2, 0, 1)
    labels[1] = 12
    write_binary(tmp_path / "test_batch.bin", images, labels)
    with pytest.raises(
        data.DataFileError,
        match=r"test_batch.bin: label 12 at index 1 \(1 outside 0..9 in all\); expected class "
        r"indices 0..9",
    ):
        data.cifar10(tmp_path, "test")
