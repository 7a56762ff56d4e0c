"""A restricted pickle reader: plain data and NumPy arrays only, never code.

CIFAR's "python version" is a pickled dict of bytes, lists, ints, strings and one uint8 ndarray.
``pickle.load`` would import and call whatever the file names, so instead this module walks the
opcodes with ``pickletools.genops`` on its own small stack machine. The only callables a file may
name are NumPy's array and dtype reconstructors and ``_codecs.encode`` (which Python 3 uses to
pickle bytes at protocol 2); each is interpreted here, not imported or called. Any other opcode or
global is an error naming it, and every error names the file and the byte offset of the opcode
it stopped at.

Python 2's cPickle (which wrote CIFAR's files) stores ``str`` as byte strings, so dict keys and
NumPy's dtype descriptors arrive as ``b'data'`` and ``b'u1'``; both spellings are accepted.
"""

from __future__ import annotations

import io
import math
import pickletools
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Extensions:
    """More that one kind of file may hold, interpreted by the caller's own functions.

    ``calls``: ``{(module, name): fn}``; a REDUCE of that global gives ``fn(*args)``, never an
    import. ``persistent_load``: what a BINPERSID (an object stored outside the pickle, such as
    PyTorch's storages) stands for, from its id. `nets.interop.pth` reads PyTorch's files so.
    """

    calls: Mapping[tuple[str, str], Callable[..., Any]] = field(default_factory=dict)
    persistent_load: Callable[[Any], Any] | None = None
    # BUILD on a value that is not a NumPy array or dtype: ``build(value, state) -> value``
    build: Callable[[Any, Any], Any] | None = None


_PLAIN = Extensions()


class _RefusedError(Exception):
    """Why a stream is refused; ``read_pickle`` adds the file and the byte offset."""


class _Global:
    def __init__(self, module: str, name: str):
        self.key = (module, name)


class _Array:
    """An ndarray under construction: _reconstruct gives it, BUILD fills it."""


class _Mark:
    pass


_MARK = _Mark()


def _text(value: Any) -> Any:
    """A Python 2 ``str`` (bytes here) as text; anything else unchanged."""
    return value.decode("latin1") if isinstance(value, bytes) else value


def _dtype(descr: Any) -> np.dtype:
    descr = _text(descr)
    if not isinstance(descr, str) or not _DTYPE_CODE.match(descr):
        raise _RefusedError(f"unsupported array dtype {descr!r} in pickle")
    return np.dtype(descr)


def _reduce(func: Any, args: Any, ext: Extensions) -> Any:
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise _RefusedError("pickle calls something that is not an allowed global")
    if func.key in ext.calls:
        return ext.calls[func.key](*args)
    if func.key == ("_codecs", "encode"):
        text, encoding = args
        if encoding != "latin1":
            raise _RefusedError(f"unsupported bytes encoding {encoding!r} in pickle")
        return text.encode("latin1")
    if func.key == ("numpy", "dtype"):
        return _dtype(args[0])
    if func.key in _ARRAY_RECONSTRUCT:
        return _Array()
    if func.key in _FROMBUFFER:
        buf, dtype, shape, order = args
        if not isinstance(dtype, np.dtype):
            raise _RefusedError(f"array of dtype {dtype!r}, expected a NumPy dtype")
        if not isinstance(buf, (bytes, bytearray)):
            # bytes(n) of an integer would allocate n bytes the file never held
            raise _RefusedError(
                f"array data is a {type(buf).__name__}, expected the bytes of the array"
            )
        _check_size(shape, dtype, len(buf))
        if _text(order) not in ("C", "F"):
            raise _RefusedError(f"array order {order!r}, expected 'C' or 'F'")
        return np.frombuffer(buf, dtype).reshape(shape, order=_text(order)).copy()
    raise _RefusedError(f"pickle calls {'.'.join(func.key)}, which is not allowed")


def _build(obj: Any, state: Any) -> Any:
    if isinstance(obj, np.dtype):
        # state = (version, byte order, subarray, names, fields, elsize, alignment, flags)
        order = _text(state[1])
        return obj.newbyteorder(order) if order in ("<", ">") else obj
    if isinstance(obj, _Array):
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, np.dtype):
            raise _RefusedError(f"array of dtype {dtype!r}, expected a NumPy dtype")
        if isinstance(raw, str):  # Python 2 `str` data, pickled by Python 3 as text
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes):
            raise _RefusedError(
                f"array data is a {type(raw).__name__}, expected the bytes of the array"
            )
        _check_size(shape, dtype, len(raw))
        return np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C").copy()
    raise _RefusedError(f"pickle sets the state of {type(obj).__name__}, not allowed")


def _check_size(shape: Any, dtype: np.dtype, size: int) -> None:
    """Refuse a shape that is not a tuple of sizes, or whose bytes are not the `size` given."""
    if not isinstance(shape, tuple) or not all(
        type(n) is int and n >= 0
        for n in shape  # bool is no size
    ):
        raise _RefusedError(f"array shape {shape!r:.80}, expected a tuple of sizes")
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
    if size != expected:
        raise _RefusedError(
            f"array data of {size} bytes for shape {shape} of {dtype} ({expected} bytes expected)"
        )


def _pop_mark(stack: list) -> list:
    for k in range(len(stack) - 1, -1, -1):
        if stack[k] is _MARK:
            items = stack[k + 1 :]
            del stack[k:]
            return items
    raise _RefusedError("malformed pickle: MARK expected on the stack")


_DONE = object()


MAX_DEPTH = 100


