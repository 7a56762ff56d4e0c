"""The one random stream behind `nets.manual_seed`, and the shape-only construction mode.

Initialisation draws from a NumPy generator: it is fast for many small layers and needs no
compilation. Dropout and other in-graph randomness take JAX keys, handed out one per call by
`next_key()` and passed into compiled code as arguments, so a new key never forces a retrace.

Inside ``with shape_only():`` (`nets.shape_only`) the initialisers draw nothing: `uniform` and
`normal` return ``jax.ShapeDtypeStruct`` values, and `nets.nn` stores those as the arrays of the
modules being built. A network built that way has its structure, shapes and parameter counts,
and no numbers: `nets.summary`, ``jax.eval_shape(net.forward, spec)`` and checkpoint loading
(which writes the real arrays afterwards) use it. VGG-16 builds in milliseconds instead of
drawing 138M numbers.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from ._switch import Switch

_state: dict = {}


_SHAPE_ONLY = Switch()


def shape_only() -> contextlib.AbstractContextManager[None]:
    """Build modules without drawing or allocating their arrays (see the module docstring).

    Example:
        >>> with nets.shape_only():
        ...     net = nets.models.vgg16()
        >>> net.modules[0].weight
        ShapeDtypeStruct(shape=(64, 3, 3, 3), dtype=float32)
    """
    return _SHAPE_ONLY.set(True)


def is_shape_only() -> bool:
    """Whether the calling thread is inside ``shape_only()``: initialisers consult it."""
    return _SHAPE_ONLY.on()


def _abstract(shape, dtype):
    import jax

    return jax.ShapeDtypeStruct(tuple(int(d) for d in shape), np.dtype(dtype))


def manual_seed(seed: int) -> None:
    """Make construction (parameter initialisation) and dropout reproducible from `seed`."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
    _state["seed"] = int(seed)
    _state["rng"] = np.random.default_rng(int(seed))
    _state["keys"] = 0


def initial_seed() -> int:
    """The seed of the current stream (chosen at random at import unless `manual_seed` set it)."""
    _ensure()
    return _state["seed"]


def _ensure() -> None:
    if "rng" not in _state:
        manual_seed(int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF)


def generator() -> np.random.Generator:
    """The NumPy generator used for parameter initialisation."""
    _ensure()
    return _state["rng"]


def uniform(low: float, high: float, shape, dtype=np.float32):
    """A JAX array of uniform samples in [low, high) from the global stream (no compilation)."""
    import jax

    if is_shape_only():
        return _abstract(shape, dtype)

    return jax.device_put(generator().uniform(low, high, size=tuple(shape)).astype(dtype))


def normal(mean: float, std: float, shape, dtype=np.float32):
    """A JAX array of normal samples, drawn from the global stream."""
    import jax

    if is_shape_only():
        return _abstract(shape, dtype)

    return jax.device_put(generator().normal(mean, std, size=tuple(shape)).astype(dtype))


def next_key_data() -> np.ndarray:
    """Raw data (uint32[2]) for a fresh threefry key from the global stream.

    Compiled code takes this as an argument and wraps it with ``jax.random.wrap_key_data``:
    making it costs no JAX dispatch, which matters on the per-call path of ``forward``.
    """
    _ensure()
    _state["keys"] += 1
    return np.array([_state["seed"], _state["keys"]], dtype=np.uint32)


def next_key():
    """A fresh JAX PRNG key from the global stream (for dropout and the like)."""
    import jax

    return jax.random.wrap_key_data(next_key_data(), impl="threefry2x32")
