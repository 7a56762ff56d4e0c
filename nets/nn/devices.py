"""Devices by name: what ``module.to('gpu:1')``, ``cuda()`` and ``cpu()`` resolve."""

from __future__ import annotations

from typing import Any

import jax

from .._errors import DeviceError


def resolve_device(device: Any) -> jax.Device:
    """A jax.Device for `device`: a jax.Device, or 'cpu', 'gpu', 'cuda', 'gpu:1', 'cuda:0'."""
    if isinstance(device, jax.Device):
        return device
    name = str(device).lower()
    platform, _, index = name.partition(":")
    if platform == "cuda":
        platform = "gpu"
    try:
        devices = jax.devices(platform)
    except RuntimeError:
        devices = []
    idx = int(index) if index else 0
    if idx >= len(devices):
        seen = ", ".join(str(d) for d in jax.devices())
        raise DeviceError(
            f"cannot move to {device!r}: JAX sees no such device (it sees: {seen}). "
            "Install the CUDA build of JAX (pip install 'trepl[cuda]') on a machine with a GPU."
        )
    return devices[idx]