def _check_plain(value: Any, depth: int = 0, checked: set | None = None) -> None:
    """Refuse a result that still holds a reader placeholder (a global never called, an array
    never filled, a stray MARK), or nests deeper than `MAX_DEPTH` (a container holding itself
    does). Each container is walked once, however often it is referenced."""
    checked = set() if checked is None else checked
    if isinstance(value, (_Global, _Array, _Mark)):
        raise _RefusedError(
            f"malformed pickle: an unfinished {type(value).__name__.strip('_')} in the data"
        )
    if not isinstance(value, (dict, list, tuple)) or id(value) in checked:
        return
    if depth >= MAX_DEPTH:
        raise _RefusedError(
            f"the data nests deeper than {MAX_DEPTH} levels (or a container holds itself)"
        )
    items = [x for kv in value.items() for x in kv] if isinstance(value, dict) else value
    for item in items:
        _check_plain(item, depth + 1, checked)
    checked.add(id(value))


# objects an opcode makes from the file's bytes: their size counts against the budget
_FRESH = {
    "EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "BININT", "BININT1", "BININT2", "LONG1", "LONG4",
    "BINFLOAT", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BINSTRING", "SHORT_BINSTRING",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "TUPLE", "TUPLE1", "TUPLE2",
    "TUPLE3", "LIST", "DICT",
}  # fmt: skip
# opcodes that move items into a container or the memo: a slot or an entry each
_FILLS = {"APPEND", "APPENDS", "SETITEM", "SETITEMS"}
_MEMO = {"BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"}
# what the objects a pickle builds may cost, as a multiple of its size (plus a constant):
# CIFAR's batches cost about 3x (the pixel bytes, then the array made of them)
BUDGET_RATIO = 32
BUDGET_EXTRA = 1 << 20


def _cost(name: str, stack: list, before: int) -> int:
    """Bytes an opcode's objects take, roughly: their size, a slot per moved item."""
    if name in _FRESH:
        return sys.getsizeof(stack[-1]) + 8
    if name in _FILLS:
        return 48 * max(before - len(stack), 1)  # a dict entry; a list slot is less
    if name in _MEMO:
        return 64
    return 8


def read_pickle(data: bytes, source: str = "<bytes>", extensions: Extensions = _PLAIN) -> Any:
    """The plain-data value pickled in `data`: dict, list, tuple, str, bytes, int, float, ndarray.

    Python 2 ``str`` values come back as ``bytes`` (as ``pickle.load(..., encoding='bytes')``).

    Raises:
        DataFileError: an opcode or global outside that set, or a truncated/corrupt stream;
            the message names `source` and the byte offset of the opcode it stopped at.
    """
    stream = io.BytesIO(data)
    ops = pickletools.genops(stream)
    stack: list = []
    memo: dict = {}
    budget, spent = BUDGET_RATIO * len(data) + BUDGET_EXTRA, 0
    while True:
        offset = stream.tell()
        try:
            opcode, arg, offset = next(ops)
        except StopIteration:
            break
        except ValueError as error:  # genops: a short read, an unknown opcode, bad text
            raise DataFileError(
                f"{source}, byte {offset}: truncated or corrupt pickle ({error}); the file "
                f"holds {len(data)} bytes"
            ) from error
        before = len(stack)
        try:
            value = _step(opcode.name, arg, stack, memo, extensions)
        except _RefusedError as error:
            raise DataFileError(f"{source}, byte {offset}: {error}") from None
        except (ValueError, IndexError, KeyError, TypeError, AttributeError) as error:
            raise DataFileError(
                f"{source}, byte {offset}: corrupt pickle: opcode {opcode.name} failed "
                f"({type(error).__name__}: {error})"
            ) from error
        if value is not _DONE:
            return value
        spent += _cost(opcode.name, stack, before)
        if spent > budget:
            raise DataFileError(
                f"{source}, byte {offset}: the pickle builds objects of more than {spent} bytes "
                f"from {len(data)} bytes (more than {BUDGET_RATIO} times its size); refused"
            )
    raise DataFileError(f"{source}, byte {len(data)}: truncated pickle (no STOP opcode)")


def _step(name: str, arg: Any, stack: list, memo: dict, ext: Extensions) -> Any:
    """Interpret one opcode on `stack`; the finished value at STOP, else ``_DONE``."""
    if name in ("PROTO", "FRAME"):
        return _DONE
    if name == "STOP":
        if len(stack) != 1:
            raise _RefusedError(f"malformed pickle: {len(stack)} values on the stack at STOP")
        _check_plain(stack[0])
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
        if len(stack) < n:
            raise _RefusedError(f"malformed pickle: {name} needs {n} values on the stack")
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
        if (module, attr) not in _ALLOWED and (module, attr) not in ext.calls:
            raise _RefusedError(
                f"pickle refers to {module}.{attr}; only plain data and NumPy arrays are read "
                "(loading a data file never runs code)"
            )
        stack.append(_Global(module, attr))
    elif name == "REDUCE":
        args = stack.pop()
        stack.append(_reduce(stack.pop(), args, ext))
    elif name == "BINPERSID" and ext.persistent_load is not None:
        stack.append(ext.persistent_load(stack.pop()))
    elif name == "BUILD":
        state = stack.pop()
        obj = stack.pop()
        if ext.build is not None and not isinstance(obj, (np.dtype, _Array)):
            stack.append(ext.build(obj, state))
        else:
            stack.append(_build(obj, state))
    else:
        raise _RefusedError(
            f"unsupported pickle opcode {name}; only dicts, lists, strings, numbers and NumPy "
            "arrays are read"
        )
    return _DONE
