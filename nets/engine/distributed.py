"""Multi-host training: start JAX's distributed runtime from arguments or the environment.

Every process calls ``initialize(coordinator, num_processes, process_id)`` before building the
engine; process 0 hosts the coordinator. Afterwards ``jax.devices()`` lists every process's
devices, a ``DataParallel`` mesh spans them all, and each process feeds its own shard of the data
(``DatasetIterator(shard=(process_id, num_processes))``). The collectives are JAX's (gloo on CPU,
NCCL on GPU); there is no home-made parameter server.
"""

from __future__ import annotations

import os
import socket
import time

import jax

ENV = {
    "coordinator": "NETS_COORDINATOR",
    "num_processes": "NETS_NUM_PROCESSES",
    "process_id": "NETS_PROCESS_ID",
}


class CoordinatorTimeoutError(RuntimeError):
    """The coordinator could not be reached (or not all processes joined) in time."""


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    timeout: int = 60,
) -> tuple[int, int]:
    """initialize([coordinator][, num_processes][, process_id][, timeout]) -> (id, count).

    Missing arguments come from ``NETS_COORDINATOR`` (``host:port``), ``NETS_NUM_PROCESSES``
    and ``NETS_PROCESS_ID``.

    Raises:
        ValueError: an argument missing from both the call and the environment.
        CoordinatorTimeoutError: nothing answered at `coordinator` within `timeout` seconds.
    """
    values = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    for name, env in ENV.items():
        if values[name] is None:
            if env not in os.environ:
                raise ValueError(
                    f"distributed.initialize: {name} not given and ${env} not set; pass "
                    f"{name}=... or set {env}"
                )
            raw = os.environ[env]
            values[name] = raw if name == "coordinator" else int(raw)
    if values["process_id"] != 0:
        # JAX aborts the whole process when its own connection attempt times out, so first
        # wait for the coordinator's port here, where a timeout can be a Python exception.
        _wait_for(values["coordinator"], timeout, values["process_id"], values["num_processes"])
    # cross-process collectives on CPU need gloo (the default cannot all-reduce across
    # processes); GPUs use NCCL regardless. Must be set before any backend starts.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=values["coordinator"],
        num_processes=values["num_processes"],
        process_id=values["process_id"],
        initialization_timeout=timeout,
    )
    return jax.process_index(), jax.process_count()


def _wait_for(address: str, timeout: float, process_id: int, num_processes: int) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"distributed.initialize: coordinator must be host:port, got {address!r}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise CoordinatorTimeoutError(
                    f"distributed.initialize: no coordinator answered at {address} within "
                    f"{timeout} s (process {process_id} of {num_processes}); check that process "
                    f"0 is running and that the address and port are reachable ({error})"
                ) from None
            time.sleep(0.2)
