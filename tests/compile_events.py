"""Counting compilations through JAX's own compile events (`jax.monitoring`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax

# The event JAX records once per program compiled by XLA (jax._src.dispatch names it).
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def compilations() -> Iterator[list[str]]:
    """Within the block, the names of the functions XLA compiles, e.g. ``'jit(forward_vjp)'``.

    Small eager ops compile too (``'jit(broadcast_in_dim)'`` for a new shape); `named` picks
    the ones of interest.
    """
    names: list[str] = []

    def listener(event: str, duration: float, **kwargs) -> None:
        if event == BACKEND_COMPILE_EVENT:
            names.append(str(kwargs.get("fun_name", "?")))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def named(names: list[str], *functions: str) -> list[str]:
    """The entries of `names` that compile one of `functions` (``'forward_vjp'``, ...)."""
    wanted = {f"jit({f})" for f in functions}
    return [n for n in names if n in wanted]
