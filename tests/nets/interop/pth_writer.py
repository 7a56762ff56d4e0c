"""A byte-exact writer of PyTorch's zip format for tests (torch itself is not needed).

It writes what ``torch.save(state_dict, f)`` writes: ``archive/data.pkl`` (protocol 2, an
``OrderedDict`` of ``torch._utils._rebuild_tensor_v2`` calls on persistent storage ids) and one
raw little-endian entry ``archive/data/<key>`` per storage.
"""

from __future__ import annotations

import struct
import zipfile

import numpy as np

KINDS = {
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.int64): "LongStorage",
    np.dtype(np.float16): "HalfStorage",
    np.dtype(np.float64): "DoubleStorage",
}


def _str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw  # BINUNICODE


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)  # BININT


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"  # MARK ... TUPLE


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def pickle_state_dict(arrays: dict[str, np.ndarray], extra_global: tuple | None = None) -> bytes:
    out = [b"\x80\x02", _global("collections", "OrderedDict"), b")R", b"("]
    for key, (name, a) in enumerate(arrays.items()):
        pid = _tuple(
            [
                _str("storage"),
                _global("torch", KINDS[a.dtype]),
                _str(str(key)),
                _str("cpu"),
                _int(a.size),
            ]
        )
        size = _tuple([_int(d) for d in a.shape])
        stride = _tuple([_int(s // a.itemsize) for s in a.strides])
        args = _tuple(
            [
                pid + b"Q",
                _int(0),
                size,
                stride,
                b"\x89",
                _global("collections", "OrderedDict") + b")R",
            ]
        )
        out += [_str(name), _global("torch._utils", "_rebuild_tensor_v2"), args, b"R"]
    if extra_global is not None:  # a hostile call, as one more value of the dict
        out += [_str("x"), _global(*extra_global), _tuple([_str("echo hacked")]), b"R"]
    out.append(b"u.")  # SETITEMS, STOP
    return b"".join(out)


def write_pth(
    path, arrays: dict[str, np.ndarray], extra_global: tuple | None = None, sizes_off: bool = False
) -> None:
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle_state_dict(arrays, extra_global))
        z.writestr("archive/byteorder", "little")
        for key, a in enumerate(arrays.values()):
            raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
            z.writestr(f"archive/data/{key}", raw[:-4] if sizes_off else raw)
        z.writestr("archive/version", "3\n")
