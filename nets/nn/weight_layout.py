"""Convolution weights handed to compiled inference in the layout XLA's CPU convolutions read.

XLA's CPU convolutions (Eigen's) read their kernel as (kH, kW, nIn, nOut), "HWIO"; Torch's and
nets' weights are (nOut, nIn, kH, kW), so every compiled call transposes every weight first,
into temporaries allocated afresh at each call: for ResNet-18, 45 MB, 24-38 ms of XLA's slow
transposes and 11,000 page faults per call. In evaluate mode the weights do not change from one
``forward`` to the next, so the compile layer (`nets.nn.compiled`, for ``Module.forward`` and
the Engine's test) keeps an HWIO copy of each weight that XLA's convolution (or the im2col
product) reads, made once and reused while the weight array stays the same object, and hands
the compiled function that copy. The compiled function turns it back into the (nOut, nIn, kH,
kW) value the modules see: a transpose that XLA folds into the convolution's own, so none is
left in the program. ResNet-18's inference at 224x224, batch 8: 0.88-0.92 of the time
(docs/bench.md has the measurements). Training is not changed: there the weights are new at
every step.

Everything the user sees stays Torch-shaped: ``module.weight``, ``split()``, checkpoints and
gradients are (nOut, nIn, kH, kW); only the argument of one compiled call differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax.numpy as jnp

from . import lowering
from .state import PARAM
from .structure import Tree, tree

if TYPE_CHECKING:
    from .module import Module

# (nOut, nIn, kH, kW) -> (kH, kW, nIn, nOut), and back.
TO_HWIO = (2, 3, 1, 0)
FROM_HWIO = (3, 2, 0, 1)


def hwio_paths(root: Module, params: dict, t: Tree | None = None) -> frozenset[str]:
    """Keys of `params` (``root.split()[0]``) that compiled inference takes as HWIO: the
    parameters a layer names in its ``conv_weights`` (those it hands the convolution, with its
    ``groups``), where the convolution's lowering reads them that way (`lowering.reads_hwio`)."""
    t = t or tree(root)
    candidates = t.memo.get("conv_weights")
    if candidates is None:
        keys = {id(box): key for key, box in t.boxes[PARAM].items()}
        candidates = [
            (keys[id(m._vars[name])], getattr(m, "groups", 1))
            for m in t.modules
            for name in type(m).conv_weights
            if name in m._vars and id(m._vars[name]) in keys
        ]
        t.memo["conv_weights"] = candidates
    paths = set()
    for key, groups in candidates:
        value = params.get(key)
        if getattr(value, "ndim", 0) == 4 and lowering.reads_hwio(tuple(value.shape), groups):
            paths.add(key)
    return frozenset(paths)


def prepare(params: dict, paths: frozenset[str], cache: dict) -> dict:
    """`params` with the arrays at `paths` in HWIO, each transposed once per weight array.

    `cache` maps a key to ``(source array, HWIO copy)``; an entry is reused while the
    parameter is still the same array object (jax arrays never change in place).
    """
    if not paths:
        return params
    fed = dict(params)
    for key in paths:
        source = params[key]
        if getattr(source, "ndim", 0) != 4:  # not a convolution weight any more: pass it as is
            continue
        hit = cache.get(key)
        if hit is None or hit[0] is not source:
            hit = (source, jnp.transpose(source, TO_HWIO))
            cache[key] = hit
        fed[key] = hit[1]
    for stale in set(cache) - paths:
        del cache[stale]
    return fed


def restore(params: dict, paths: frozenset[str]) -> dict:
    """Inside the compiled function: the HWIO arrays at `paths` as (nOut, nIn, kH, kW) again."""
    if not paths:
        return params
    return {
        k: jnp.transpose(v, FROM_HWIO) if k in paths and v.ndim == 4 else v
        for k, v in params.items()
    }
