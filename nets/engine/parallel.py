"""Data parallelism through ``jax.sharding``: one mesh axis over the batch.

Parameters and optimizer state are replicated on every device; each batch is split along its
first axis. XLA then runs the compiled step on every device and inserts the gradient all-reduce
itself: nothing here reduces by hand. With several processes (``distributed.initialize``) the
mesh spans every process's devices and each process supplies its own part of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "batch"


class DataParallel:
    """DataParallel([devices]): place arrays for data-parallel training over `devices`.

    Args:
        devices: the devices to use: None or 'all' for every device JAX sees (across processes
            after ``jax.distributed`` is initialised), or a list of ``jax.Device``.
    """

    def __init__(self, devices: Sequence[jax.Device] | str | None = None):
        if devices is None or devices == "all":
            devices = jax.devices()
        self.devices = list(devices)
        if not self.devices:
            raise ValueError("DataParallel: no devices given")
        self.mesh = Mesh(np.array(self.devices), (AXIS,))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.batch_sharding = NamedSharding(self.mesh, PartitionSpec(AXIS))
        self.process_count = jax.process_count()

    @property
    def size(self) -> int:
        return len(self.devices)

    def replicate(self, tree: Any) -> Any:
        """Put every array of `tree` on every device."""
        return jax.device_put(tree, self.replicated)

    def batch(self, local: np.ndarray) -> jax.Array:
        """This process's part of a batch -> one global array split over the batch axis.

        A batch that does not divide evenly over the devices (an epoch's short last batch) is
        replicated instead: still correct, just not split.
        """
        local = np.asarray(local)
        global_n = local.shape[0] * self.process_count
        if global_n % self.size:
            if self.process_count > 1:
                raise ValueError(
                    f"DataParallel: a global batch of {global_n} samples does not split over "
                    f"{self.size} devices in {self.process_count} processes; use drop_last=True "
                    "or a batch size divisible by the device count"
                )
            return jax.device_put(local, self.replicated)
        if self.process_count == 1:
            return jax.device_put(local, self.batch_sharding)
        return jax.make_array_from_process_local_data(self.batch_sharding, local)
