"""Build a zoo network with shape-only arrays: structure, shapes and counts, no memory.

VGG-16's 138M parameters take seconds to draw and half a gigabyte (twice, with gradients) to
hold; `nets.summary` and parameter counts need only their shapes. `abstract` runs the builder
inside ``jax.eval_shape``, with the initialisers of `nets._random` answering zeros there, so
every parameter is an abstract value (a tracer: shape and dtype, no data). The result can be
summarised, counted and given to ``jax.eval_shape(net.call, ...)`` with ShapeDtypeStruct
parameters; it cannot run forward, since it holds no numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from nets import _random
from nets.nn import module

from ._registry import get


@contextlib.contextmanager
def _shape_only_init() -> Iterator[None]:
    # WORKAROUND: nets has no shape-only construction mode; swap the two initialisers of
    # nets._random and the Module's gradient-zeros helper for the duration of the build (all
    # are called as module attributes) with versions that make tracers. Not thread-safe.
    saved = _random.uniform, _random.normal, module._zeros_like

    def zeros(a: float, b: float, shape: Any, dtype: Any = np.float32) -> jax.Array:
        return jnp.zeros(tuple(shape), dtype)

    def zeros_like(value: Any) -> jax.Array:
        return jnp.zeros(value.shape, value.dtype)

    _random.uniform, _random.normal, module._zeros_like = zeros, zeros, zeros_like
    try:
        yield
    finally:
        _random.uniform, _random.normal, module._zeros_like = saved


def abstract(name: str | Callable[..., Any], **kw: Any) -> Any:
    """``get(name, **kw)`` with abstract (shape-only) parameters; for summaries and counting.

    `name` may also be a builder, e.g. ``abstract(models.vgg, config='C')``.

    Example:
        >>> from nets import models, summary
        >>> summary(models.abstract('vgg16'), (3, 224, 224), quiet=True).params
        138357544
    """
    built = {}

    def build() -> jax.Array:
        with _shape_only_init():
            built["net"] = name(**kw) if callable(name) else get(name, **kw)
        return jnp.zeros(())

    jax.eval_shape(build)
    return built["net"]
