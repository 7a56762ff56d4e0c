"""`jit`: ``jax.jit`` with the XLA options nets compiles its networks under.

Why a wrapper: since jaxlib 0.10, XLA's CPU backend hands convolutions, matrix products and
elementwise chains to YNNPACK fusions by default. On the shapes CNNs use, XLA's own kernels
measured faster: in one run of ``python -m bench`` on the 2-core machine, turning the fusions
off took nets' LeNet-5 training step from 31 to 21 ms and ResNet-18 inference from 14 to
about 20 images/s (docs/bench.md has the figures). The option is a per-compilation one, so nets
sets it only on the functions it compiles itself (a module's compiled ``forward``/``backward``,
`StochasticGradient`'s and the `Engine`'s steps); a user's own ``jax.jit`` keeps XLA's
defaults unless it is built with this `jit`.

* An ``xla_cpu_experimental_ynn_fusion_type`` setting in ``XLA_FLAGS`` wins over nets' choice.
* Inside ``nets.nn.lowering.plain_path()`` `jit` compiles with XLA's defaults, as plain JAX does.
* Other backends (GPU) get no options.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax

from .lowering import plain_requested

__all__ = ["jit", "options", "CPU_OPTIONS"]

# XLA debug options nets compiles with on the CPU. An empty fusion-type list turns every
# YNNPACK fusion off, so convolutions and dots use XLA's Eigen kernels.
CPU_OPTIONS: dict[str, Any] = {"xla_cpu_experimental_ynn_fusion_type": ""}


def options() -> dict[str, Any]:
    """The compiler options `jit` passes now: nets' CPU options, or none (see the module doc)."""
    if plain_requested() or jax.default_backend() != "cpu":
        return {}
    flags = os.environ.get("XLA_FLAGS", "")
    return {k: v for k, v in CPU_OPTIONS.items() if k not in flags}


def jit(fun: Callable, **kwargs: Any) -> Callable:
    """``jax.jit(fun, **kwargs)`` compiled with `options()` (read when `jit` is called)."""
    return jax.jit(fun, compiler_options=options() or None, **kwargs)
