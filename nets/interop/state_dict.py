"""A network's arrays as a flat, named state dict: safetensors files and dicts of arrays.

The names are those of ``net.split()``: ``'0.weight'``, ``'3.1.running_mean'``, the path of the
module and the array's name. ``load_state_dict`` checks the whole source against the network
before it writes anything: every missing, unexpected and wrongly shaped name is listed in one
error, and nothing is loaded partially unless ``strict=False``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import StateDictError


def save_safetensors(net: Any, path: str | os.PathLike) -> None:
    """save_safetensors(net, path): the network's parameters and buffers, by their `split`
    names, in the safetensors format (readable by PyTorch, JAX and anything with the
    safetensors library)."""
    from safetensors.flax import save

    from .._atomic import write_atomically

    params, buffers = net.split()
    arrays = {**params, **buffers}
    blob = save(arrays, metadata={"format": "nets", "class": type(net).__qualname__})
    write_atomically(Path(path), lambda f: f.write(blob))


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file, by name (NumPy arrays; bfloat16 through ml_dtypes)."""
    from safetensors import SafetensorError
    from safetensors.flax import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_state_dict: no file at {path}")
    try:
        return {k: np.asarray(v) for k, v in load_file(str(path)).items()}
    except SafetensorError as error:
        raise StateDictError(
            f"load_state_dict: {path} is not a readable safetensors file: {error}"
        ) from None


def load_state_dict(
    net: Any, source: Mapping[str, Any] | str | os.PathLike, strict: bool = True
) -> dict[str, list[str]]:
    """load_state_dict(net, source[, strict]): write the arrays of `source` into `net`.

    Args:
        net: an ``nn.Module``.
        source: a dict of arrays by `split` name, or the path of a ``.safetensors`` or
            ``.pth`` file of one.
        strict: refuse any mismatch (the default); with False, load the names that fit and
            report the rest.

    Returns:
        ``{'missing': [...], 'unexpected': [...], 'mismatched': [...]}``: all empty when strict.

    Raises:
        StateDictError: listing every missing, unexpected and wrongly shaped name (strict), or
            naming a file that is not a state dict.
    """
    if isinstance(source, (str, os.PathLike)):
        where = str(source)
        if Path(source).suffix in (".pth", ".pt"):
            from .pth import read_pth

            state = read_pth(source)
            if not isinstance(state, dict):
                raise StateDictError(f"load_state_dict: {where} holds no state dict")
            arrays = {str(k): np.asarray(v) for k, v in state.items()}
        else:
            arrays = read_safetensors(source)
    else:
        where = "the given dict"
        arrays = {str(k): np.asarray(v) for k, v in source.items()}
    params, buffers = net.split()
    expected = {**params, **buffers}
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    mismatched = sorted(
        f"{k}: the network has {tuple(expected[k].shape)} {expected[k].dtype}, "
        f"the source {tuple(arrays[k].shape)} {arrays[k].dtype}"
        for k in set(arrays) & set(expected)
        if tuple(arrays[k].shape) != tuple(expected[k].shape)
    )
    report = {"missing": missing, "unexpected": unexpected, "mismatched": mismatched}
    if strict and (missing or unexpected or mismatched):
        lines = [f"load_state_dict: {where} does not fit {net._describe()}; nothing was loaded"]
        for label, items in report.items():
            if items:
                lines.append(f"  {label} ({len(items)}): " + "; ".join(items))
        raise StateDictError("\n".join(lines))
    bad = {m.split(":")[0] for m in mismatched}
    fits = {k: v for k, v in arrays.items() if k in expected and k not in bad}
    net.merge(
        {k: v.astype(expected[k].dtype) for k, v in fits.items() if k in params},
        {k: v.astype(expected[k].dtype) for k, v in fits.items() if k in buffers},
    )
    return report
