"""`jit`: ``jax.jit`` with the XLA options nets compiles its networks under.

Why a wrapper: since jaxlib 0.10, XLA's CPU backend hands convolutions, matrix products and
elementwise chains to YNNPACK fusions by default. On the convolutions CNNs use, XLA's own
Eigen kernels measured faster (a ResNet-18 3x3 convolution, 8x64x56x56: 45 ms with YNNPACK,
28 ms without), so nets keeps YNNPACK for matrix products only; docs/bench.md has the
whole-network figures. The option is a per-compilation one, so nets sets it only on the
functions it compiles itself (a module's compiled ``forward``/``backward``,
`StochasticGradient`'s and the `Engine`'s steps); a user's own ``jax.jit`` keeps XLA's
defaults unless it is built with this `jit`.

* An ``xla_cpu_experimental_ynn_fusion_type`` setting in ``XLA_FLAGS`` wins over nets' choice.
* Inside ``nets.nn.lowering.plain_path()`` `jit` compiles with XLA's defaults, as plain JAX does.
* Other backends (GPU) get no options.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import jax

from .lowering import native_allowed, plain_requested

__all__ = ["jit", "options", "CPU_OPTIONS"]

# XLA debug options nets compiles with on the CPU: YNNPACK keeps the matrix products (Eigen
# took 264 ms where YNNPACK takes 13 on AlexNet's batch-4 classifier) and gives convolutions
# and elementwise chains back to XLA's own emitters and Eigen.
CPU_OPTIONS: dict[str, Any] = {
    "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"
}


def options() -> dict[str, Any]:
    """The compiler options `jit` passes now: nets' CPU options, or none (see the module doc)."""
    return dict(_options(plain_requested(), jax.default_backend(), os.environ.get("XLA_FLAGS", "")))


@functools.lru_cache(maxsize=16)
def _options(plain: bool, backend: str, flags: str) -> tuple:
    if plain or backend != "cpu":
        return ()
    return tuple(sorted((k, v) for k, v in CPU_OPTIONS.items() if k not in flags))


def options_key() -> tuple:
    """`options()` as a hashable value (part of the compile cache's keys)."""
    return _options(plain_requested(), jax.default_backend(), os.environ.get("XLA_FLAGS", ""))


def jit(fun: Callable, **kwargs: Any) -> Callable:
    """``jax.jit(fun, **kwargs)`` compiled with `options()` (read when `jit` is called), and
    traced where convolutions may take oneDNN's kernels (`lowering.native_allowed`)."""

    @functools.wraps(fun)
    def traced(*args: Any, **kw: Any) -> Any:
        with native_allowed():
            return fun(*args, **kw)

    return jax.jit(traced, compiler_options=options() or None, **kwargs)
