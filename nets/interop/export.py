"""A network's forward pass as serialized StableHLO (``jax.export``), and back.

The file holds the compiled program's StableHLO and its calling convention, no Python: it runs
wherever JAX runs (another machine, another version within StableHLO's compatibility window),
without nets or the model's code. The parameters are constants inside it, and the input shape
is the example's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from .._atomic import write_atomically
from .._errors import NetsError

# What an exported file starts with, so that a wrong file is named as such before JAX reads it.
MAGIC = b"NETSHLO1"


class ExportError(NetsError, ValueError):
    """A network that cannot be exported, or a file that is not an export of one."""


def export(net: Any, example_input: Any, path: str | os.PathLike) -> None:
    """export(net, example_input, path): write ``net.forward`` for inputs shaped like
    `example_input` as serialized StableHLO (see the module docstring).

    The network is exported in the mode it is in (``net.evaluate()`` first for inference).

    Example:
        >>> net = nets.models.get("lenet5").evaluate()
        >>> nets.interop.export(net, jnp.zeros((8, 3, 32, 32)), "lenet.shlo")
        >>> run = nets.interop.load_exported("lenet.shlo")
        >>> run(x).shape
        (8, 10)
    """
    shape = np.shape(example_input)
    dtype = getattr(example_input, "dtype", np.float32)
    spec = jax.ShapeDtypeStruct(shape, dtype)
    try:
        exported = jax.export.export(jax.jit(net.forward))(spec)
    except NetsError:
        raise
    except Exception as error:
        raise ExportError(
            f"export: {type(net).__name__} could not be exported for input {shape} {dtype}: "
            f"{type(error).__name__}: {error}"
        ) from error
    blob = bytes(exported.serialize())
    write_atomically(Path(path), lambda f: f.write(MAGIC + blob))


def export_onnx(net: Any, example_input: Any, path: str | os.PathLike) -> None:
    """export_onnx(net, example_input, path): write ``net.forward`` for inputs shaped like
    `example_input` as an ONNX model, through jax2onnx (``pip install 'trepl[onnx]'``).

    The network is traced as nets runs it on the CPU (ONNX's MaxPool takes no window over the
    batch and channel axes, which the plain ``lax`` pooling has); its parameters become the
    model's initialisers.
    """
    try:
        from jax2onnx import to_onnx
    except ImportError:
        raise ExportError(
            "export_onnx needs jax2onnx: pip install 'trepl[onnx]' (or pip install jax2onnx)"
        ) from None
    shape = tuple(int(d) for d in np.shape(example_input))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial.onnx")
    try:
        to_onnx(lambda x: net.forward(x), [shape], return_mode="file", output_path=str(tmp))
        os.replace(tmp, path)
    except NetsError:
        raise
    except Exception as error:
        raise ExportError(
            f"export_onnx: {type(net).__name__} could not be converted for input {shape}: "
            f"{type(error).__name__}: {error}"
        ) from error
    finally:
        if tmp.exists():
            tmp.unlink()


def load_exported(path: str | os.PathLike) -> Callable[..., Any]:
    """The function a file written by `export` holds: ``run(x) -> output``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_exported: no file at {path}")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise ExportError(
            f"load_exported: {path} is not a network exported by nets.interop.export (it starts "
            f"with {data[:8]!r}, expected {MAGIC!r})"
        )
    try:
        exported = jax.export.deserialize(bytearray(data[len(MAGIC) :]))
    except Exception as error:
        raise ExportError(
            f"load_exported: {path} is damaged: {type(error).__name__}: {error}"
        ) from error
    return exported.call
