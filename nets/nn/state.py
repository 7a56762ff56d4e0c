"""The arrays a module holds: boxes, and the conversions into them.

A module keeps each parameter, gradient and buffer in a `Box` registered by name. ``share()``
makes two modules hold the same box, so shared weights stay shared everywhere, compiled code
included. Values are ``jax.Array`` (NumPy input is copied to the device without compiling
anything), or ``jax.ShapeDtypeStruct`` for a network built under ``nets.shape_only()``.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from .. import _random

# The three kinds of box: trained, derived from the trained (Torch's grad*), kept by the module.
PARAM, GRAD, BUFFER = "param", "grad", "buffer"

# Torch7's default parameter fields: an array assigned to one of them is a parameter, with its
# gradient in grad<Name> (Module:parameters() returns {weight, bias}, {gradWeight, gradBias}).
TORCH_PARAMETERS = ("weight", "bias")


class Box:
    """A mutable cell holding one array of one kind; shared between modules by `share()`."""

    __slots__ = ("value", "kind")

    def __init__(self, value: Any, kind: str):
        self.value = value
        self.kind = kind

    def __repr__(self) -> str:
        return f"Box({self.kind}, {getattr(self.value, 'shape', None)})"


def grad_name(param: str) -> str:
    """Torch7's name for a parameter's gradient: weight -> gradWeight, bias -> gradBias."""
    return "grad" + param[0].upper() + param[1:]


def param_of_grad(name: str) -> str | None:
    """The parameter whose gradient `name` is (gradWeight -> weight), or None."""
    if name.startswith("grad") and len(name) > 4 and name[4].isupper():
        return name[4].lower() + name[5:]
    return None


def is_array(value: Any) -> bool:
    """An array a module stores: jax, NumPy, or shape-only. (Tracers are jax.Arrays too.)"""
    return isinstance(value, (jax.Array, np.ndarray, jax.ShapeDtypeStruct))


def is_abstract(value: Any) -> bool:
    """A shape-only value: shape and dtype, no numbers."""
    return isinstance(value, jax.ShapeDtypeStruct)


def is_tracer(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)


def contains_tracer(value: Any) -> bool:
    """Whether `value` is, or holds (in lists, tuples, dicts), a JAX tracer."""
    if isinstance(value, jax.core.Tracer):
        return True
    if isinstance(value, (list, tuple, dict)):
        return any(is_tracer(v) for v in jax.tree_util.tree_leaves(value))
    return False


def to_array(value: Any) -> Any:
    """A jax.Array for `value` (array, NumPy array, scalar or nested list), without compiling.

    ``jnp.asarray`` on a NumPy array compiles a small program per new shape in current JAX;
    ``jax.device_put`` only copies, with the same dtype rules (float64 -> float32 unless x64).
    Under ``nets.shape_only()`` a NumPy value becomes a ShapeDtypeStruct (nothing is copied).
    """
    if isinstance(value, (jax.Array, jax.ShapeDtypeStruct)):
        return value
    value = np.asarray(value)
    if _random.is_shape_only():
        return jax.ShapeDtypeStruct(value.shape, jax.dtypes.canonicalize_dtype(value.dtype))
    return jax.device_put(value)


def zeros_like(value: Any) -> Any:
    """Zeros of value's shape, dtype and device, made on the host: no compilation per shape.

    (``jnp.zeros_like`` compiles a small program for every new shape, which made building a
    ResNet cost dozens of compilations.) A shape-only value gets a shape-only gradient.
    """
    if is_abstract(value) or _random.is_shape_only():
        return jax.ShapeDtypeStruct(value.shape, value.dtype)
    zeros = np.zeros(value.shape, value.dtype)
    devices = value.devices() if isinstance(value, jax.Array) and not is_tracer(value) else None
    if devices and len(devices) == 1:
        return jax.device_put(zeros, next(iter(devices)))
    return jax.device_put(zeros)


_EMPTY: list = []


def empty() -> jax.Array:
    """One shared empty float32 array: Torch7's fresh ``torch.Tensor()``."""
    if not _EMPTY:
        _EMPTY.append(jax.device_put(np.zeros((0,), np.float32)))
    return _EMPTY[0]


def as_input(x: Any) -> Any:
    """A module's input as arrays: NumPy arrays and numbers become jax.Arrays, tables lists."""
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        return to_array(x)
    if isinstance(x, (list, tuple)):
        return [as_input(v) for v in x]
    return x
