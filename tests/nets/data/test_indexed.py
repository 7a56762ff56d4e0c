"""IndexedDataset: archives written in Torchnet's format (the writer here, and one built word by
word from the format's description), read back; broken files are clear errors."""

import numpy as np
import pytest

from nets import data
from nets.data import DataFileError

MAGIC = 0x584449544E54


def _torchnet_archive(tmp_path, arrays, code=6, dtype="<f4"):
    """indexeddataset.lua's writer, word by word: header, dimoffsets, datoffsets, sizes."""
    dims, dats, sizes = [0], [0], []
    for a in arrays:
        dims.append(dims[-1] + a.ndim)
        dats.append(dats[-1] + a.size)
        sizes += list(a.shape)
    words = [
        MAGIC,
        1,
        code,
        np.dtype(dtype).itemsize,
        len(arrays),
        len(sizes),
        *dims,
        *dats,
        *sizes,
    ]
    idx, bin_ = tmp_path / "f.idx", tmp_path / "f.bin"
    idx.write_bytes(np.asarray(words, "<i8").tobytes())
    bin_.write_bytes(b"".join(np.asarray(a, dtype).tobytes() for a in arrays))
    return idx, bin_


ARRAYS = [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.array([7.5], np.float32),
    np.ones((1, 2, 2)),
]


@pytest.mark.parametrize("mmap", [False, True])
def test_reads_torchnets_format(tmp_path, mmap):
    idx, bin_ = _torchnet_archive(tmp_path, ARRAYS)
    r = data.IndexedDatasetReader(idx, bin_, mmap=mmap, mmapidx=mmap)
    assert r.size() == 3
    for i, a in enumerate(ARRAYS):
        got = r.get(i)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, a)
    with pytest.raises(IndexError, match=r"index 3 out of range \[0, 3\)"):
        r.get(3)


def test_writer_writes_the_same_bytes_and_dataset_pairs_fields(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    idx, bin_ = _torchnet_archive(ref, ARRAYS)
    with data.IndexedDatasetWriter(tmp_path / "input.idx", tmp_path / "input.bin", "float") as w:
        for a in ARRAYS:
            w.add(a)
    assert (tmp_path / "input.idx").read_bytes() == idx.read_bytes()
    assert (tmp_path / "input.bin").read_bytes() == bin_.read_bytes()
    with data.IndexedDatasetWriter(tmp_path / "target.idx", tmp_path / "target.bin", "long") as w:
        for t in (3, 1, 4):
            w.add(np.array([t]))
    ds = data.IndexedDataset(["input", "target"], path=tmp_path)
    assert len(ds) == 3
    x, y = ds[1]
    np.testing.assert_array_equal(x, [7.5])
    assert y.dtype == np.int64 and y.tolist() == [1]
    assert set(ds.get(2)) == {"input", "target"}
    assert len(data.IndexedDataset(["input", "target"], path=tmp_path, maxload=2)) == 2
    alone = data.IndexedDataset(
        {"t": {"idx": tmp_path / "target.idx", "bin": tmp_path / "target.bin"}}, standalone=True
    )
    assert alone[2].tolist() == [4]


def _corrupt(tmp_path, word, value):
    idx, bin_ = _torchnet_archive(tmp_path, ARRAYS)
    words = np.fromfile(idx, "<i8")
    words[word] = value
    idx.write_bytes(words.tobytes())
    return idx, bin_


@pytest.mark.parametrize(
    ("word", "value", "message"),
    [
        (0, 12345, r"f\.idx: unrecognized index format at byte 0: expected the magic number"),
        (1, 2, r"f\.idx: unsupported format version 2 at byte 8"),
        (2, 8, r"f\.idx: element type 8 \(Lua table\) at byte 16"),
        (2, 9, r"f\.idx: unrecognized element type code 9 at byte 16"),
        (3, 8, r"f\.idx: element size 8 at byte 24 does not match type 'float'"),
        (4, 5, r"f\.idx: N = 5 \(byte 32\) and S = 6 \(byte 40\) call for"),
        (7, 5, r"f\.idx: dimoffsets\[2\] = 3 at byte 64 breaks the order"),
        (11, 5, r"f\.idx: array 0 has sizes \(2, 3\) \(6 elements\) but datoffsets gives it 5"),
        (16, -2, r"f\.idx: sizes\[2\] = -2 at byte 128 is negative"),
    ],
)
def test_bad_index_files_name_the_file_and_the_offset(tmp_path, word, value, message):
    idx, bin_ = _corrupt(tmp_path, word, value)
    with pytest.raises(DataFileError, match=message):
        data.IndexedDatasetReader(idx, bin_)


def test_truncated_files(tmp_path):
    idx, bin_ = _torchnet_archive(tmp_path, ARRAYS)
    bin_.write_bytes(bin_.read_bytes()[:-4])
    with pytest.raises(DataFileError, match=r"f\.bin: truncated: the index .* needs 44 bytes"):
        data.IndexedDatasetReader(idx, bin_)
    idx.write_bytes(idx.read_bytes()[:20])
    with pytest.raises(DataFileError, match=r"f\.idx: an index is int64 words.*has 20 bytes"):
        data.IndexedDatasetReader(idx, bin_)
    with pytest.raises(
        ValueError, match=r"type should be one of .* \(Lua tables are not supported\)"
    ):
        data.IndexedDatasetWriter(tmp_path / "a.idx", tmp_path / "a.bin", "table")
