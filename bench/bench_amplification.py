"""Peak memory of the readers on files that claim more than they hold (issue 18, item 10).

    python bench/bench_amplification.py                       # this checkout
    python bench/bench_amplification.py --code /work/main     # another checkout, to compare
    python bench/bench_amplification.py --case pickle-int-buf --case mnist-gz-bomb

Each case's files are written once into a temporary folder (by this checkout's code); each
reading runs in a fresh child process with ``PYTHONPATH`` set to the checkout under test, which
reports its resident set before the read and its peak during it (``VmRSS``, then ``VmHWM``
after resetting it through ``/proc/self/clear_refs``; Linux), the time, and how the read ended.
The figure that matters is the growth of the peak over the file's size: a reader that costs
what the file holds stays at a small multiple of it.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def _gz_stream(head: bytes, zeros: int) -> bytes:
    """gzip (level 9) of `head` and `zeros` zero bytes, compressed piece by piece."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(head)
        piece = bytes(1 << 20)
        for _ in range(zeros >> 20):
            f.write(piece)
        f.write(bytes(zeros & ((1 << 20) - 1)))
    return out.getvalue()


def _idx(shape, payload: bytes) -> bytes:
    import struct

    return bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def _frombuffer_pickle(n: int) -> bytes:
    """numpy's _frombuffer with the integer `n` where its bytes go (``bytes(n)`` before)."""
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


def _stride0_pth(numel: int = 1 << 28) -> bytes:
    """A PyTorch zip whose tensor 'w' has `numel` float32 elements of stride 0 over a storage
    of one float (1 GB once copied out)."""
    import struct
    import zipfile

    def text(s: str) -> bytes:
        return b"X" + struct.pack("<I", len(s)) + s.encode()

    def long(n: int) -> bytes:
        return b"\x8a\x08" + struct.pack("<q", n)

    pid = b"(" + text("storage") + b"ctorch\nFloatStorage\n" + text("0") + text("cpu")
    pid += long(1) + b"tQ"
    args = b"(" + pid + long(0) + b"(" + long(numel) + b"t(" + long(0) + b"t\x89}t"
    pickled = b"\x80\x02}" + text("w") + b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"Rs."
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/data/0", bytes(4))
    return out.getvalue()


def _checkpoint(path: Path, refs: int = 400, size: int = 1 << 20) -> None:
    """A checkpoint whose one float32 array of `size` values is the value of `refs` attributes."""
    import json as json_
    import struct

    import numpy as np

    import nets
    from nets import nn
    from nets import serialization as ser

    nets.save(path, nn.Identity())
    blob = path.read_bytes()
    (n,) = struct.unpack("<I", blob[8:12])
    header = json_.loads(blob[16 : 16 + n])
    table, blobs = ser._array_table({"attr:.0": np.arange(size, dtype=np.float32)})
    header["arrays"] = table
    header["module"]["attrs"] = {f"a{i}": [{"array": "attr:.0"}] for i in range(refs)}
    ser._write(path, header, table, blobs)


def _write_cases(root: Path) -> dict[str, tuple[str, Path]]:
    """case -> (the reading, as Python source over `path`, the file read)."""

    cases = {}
    folder = root / "mnist-gz-bomb"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(_gz_stream(_idx((1, 1, 1), b"\0"), 1 << 30))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx((1,), b"\3"))
    cases["mnist-gz-bomb"] = (
        "data.mnist(path.parent, 'test')",
        folder / "t10k-images-idx3-ubyte.gz",
    )

    (root / "x.pkl").write_bytes(_frombuffer_pickle(2**31))
    cases["pickle-int-buf"] = ("read_pickle(path.read_bytes(), str(path))", root / "x.pkl")

    folder = root / "cifar-python"
    folder.mkdir()
    array = _frombuffer_pickle(2**31)[2:-1]
    (folder / "test_batch").write_bytes(b"\x80\x02}(U\x04data" + array + b"U\x06labels]u.")
    cases["cifar-python-int-buf"] = (
        "data.cifar10(path.parent, 'test', version='python')",
        folder / "test_batch",
    )

    (root / "dicts.pkl").write_bytes(b"\x80\x02](" + b"}" * (1 << 20) + b"e.")
    cases["pickle-1MB-empty-dicts"] = (
        "read_pickle(path.read_bytes(), str(path))",
        root / "dicts.pkl",
    )

    folder = root / "cifar-binary"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(_gz_stream(b"", 3073 * 32768))  # 100 MB of records
    cases["cifar-binary-gz-bomb"] = ("data.cifar10(path.parent, 'test')", folder / "test_batch.bin")

    row = ("0," * 64 + "0\n").encode()
    text = row * ((32 << 20) // len(row))
    (root / "digits.csv.gz").write_bytes(gzip.compress(text, 9, mtime=0))
    cases["digits-gz-bomb"] = ("load_digits(path)", root / "digits.csv.gz")

    (root / "stride0.pth").write_bytes(_stride0_pth())
    cases["pth-stride-0-tensor"] = ("read_pth(path)", root / "stride0.pth")

    _checkpoint(root / "amp.nets")
    cases["checkpoint-400-refs"] = ("nets.load(path)", root / "amp.nets")
    return cases


CHILD = """
import json, sys, time
from pathlib import Path
import jax.numpy as jnp
import nets
from nets import data
from nets.data._pickle import read_pickle
from nets.data.digits import load_digits
from nets.interop.pth import read_pth
jnp.zeros(1).block_until_ready()
path = Path(sys.argv[1])

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM, the peak, to the resident set now
start = time.perf_counter()
try:
    {reading}
    outcome = "loaded"
except Exception as error:
    outcome = type(error).__name__ + ": " + str(error)[:160]
seconds = time.perf_counter() - start
result = {{"before_kb": before, "after_kb": status("VmHWM"), "seconds": seconds}}
print(json.dumps({{**result, "outcome": outcome}}))
"""


def measure(code: Path, reading: str, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(reading=reading), str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=600,
    )
    if out.returncode:
        return {"outcome": f"child exited {out.returncode}: {out.stderr[-200:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", action="append", type=Path, help="checkout(s) to measure")
    parser.add_argument("--case", action="append", help="only these cases")
    args = parser.parse_args()
    codes = args.code or [ROOT]
    with tempfile.TemporaryDirectory() as tmp:
        cases = _write_cases(Path(tmp))
        print(
            f"{'case':26s} {'file':>10s}  {'code':12s} {'peak growth':>12s} {'x file':>8s} "
            f"{'seconds':>8s}  outcome"
        )
        for name, (reading, path) in cases.items():
            if args.case and name not in args.case:
                continue
            size = path.stat().st_size
            for code in codes:
                r = measure(code, reading, path)
                grown = (r["after_kb"] - r["before_kb"]) * 1024 if "after_kb" in r else float("nan")
                print(
                    f"{name:26s} {size:10d}  {code.name[:12]:12s} {grown / 1e6:9.1f} MB "
                    f"{grown / size:8.1f} {r.get('seconds', float('nan')):8.2f}  "
                    f"{r['outcome'][:90]}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
