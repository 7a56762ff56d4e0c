"""A restricted pickle reader: plain data and NumPy arrays only, never code.

CIFAR's "python version" is a pickled dict of bytes, lists, ints, strings and one uint8 ndarray.
``pickle.load`` would import and call whatever the file names, so instead this module walks the
opcodes with ``pickletools.genops`` on its own small stack machine. The only callables a file may
name are NumPy's array and dtype reconstructors and ``_codecs.encode`` (which Python 3 uses to
pickle bytes at protocol 2); each is interpreted here, not imported or called. Any other opcode or
global is an error naming it.
"""

from __future__ import annotations

import io
import pickletools
import re
from typing import Any

import numpy as np

from ._files import DataFileError

_ARRAY_RECONSTRUCT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
_FROMBUFFER = {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}
_ALLOWED = (
    _ARRAY_RECONSTRUCT
    | _FROMBUFFER
    | {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }
)
_DTYPE_CODE = re.compile(r"^(b1|[iu][1248]|f[248]|[SU]\d+)$")


class _Global:
    def __init__(self, module: str, name: str):
        self.key = (module, name)


class _Array:
    """An ndarray under construction: _reconstruct gives it, BUILD fills it."""


class _Mark:
    pass


_MARK = _Mark()


def _dtype(descr: Any, source: str) -> np.dtype:
    if not isinstance(descr, str) or not _DTYPE_CODE.match(descr):
        raise DataFileError(f"{source}: unsupported array dtype {descr!r} in pickle")
    return np.dtype(descr)


def _reduce(func: Any, args: Any, source: str) -> Any:
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise DataFileError(f"{source}: pickle calls something that is not an allowed global")
    if func.key == ("_codecs", "encode"):
        text, encoding = args
        if encoding != "latin1":
            raise DataFileError(f"{source}: unsupported bytes encoding {encoding!r} in pickle")
        return text.encode("latin1")
    if func.key == ("numpy", "dtype"):
        return _dtype(args[0], source)
    if func.key in _ARRAY_RECONSTRUCT:
        return _Array()
    if func.key in _FROMBUFFER:
        buf, dtype, shape, order = args
        return np.frombuffer(bytes(buf), dtype).reshape(shape, order=order).copy()
    raise DataFileError(f"{source}: pickle calls {'.'.join(func.key)}, which is not allowed")


def _build(obj: Any, state: Any, source: str) -> Any:
    if isinstance(obj, np.dtype):
        # state = (version, byte order, subarray, names, fields, elsize, alignment, flags)
        order = state[1]
        return obj.newbyteorder(order) if order in "<>" else obj
    if isinstance(obj, _Array):
        _, shape, dtype, fortran, raw = state
        if isinstance(raw, str):  # Python 2 `str` data
            raw = raw.encode("latin1")
        count = int(np.prod(shape, dtype=np.int64))
        if len(raw) != count * dtype.itemsize:
            raise DataFileError(f"{source}: array data of {len(raw)} bytes for shape {shape}")
        return np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C").copy()
    raise DataFileError(f"{source}: pickle sets the state of {type(obj).__name__}, not allowed")


def _pop_mark(stack: list) -> list:
    for k in range(len(stack) - 1, -1, -1):
        if stack[k] is _MARK:
            items = stack[k + 1 :]
            del stack[k:]
            return items
    raise DataFileError("pickle: MARK expected on the stack")


def read_pickle(data: bytes, source: str = "<bytes>") -> Any:
    """The plain-data value pickled in `data`: dict, list, tuple, str, bytes, int, float, ndarray.

    Python 2 ``str`` values come back as ``bytes`` (as ``pickle.load(..., encoding='bytes')``).

    Raises:
        DataFileError: an opcode or global outside that set, or a truncated/corrupt stream.
    """
    stack: list = []
    memo: dict = {}
    try:
        for opcode, arg, pos in pickletools.genops(io.BytesIO(data)):
            name = opcode.name
            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                if len(stack) != 1:
                    raise DataFileError(f"{source}: malformed pickle (stack at STOP)")
                return stack[0]
            if name == "MARK":
                stack.append(_MARK)
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name in ("BININT", "BININT1", "BININT2", "LONG1", "LONG4", "BINFLOAT"):
                stack.append(arg)
            elif name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"):
                stack.append(arg)
            elif name in ("BINSTRING", "SHORT_BINSTRING"):  # Python 2 str: raw bytes
                stack.append(arg.encode("latin1") if isinstance(arg, str) else bytes(arg))
            elif name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
                stack.append(bytes(arg))
            elif name == "TUPLE":
                stack.append(tuple(_pop_mark(stack)))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "LIST":
                stack.append(_pop_mark(stack))
            elif name == "DICT":
                items = _pop_mark(stack)
                stack.append(dict(zip(items[::2], items[1::2], strict=True)))
            elif name == "APPEND":
                value = stack.pop()
                stack[-1].append(value)
            elif name == "APPENDS":
                items = _pop_mark(stack)
                stack[-1].extend(items)
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                stack[-1][key] = value
            elif name == "SETITEMS":
                items = _pop_mark(stack)
                stack[-1].update(zip(items[::2], items[1::2], strict=True))
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                stack.append(memo[arg])
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, attr = arg.partition(" ")
                else:
                    attr, module = stack.pop(), stack.pop()
                if (module, attr) not in _ALLOWED:
                    raise DataFileError(
                        f"{source}: pickle refers to {module}.{attr}; only plain data and NumPy "
                        "arrays are read (loading a data file never runs code)"
                    )
                stack.append(_Global(module, attr))
            elif name == "REDUCE":
                args = stack.pop()
                stack.append(_reduce(stack.pop(), args, source))
            elif name == "BUILD":
                state = stack.pop()
                stack.append(_build(stack.pop(), state, source))
            else:
                raise DataFileError(
                    f"{source}: unsupported pickle opcode {name} at byte {pos}; only dicts, "
                    "lists, strings, numbers and NumPy arrays are read"
                )
    except DataFileError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as error:
        raise DataFileError(f"{source}: truncated or corrupt pickle ({error})") from error
    raise DataFileError(f"{source}: truncated pickle (no STOP opcode)")
