"""Data readers as a hostile file would be (issue 18): every truncated, corrupt, lying, huge or
non-regular file ends in a clear error naming the file (and the place, where there is one) and
what was expected; none blocks, and none costs memory the file did not pay for.

Each table row: (case, reader, files written under a fresh folder, error class, words the message
must hold). Files are made here in the real formats (idx, gzip, CIFAR records, pickles, PNG);
``FIFO``, ``DIR``, ``LOOP`` and ``DANGLING`` make a named pipe, a folder, a symbolic link to
itself and a symbolic link to nothing under that name.
"""

import gzip
import io
import os
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from nets import data
from nets.data._pickle import read_pickle
from nets.data.digits import load_digits
from nets.interop import StateDictError
from nets.interop.pth import read_pth
from tests.nets.interop import pth_writer as pw

FIFO, DIR, LOOP, DANGLING = "<fifo>", "<dir>", "<loop>", "<dangling>"

# ------------------------------------------------------------------------------ file makers


def idx(array, type_code=0x08, shape=None):
    """An idx file: magic, big-endian sizes (`shape` may lie), big-endian data."""
    shape = array.shape if shape is None else shape
    dtype = {0x08: ">u1", 0x0C: ">i4"}[type_code]
    head = bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return head + np.asarray(array).astype(dtype).tobytes()


