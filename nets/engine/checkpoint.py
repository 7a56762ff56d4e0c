"""Engine-level checkpoints: network, optimizer state, epoch and step in one nets checkpoint file.

The optimizer state (an optax pytree) is stored as its list of leaves; on resume the tree
structure comes from ``tx.init(params)`` of the same optimizer, and every leaf's shape and dtype
is checked against it, so a checkpoint from another optimizer or network is refused clearly.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..nn.module import Module
from ..serialization import CheckpointError, read_checkpoint, write_checkpoint


def save_training(
    path: str | os.PathLike, network: Module, opt_state: Any, meta: dict[str, Any]
) -> None:
    """Write `network` (its arrays must be current), the optimizer leaves and `meta`, atomically."""
    leaves = jax.tree.leaves(jax.device_get(opt_state))
    arrays = {f"opt/{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
    write_checkpoint(path, network, arrays, {**meta, "opt_leaves": len(leaves)})


def load_training(
    path: str | os.PathLike, network: Module, opt_state_like: Any
) -> tuple[dict, dict, Any, dict]:
    """``(params, buffers, opt_state, meta)`` from `path`, checked against `network`."""
    ck = read_checkpoint(path, classes={_name(m): type(m) for m in network.listModules()})
    params, buffers = ck.module.split()
    want_p, want_b = network.split()
    for got, want, kind in ((params, want_p, "parameters"), (buffers, want_b, "buffers")):
        if list(got) != list(want) or any(got[k].shape != want[k].shape for k in want):
            raise CheckpointError(
                f"resume: {path} holds {kind} {_shapes(got)}, the network has {_shapes(want)}"
            )
    like, treedef = jax.tree.flatten(opt_state_like)
    n = ck.meta.get("opt_leaves")
    leaves = [ck.arrays.get(f"opt/{i}") for i in range(n or 0)]
    if n != len(like) or any(
        a is None or a.shape != jnp.shape(b) or a.dtype != jnp.result_type(b)
        for a, b in zip(leaves, like, strict=True)
    ):
        raise CheckpointError(
            f"resume: the optimizer state in {path} ({n} arrays) does not match this optimizer "
            f"({len(like)} arrays); was it saved with another optimizer or config?"
        )
    opt_state = jax.tree.unflatten(treedef, [jnp.asarray(a) for a in leaves])
    return params, buffers, opt_state, ck.meta


def _name(module: Module) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def _shapes(tree: dict) -> str:
    return "{" + ", ".join(f"{k}: {tuple(v.shape)}" for k, v in tree.items()) + "}"
