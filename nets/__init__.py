"""nets: a Torch7-style neural-network library on JAX.

``nn`` (layers, containers, criterions, the StochasticGradient trainer), ``optim`` (Torch7's
optimisers on optax), ``models`` (the classic CNN zoo), ``data`` (data sets and iterators),
``summary`` (per-layer tables without compute), ``save``/``load`` (checkpoints without pickle),
``manual_seed`` and ``shape_only`` (build networks with shapes and no numbers). Submodules other
than ``nn`` load on first use.
"""

import importlib as _importlib

from . import nn as nn
from ._random import manual_seed as manual_seed
from ._random import shape_only as shape_only

# Bound eagerly: importing the submodule later would otherwise rebind `nets.summary` to it.
from .summary import summary as summary

_LAZY = {
    "optim": "nets.optim",
    "models": "nets.models",
    "data": "nets.data",
    "engine": "nets.engine",
    "interop": "nets.interop",
}
_LAZY_ATTRS = {
    "save": ("nets.serialization", "save"),
    "load": ("nets.serialization", "load"),
    "CheckpointError": ("nets.serialization", "CheckpointError"),
    "export": ("nets.interop", "export"),
    "export_onnx": ("nets.interop", "export_onnx"),
    "load_exported": ("nets.interop", "load_exported"),
    "load_state_dict": ("nets.interop", "load_state_dict"),
    "save_safetensors": ("nets.interop", "save_safetensors"),
    "load_t7": ("nets.interop.t7", "load_t7"),
    "save_t7": ("nets.interop.t7", "save_t7"),
}


def __getattr__(name):
    if name in _LAZY:
        return _importlib.import_module(_LAZY[name])
    if name in _LAZY_ATTRS:
        module, attr = _LAZY_ATTRS[name]
        return getattr(_importlib.import_module(module), attr)
    raise AttributeError(f"module 'nets' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY, *_LAZY_ATTRS])