def gz_stream(head, zeros):
    """gzip of `head` followed by `zeros` zero bytes, compressed piece by piece (a small file
    that gunzips to a large one)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(head)
        piece = bytes(1 << 20)
        for _ in range(zeros >> 20):
            f.write(piece)
        f.write(bytes(zeros & ((1 << 20) - 1)))
    return out.getvalue()


def flip(blob, at, bit=0):
    b = bytearray(blob)
    b[at] ^= 1 << bit
    return bytes(b)


IMAGES = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
LABELS = np.array([3, 7])
MNIST = {"t10k-images-idx3-ubyte": idx(IMAGES), "t10k-labels-idx1-ubyte": idx(LABELS)}
GZ_LABELS = gzip.compress(idx(LABELS), mtime=0)


def cifar_records(labels, label_bytes=1):
    pixels = np.random.default_rng(0).bytes(3072)  # photographs gzip about 1.1x, as these
    rows = [bytes([*np.atleast_1d(y)]) + pixels for y in labels]
    assert all(len(r) == label_bytes + 3072 for r in rows)
    return b"".join(rows)


def cifar_pickle(data=None, labels=(1, 2), protocol=2):
    data = np.zeros((len(labels), 3072), np.uint8) if data is None else data
    return pickle.dumps({b"data": data, b"labels": list(labels)}, protocol=protocol)


def frombuffer_pickle(n):
    """numpy's _frombuffer(n, dtype('u1'), (n,), 'C') with an integer n where its bytes go:
    79 bytes that cost 2 GB when n = 2**31 (``bytes(n)``, then a copy; the issue's was 81)."""
    size = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return (
        b"\x80\x02cnumpy.core.numeric\n_frombuffer\n(\x8a"
        + bytes([len(size)])
        + size
        + b"cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R\x8a"
        + bytes([len(size)])
        + size
        + b"\x85U\x01CtR."
    )


def cifar_frombuffer_pickle(n):
    """The same inside a CIFAR batch dict: {'data': _frombuffer(n, ...), 'labels': []} (97
    bytes; the issue's was 108)."""
    array = frombuffer_pickle(n)[2:-1]
    return b"\x80\x02}(U\x04data" + array + b"U\x06labels]u."


def self_list():
    """A list that holds itself: ``]`` MEMOIZE, then GET 0 APPEND."""
    return b"\x80\x04]\x94h\x00a."


def shared_nest(levels):
    """[x, x] nested `levels` deep, each level referencing the one below twice (2**levels paths
    through a file of a few hundred bytes: pickle memoises the shared lists), in a batch dict."""
    x: list = []
    for _ in range(levels):
        x = [x, x]
    return pickle.dumps({"data": x, "labels": []}, protocol=4)


def object_spam(n):
    """A list of `n` empty dicts: one byte of file each, 64 bytes of memory each."""
    return b"\x80\x02](" + b"}" * n + b"e."


def png(width, height, idat=None):
    """A PNG's signature and IHDR (8-bit RGB), an IDAT and IEND, chunks with right CRCs."""

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = idat if idat is not None else zlib.compress(bytes((1 + 3 * width) * height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


GOOD_PNG = png(3, 2)
DIGITS_ROW = ",".join(["3"] * 64) + ",5\n"


def digits_gz(rows):
    return gzip.compress("".join(rows).encode(), mtime=0)


# ------------------------------------------------------------------------------ readers


def mnist(root):
    return data.mnist(root, "test")


def cifar10(root):
    return data.cifar10(root, "test")


def cifar10_python(root):
    return data.cifar10(root, "test", version="python")


def cifar100(root):
    return data.cifar100(root, "test")


def image_folder(root):
    return data.ImageFolder(root)[1]


def digits(root):
    return load_digits(root / "digits.csv.gz")


def pickle_file(root):
    return read_pickle((root / "x.pkl").read_bytes(), str(root / "x.pkl"))


def pth_file(root):
    return read_pth(root / "m.pth")


def pth_zip(pickled, storages, compress=zipfile.ZIP_STORED):
    """A PyTorch zip file: archive/data.pkl and one entry per storage."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        z.writestr("archive/data.pkl", pickled)
        for key, raw in storages.items():
            z.writestr(f"archive/data/{key}", raw)
    return out.getvalue()


def pth_tensor(numel, size, stride):
    """{'w': _rebuild_tensor_v2(<float storage '0' of numel>, 0, size, stride, False, {})}."""
    pid = pw._tuple(
        [pw._str("storage"), pw._global("torch", "FloatStorage"), pw._str("0"), pw._str("cpu")]
        + [pw._int(numel)]
    )
    args = pw._tuple(
        [pid + b"Q", pw._int(0), pw._tuple([pw._int(n) for n in size])]
        + [pw._tuple([pw._int(n) for n in stride]), b"\x89", b"}"]
    )
    call = pw._global("torch._utils", "_rebuild_tensor_v2") + args + b"R"
    return b"\x80\x02}" + pw._str("w") + call + b"s."


BASE = {
    mnist: MNIST,
    cifar10: {"test_batch.bin": cifar_records([1, 2])},
    cifar10_python: {},
    cifar100: {"test.bin": cifar_records([(1, 2), (3, 4)], 2)},
    image_folder: {"cat/0.png": GOOD_PNG, "cat/1.png": GOOD_PNG},
    digits: {},
    pickle_file: {},
    pth_file: {},
}

E = data.DataFileError
L = "t10k-labels-idx1-ubyte"
I = "t10k-images-idx3-ubyte"  # noqa: E741

CASES = [
    # --- MNIST / idx: sizes, magic, gzip
    (
        "mnist: gzip bomb behind a 1x1x1 header",
        mnist,
        {L + ".gz": gz_stream(idx(np.zeros(1), shape=(1, 1, 1)), 16 << 20)},
        E,
        [L + ".gz", "ends here, but the file holds more gunzipped data", "shape (1, 1, 1)"],
    ),
    (
        "mnist: corrupt deflate stream",
        mnist,
        {L + ".gz": flip(gzip.compress(idx(np.arange(3000) % 10), mtime=0), 30, 5)},
        E,
        [L + ".gz", "byte", "corrupt gzip data"],
    ),
    (
        "mnist: gzip CRC wrong",
        mnist,
        {L + ".gz": flip(GZ_LABELS, len(GZ_LABELS) - 6)},
        E,
        [L + ".gz", "corrupt gzip data", "CRC check failed"],
    ),
    (
        "mnist: gzip cut short",
        mnist,
        {L + ".gz": GZ_LABELS[:-9]},
        E,
        [L + ".gz", "corrupt gzip data", "EOFError"],
    ),
    (
        "mnist: garbage after the gzip member",
        mnist,
        {L + ".gz": GZ_LABELS + b"garbage"},
        E,
        [L + ".gz", "corrupt gzip data", "Not a gzipped file"],
    ),
    ("mnist: gzip magic only", mnist, {L + ".gz": b"\x1f\x8b"}, E, [L + ".gz", "corrupt gzip"]),
    (
        "mnist: idx data truncated",
        mnist,
        {I: idx(IMAGES)[:-100]},
        E,
        [I, "byte 16: the idx data", "needs 1568 bytes", "holds 1468 more"],
    ),
    (
        "mnist: bytes after the idx data",
        mnist,
        {L: idx(LABELS) + b"xyz"},
        E,
        [L, "byte 10", "ends here, but the file holds 3 more bytes"],
    ),
    (
        "mnist: wrong magic",
        mnist,
        {L: b"\x08\x01\x00\x00" + idx(LABELS)[4:]},
        E,
        [L, "not an idx file: magic bytes 08010000", "expected 00 00 <type"],
    ),
    ("mnist: empty file", mnist, {L: b""}, E, [L, "not an idx file: magic bytes missing"]),
    (
        "mnist: header cut inside the sizes",
        mnist,
        {I: idx(IMAGES)[:9]},
        E,
        [I, "byte 4: the idx header (3 sizes) needs 12 bytes", "holds 5 more"],
    ),
    (
        "mnist: huge declared sizes in a small plain file",
        mnist,
        {I: idx(IMAGES, shape=(60000, 65535, 65535))},
        E,
        [I, "byte 16: the idx data", f"needs {60000 * 65535 * 65535} bytes", "holds 1568 more"],
    ),
    (
        "mnist: huge declared sizes in a small gzip file",
        mnist,
        {I + ".gz": gzip.compress(idx(IMAGES, shape=(60000, 4096, 4096)), mtime=0)},
        E,
        [
            I + ".gz",
            f"needs {60000 * 4096 * 4096} bytes",
            "is read to at most",
            "32 times its size",
        ],
    ),
    (
        "mnist: sizes whose product wraps int64",
        mnist,
        {I: idx(IMAGES, shape=(2**32 - 1, 2**32 - 1, 2**32 - 1))},
        E,
        [I, f"needs {(2**32 - 1) ** 3} bytes"],
    ),
    (
        "mnist: label 200",
        mnist,
        {L: idx(np.array([3, 200]))},
        E,
        [L, "label 200 at index 1", "expected class indices 0..9"],
    ),
    (
        "mnist: labels of int32",
        mnist,
        {L: idx(LABELS, 0x0C)},
        E,
        [L, "int32 array", "expected unsigned bytes (idx type 08) of shape (N,)"],
    ),
    (
        "mnist: images of two dimensions",
        mnist,
        {I: idx(IMAGES.reshape(2, -1))},
        E,
        [I, "shape (2, 784)", "of shape (N, H, W)"],
    ),
    (
        "mnist: 2 images, 3 labels",
        mnist,
        {L: idx(np.array([1, 2, 3]))},
        E,
        [I, "holds 2 images but", L, "holds 3 labels"],
    ),
    ("mnist: images a folder", mnist, {I: DIR}, E, [I, "is a directory, not a regular file"]),
    ("mnist: labels a FIFO", mnist, {L: FIFO}, E, [L, "is a FIFO (named pipe), not a regular"]),
    ("mnist: a symbolic link loop", mnist, {L: LOOP}, E, [L, "a symbolic link loop"]),
    (
        "mnist: a dangling symbolic link",
        mnist,
        {L: DANGLING},
        FileNotFoundError,
        [L, "is a symbolic link to 'nowhere', which does not exist"],
    ),
    # --- CIFAR, binary version
    (
        "cifar10 binary: cut inside a record",
        cifar10,
        {"test_batch.bin": cifar_records([1, 2])[:-7]},
        E,
        ["test_batch.bin", "6139 bytes is not a whole number of 3073-byte CIFAR records"],
    ),
    (
        "cifar10 binary: empty",
        cifar10,
        {"test_batch.bin": b""},
        E,
        ["test_batch.bin", "0 bytes is not a whole number"],
    ),
    (
        "cifar10 binary: label 12",
        cifar10,
        {"test_batch.bin": cifar_records([1, 12])},
        E,
        ["test_batch.bin", "label 12 at index 1", "expected class indices 0..9"],
    ),
    (
        "cifar100 binary: fine label 100",
        cifar100,
        {"test.bin": cifar_records([(1, 100), (3, 4)], 2)},
        E,
        ["test.bin", "label 100 at index 0", "0..99"],
    ),
    (
        "cifar10 binary: corrupt gzip",
        cifar10,
        {"test_batch.bin": flip(gzip.compress(cifar_records([1, 2]), mtime=0), 40, 6)},
        E,
        ["test_batch.bin", "corrupt gzip data"],
    ),
    (
        "cifar10 binary: 64 MB of records in a 64 KB gzip file",
        cifar10,
        {"test_batch.bin": gz_stream(b"", 3073 * 21840)},
        E,
        ["test_batch.bin", "goes on past", "not decompressed further"],
    ),
    (
        "cifar10 binary: a FIFO",
        cifar10,
        {"test_batch.bin": FIFO},
        E,
        ["test_batch.bin", "is a FIFO (named pipe)"],
    ),
    (
        "cifar10 binary: a folder",
        cifar10,
        {"test_batch.bin": DIR},
        E,
        ["test_batch.bin", "is a directory"],
    ),
    # --- CIFAR, python version (the restricted pickle reader)
    (
        "cifar10 python: 97 bytes whose array data is an integer (2 GB before)",
        cifar10_python,
        {"test_batch": cifar_frombuffer_pickle(2**31)},
        E,
        ["test_batch, byte", "array data is a int, expected the bytes of the array"],
    ),
    (
        "cifar10 python: label 1.7",
        cifar10_python,
        {"test_batch": cifar_pickle(labels=[1, 1.7])},
        E,
        ["test_batch", "'labels'[1] is 1.7 (float); expected integer class indices"],
    ),
    (
        "cifar10 python: label 2**32 + 3",
        cifar10_python,
        {"test_batch": cifar_pickle(labels=[2**32 + 3, 1])},
        E,
        ["test_batch", "'labels' holds 4294967299 at index 0", "expected class indices 0..9"],
    ),
    (
        "cifar10 python: label 2**70",
        cifar10_python,
        {"test_batch": cifar_pickle(labels=[1, 2**70])},
        E,
        ["test_batch", f"holds {2**70} at index 1"],
    ),
    (
        "cifar10 python: label -1",
        cifar10_python,
        {"test_batch": cifar_pickle(labels=[-1, 1])},
        E,
        ["test_batch", "'labels' holds -1 at index 0"],
    ),
    (
        "cifar10 python: label True",
        cifar10_python,
        {"test_batch": cifar_pickle(labels=[1, True])},
        E,
        ["test_batch", "'labels'[1] is True (bool)"],
    ),
    (
        "cifar10 python: array bytes short of the shape",
        cifar10_python,
        {
            "test_batch": cifar_pickle(protocol=4).replace(
                b"B" + struct.pack("<I", 6144) + bytes(6144),
                b"B" + struct.pack("<I", 6143) + bytes(6143),
            )
        },
        E,
        ["test_batch, byte", "array data of 6143 bytes for shape (2, 3072) of uint8 (6144 bytes"],
    ),
    (
        "cifar10 python: names os.system",
        cifar10_python,
        {"test_batch": b"\x80\x02cos\nsystem\nU\x04trueR."},
        E,
        ["test_batch, byte 2", "pickle refers to os.system", "never runs code"],
    ),
    (
        "cifar10 python: a list holding itself",
        cifar10_python,
        {"test_batch": self_list()},
        E,
        ["test_batch", "nests deeper than 100 levels (or a container holds itself)"],
    ),
    (
        "cifar10 python: 2**60 paths through shared lists",
        cifar10_python,
        {"test_batch": shared_nest(60)},
        E,
        ["test_batch", "expected 'data' a uint8 array"],
    ),
    (
        "cifar10 python: 200000 empty dicts",
        cifar10_python,
        {"test_batch": object_spam(200_000)},
        E,
        ["test_batch, byte", "more than 32 times its size); refused"],
    ),
    (
        "cifar10 python: cut in half",
        cifar10_python,
        {"test_batch": cifar_pickle()[:3000]},
        E,
        ["test_batch, byte", "truncated or corrupt pickle"],
    ),
    ("cifar10 python: empty", cifar10_python, {"test_batch": b""}, E, ["test_batch, byte 0"]),
    (
        "cifar10 python: a list, not a dict",
        cifar10_python,
        {"test_batch": pickle.dumps([1, 2])},
        E,
        ["test_batch", "expected a pickled dict, got list"],
    ),
    (
        "pickle: 79 bytes whose array data is an integer (2 GB before)",
        pickle_file,
        {"x.pkl": frombuffer_pickle(2**31)},
        E,
        ["x.pkl, byte", "array data is a int"],
    ),
    (
        "pickle: 8 EiB declared by BINBYTES8",
        pickle_file,
        {"x.pkl": b"\x80\x04\x8e" + struct.pack("<Q", 2**63) + b"abc."},
        E,
        ["x.pkl, byte 2", "truncated or corrupt pickle"],
    ),
    (
        "pickle: an array of shape (2**32, 2**32) from 0 bytes",
        pickle_file,
        {
            "x.pkl": pickle.dumps(np.zeros(0, np.uint8), protocol=4).replace(
                b"K\x01K\x00\x85", b"K\x01" + b"\x8a\x05\x00\x00\x00\x00\x01" * 2 + b"\x86"
            )
        },
        E,
        ["x.pkl, byte", "0 bytes for shape (4294967296, 4294967296)", "18446744073709551616"],
    ),
    # --- PyTorch .pth (the restricted pickle reader, extended)
    (
        "pth: a stride-0 tensor of 2**28 floats over one stored float",
        pth_file,
        {"m.pth": pth_zip(pth_tensor(1, (2**28,), (0,)), {"0": bytes(4)})},
        StateDictError,
        ["m.pth", "tensor of size (268435456,) and stride (0,)", "past twice the file's"],
    ),
    (
        "pth: a deflated storage of 64 MB in 64 KB",
        pth_file,
        {
            "m.pth": pth_zip(
                pth_tensor(1 << 24, (1 << 24,), (1,)), {"0": bytes(1 << 26)}, zipfile.ZIP_DEFLATED
            )
        },
        StateDictError,
        ["m.pth", "storage '0'", "inflate to 67108864, more than 32 times; refused"],
    ),
    ("pth: a FIFO", pth_file, {"m.pth": FIFO}, StateDictError, ["m.pth is a FIFO"]),
    ("pth: a folder", pth_file, {"m.pth": DIR}, StateDictError, ["m.pth is a directory"]),
    # --- ImageFolder (Pillow)
    (
        "ImageFolder: a FIFO named x.png",
        image_folder,
        {"cat/x.png": FIFO},
        E,
        ["cat/x.png is a FIFO (named pipe), not a regular file"],
    ),
    (
        "ImageFolder: a folder named y.png",
        image_folder,
        {"cat/y.png": DIR},
        E,
        ["cat/y.png is a directory"],
    ),
    ("ImageFolder: a link loop", image_folder, {"cat/z.png": LOOP}, E, ["z.png", "link loop"]),
    (
        "ImageFolder: a dangling link",
        image_folder,
        {"cat/z.png": DANGLING},
        FileNotFoundError,
        ["z.png is a symbolic link to 'nowhere'"],
    ),
    (
        "ImageFolder: a 30000 x 30000 PNG of 60 bytes",
        image_folder,
        {"cat/1.png": png(30000, 30000, idat=b"")},
        E,
        ["cannot decode image", "cat/1.png", "DecompressionBombError"],
    ),
    (
        "ImageFolder: a PNG cut short",
        image_folder,
        {"cat/1.png": png(40, 40)[:60]},
        E,
        ["cannot decode image", "cat/1.png"],
    ),
    (
        "ImageFolder: IDAT of random bytes",
        image_folder,
        {"cat/1.png": png(5, 5, idat=bytes(range(40)))},
        E,
        ["cannot decode image", "cat/1.png"],
    ),
    ("ImageFolder: an empty .png", image_folder, {"cat/1.png": b""}, E, ["cat/1.png"]),
    # --- digits (scikit-learn's csv.gz)
    (
        "digits: corrupt gzip",
        digits,
        {"digits.csv.gz": flip(digits_gz([DIGITS_ROW] * 50), 25, 4)},
        E,
        ["digits.csv.gz", "corrupt gzip data"],
    ),
    (
        "digits: label 1.7",
        digits,
        {"digits.csv.gz": digits_gz([DIGITS_ROW, DIGITS_ROW.replace(",5\n", ",1.7\n")])},
        E,
        ["digits.csv.gz, line 2: label 1.7; expected an integer 0..9"],
    ),
    (
        "digits: a NaN pixel",
        digits,
        {"digits.csv.gz": digits_gz([DIGITS_ROW.replace("3", "nan", 1)])},
        E,
        ["digits.csv.gz, line 1: a pixel value outside 0..16 (nan)"],
    ),
    (
        "digits: 64 columns",
        digits,
        {"digits.csv.gz": digits_gz([",".join(["3"] * 64) + "\n"])},
        E,
        ["expected 65 columns", "digits.csv.gz"],
    ),
    (
        "digits: a gzip bomb of text",
        digits,
        {"digits.csv.gz": gz_stream(b"1,", 17 << 20)},
        E,
        ["digits.csv.gz", "gunzipped data goes on past", "not decompressed further"],
    ),
    ("digits: a FIFO", digits, {"digits.csv.gz": FIFO}, E, ["digits.csv.gz is a FIFO"]),
    ("digits: a folder", digits, {"digits.csv.gz": DIR}, E, ["digits.csv.gz is a directory"]),
]


def _write(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        if name.endswith(".gz"):  # a row's `labels.gz` replaces the base set's plain labels
            (root / name[:-3]).unlink(missing_ok=True)
        if content is FIFO:
            os.mkfifo(path)
        elif content is DIR:
            path.mkdir()
        elif content is LOOP:
            os.symlink(path.name, path)
        elif content is DANGLING:
            os.symlink("nowhere", path)
        else:
            path.write_bytes(content)


@pytest.mark.timeout(30)  # a reader that blocks on a FIFO fails here instead of hanging
@pytest.mark.parametrize("case, reader, files, error, words", CASES, ids=[c[0] for c in CASES])
def test_hostile_files_raise_a_clear_error(tmp_path, case, reader, files, error, words):
    _write(tmp_path, BASE[reader])
    _write(tmp_path, files)
    with pytest.raises(error) as info:
        reader(tmp_path)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"


def test_the_base_files_of_the_table_are_read():
    """Each reader reads its table's base files: the rows fail by their one change."""
    import tempfile
    from pathlib import Path

    for reader, files in BASE.items():
        if not files:
            continue
        with tempfile.TemporaryDirectory() as root:
            _write(Path(root), files)
            reader(Path(root))
    with tempfile.TemporaryDirectory() as root:
        _write(Path(root), {"digits.csv.gz": digits_gz([DIGITS_ROW] * 3), "x.pkl": cifar_pickle()})
        x, y = digits(Path(root))
        assert x.shape == (3, 8, 8) and y.tolist() == [5, 5, 5]
        assert pickle_file(Path(root))[b"labels"] == [1, 2]
    with tempfile.TemporaryDirectory() as root:
        _write(Path(root), {L + ".gz": GZ_LABELS, I: idx(IMAGES)})
        assert mnist(Path(root)).targets.tolist() == [3, 7]


# ------------------------------------------------------------------------------ memory


def _peak(fn):
    """The peak of Python and NumPy allocations (NumPy reports its buffers to tracemalloc)
    while `fn` runs, and the error it raised."""
    tracemalloc.start()
    try:
        fn()
    except Exception as error:  # noqa: BLE001 (the caller checks it)
        raised = error
    else:
        raised = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


AMPLIFYING = [
    (
        "mnist .gz bomb, 1x1x1 header",
        mnist,
        {L + ".gz": gz_stream(idx(np.zeros(1), shape=(1, 1, 1)), 32 << 20)},
    ),
    (
        "cifar python, integer array data",
        cifar10_python,
        {"test_batch": cifar_frombuffer_pickle(2**31)},
    ),
    ("pickle, integer array data", pickle_file, {"x.pkl": frombuffer_pickle(2**31)}),
    ("pickle, empty dicts", pickle_file, {"x.pkl": object_spam(200_000)}),
    (
        "mnist .gz, huge declared sizes",
        mnist,
        {I + ".gz": gzip.compress(idx(IMAGES, shape=(60000, 4096, 4096)), mtime=0)},
    ),
    ("cifar binary .gz bomb", cifar10, {"test_batch.bin": gz_stream(b"", 3073 * 10920)}),
    (
        "pth stride-0 tensor",
        pth_file,
        {"m.pth": pth_zip(pth_tensor(1, (2**24,), (0,)), {"0": bytes(4)})},
    ),
    ("digits .gz bomb", digits, {"digits.csv.gz": gz_stream(b"1,", 32 << 20)}),
]


@pytest.mark.parametrize("case, reader, files", AMPLIFYING, ids=[c[0] for c in AMPLIFYING])
def test_a_hostile_file_costs_a_small_multiple_of_its_size(tmp_path, case, reader, files):
    """What the reader allocates while refusing stays under 40 x the file's size + 2 MiB (the
    gzip pieces and the pickle budget's constant); before issue 18 these cost 64 MB to 2 GB."""
    _write(tmp_path, BASE[reader])
    _write(tmp_path, files)
    size = sum((tmp_path / name).stat().st_size for name in files)
    peak, raised = _peak(lambda: reader(tmp_path))
    assert isinstance(raised, (data.DataFileError, StateDictError)), raised
    assert peak < 40 * size + (2 << 20), f"{peak / 1e6:.1f} MB for a {size}-byte file"


# ------------------------------------------------------------------------------ datasets, iterators


def _tensors(n=4):
    return data.TensorDataset(np.zeros((n, 2), np.float32), np.arange(n))


def _broken_folder(root):
    """A folder whose second image is not a PNG: read on the iterator's prefetch thread."""
    _write(root, {"cat/0.png": GOOD_PNG, "cat/1.png": b"\x89PNG\r\n\x1a\nnot really"})
    return data.DatasetIterator(data.ImageFolder(root), 2, prefetch=2)


# (case, call on a fresh folder, error class, words)
INPUTS = [
    (
        "SubsetDataset: index 1.7",
        lambda root: data.SubsetDataset(_tensors(), [0, 1.7]),
        TypeError,
        ["indices must be a 1-D sequence of integers", "float64"],
    ),
    (
        "SubsetDataset: index 4 of 4",
        lambda root: data.SubsetDataset(_tensors(), [4]),
        IndexError,
        ["indices must lie in [0, 4)"],
    ),
    (
        "split: a NaN fraction",
        lambda root: data.split(_tensors(), [float("nan")]),
        ValueError,
        ["fractions must be positive and sum to at most 1, got [nan]"],
    ),
    (
        "split: fractions summing to 1.4",
        lambda root: data.split(_tensors(), [0.7, 0.7]),
        ValueError,
        ["sum to at most 1"],
    ),
    (
        "TensorDataset: 3 inputs, 2 targets",
        lambda root: data.TensorDataset(np.zeros((3, 2)), np.zeros(2)),
        ValueError,
        ["inputs have 3 samples but targets have 2"],
    ),
    ("TensorDataset: index True", lambda root: _tensors()[True], TypeError, ["got True"]),
    ("TensorDataset: index 9 of 4", lambda root: _tensors()[9], IndexError, ["out of range"]),
    (
        "DatasetIterator: batch_size True",
        lambda root: data.DatasetIterator(_tensors(), True),
        ValueError,
        ["batch_size must be an int >= 1, got True"],
    ),
    (
        "DatasetIterator: batch_size 0",
        lambda root: data.DatasetIterator(_tensors(), 0),
        ValueError,
        ["got 0"],
    ),
    (
        "DatasetIterator: prefetch 'a'",
        lambda root: data.DatasetIterator(_tensors(), 2, prefetch="a"),
        ValueError,
        ["prefetch must be an int", "got 'a'"],
    ),
    (
        "DatasetIterator: shard a list",
        lambda root: data.DatasetIterator(_tensors(), 2, shard=[0, 2]),
        ValueError,
        ["shard must be a pair (index, count), got [0, 2]"],
    ),
    (
        "DatasetIterator: shard (2, 2)",
        lambda root: data.DatasetIterator(_tensors(), 2, shard=(2, 2)),
        ValueError,
        ["needs 0 <= index < count"],
    ),
    (
        "DatasetIterator: an empty dataset",
        lambda root: data.DatasetIterator(_tensors(0), 2),
        ValueError,
        ["the dataset is empty"],
    ),
    (
        "DatasetIterator: a corrupt image on the prefetch thread",
        lambda root: next(iter(_broken_folder(root))),
        data.DataFileError,
        ["cannot decode image", "cat/1.png"],
    ),
]


@pytest.mark.parametrize("case, call, error, words", INPUTS, ids=[c[0] for c in INPUTS])
def test_bad_dataset_arguments_raise_a_clear_error(tmp_path, case, call, error, words):
    with pytest.raises(error) as info:
        call(tmp_path)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"


# ------------------------------------------------------------------------------ fuzz


def _fuzz(blob, read, same, seed, count=300, seconds=8.0):
    """Flip one random bit of `blob` `count` times (fixed seed, bounded time): every read
    returns a value equal to the original's or raises DataFileError; nothing else."""
    import random
    import time

    rng = random.Random(seed)
    outcomes = {"same": 0, "different": 0, "refused": 0}
    deadline = time.monotonic() + seconds
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        at = rng.randrange(len(blob))
        try:
            value = read(flip(blob, at, rng.randrange(8)))
        except data.DataFileError:
            outcomes["refused"] += 1
            continue
        outcomes["same" if same(value) else "different"] += 1
    return outcomes


@pytest.mark.parametrize("protocol", [2, 4])
def test_fuzz_bit_flips_over_a_cifar_pickle(protocol):
    """A flipped bit in a CIFAR batch pickle reads as some plain value or DataFileError: never
    another exception, a hang or an allocation beyond the budget. (Pickles carry no checksum,
    so a flip inside the pixel bytes reads as other pixels.)"""
    images = np.arange(2 * 3072).reshape(2, 3072) % 251
    blob = cifar_pickle(data=images.astype(np.uint8), labels=[3, 7], protocol=protocol)
    original = read_pickle(blob)

    def same(value):
        return (
            isinstance(value, dict)
            and value.keys() == original.keys()
            and np.array_equal(value[b"data"], original[b"data"])
            and value[b"labels"] == original[b"labels"]
        )

    outcomes = _fuzz(blob, lambda b: read_pickle(b, "fuzz.pkl"), same, seed=18)
    assert outcomes["refused"] > 0 and sum(outcomes.values()) >= 100, outcomes


def test_fuzz_bit_flips_over_an_idx_gz(tmp_path):
    """A flipped bit in an .idx.gz is refused (gzip's CRC-32 catches every one in the data) or,
    in the gzip header's free fields (time, flags for the OS), reads the same array."""
    blob = gzip.compress(idx(np.arange(300).reshape(3, 10, 10) % 256), mtime=0)
    path = tmp_path / "x.idx.gz"

    def read(b):
        path.write_bytes(b)
        return data.read_idx(path)

    want = np.arange(300).reshape(3, 10, 10) % 256
    outcomes = _fuzz(blob, read, lambda v: np.array_equal(v, want), seed=18)
    assert outcomes["different"] == 0, outcomes
    assert outcomes["refused"] > 0 and sum(outcomes.values()) >= 100, outcomes
