"""Build a zoo network with shape-only arrays: structure, shapes and counts, no memory.

VGG-16's 138M parameters take seconds to draw and half a gigabyte (twice, with gradients) to
hold; `nets.summary` and parameter counts need only their shapes. `abstract` runs the builder
under ``nets.shape_only()``, so every array is a ``jax.ShapeDtypeStruct``. The result can be
summarised, counted, described, and run under ``jax.eval_shape(net.forward, spec)``; it cannot
run forward outside that, since it holds no numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nets import _random

from ._registry import get


def abstract(name: str | Callable[..., Any], **kw: Any) -> Any:
    """``get(name, **kw)`` with abstract (shape-only) parameters; for summaries and counting.

    `name` may also be a builder, e.g. ``abstract(models.vgg, config='C')``.

    Example:
        >>> from nets import models, summary
        >>> summary(models.abstract('vgg16'), (3, 224, 224), quiet=True).params
        138357544
    """
    with _random.shape_only():
        return name(**kw) if callable(name) else get(name, **kw)
