"""Multi-host training: start JAX's distributed runtime from arguments or the environment.

Every process calls ``initialize(coordinator, num_processes, process_id)`` before building the
engine; process 0 hosts the coordinator. Afterwards ``jax.devices()`` lists every process's
devices, a ``DataParallel`` mesh spans them all, and each process feeds its own shard of the data
(``DatasetIterator(shard=(process_id, num_processes))``). The collectives are JAX's (gloo on CPU,
NCCL on GPU); there is no home-made parameter server.
"""

from __future__ import annotations

import os

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
    if jax.default_backend() == "cpu":
        # cross-process collectives on CPU need gloo (the default 'none' cannot all-reduce)
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator_address=values["coordinator"],
            num_processes=values["num_processes"],
            process_id=values["process_id"],
            initialization_timeout=timeout,
        )
    except Exception as error:  # XLA reports a timeout as a generic runtime error
        text = str(error)
        if "DEADLINE_EXCEEDED" in text or "timed out" in text.lower() or "Timeout" in text:
            raise CoordinatorTimeoutError(
                f"distributed.initialize: no coordinator answered at {values['coordinator']} "
                f"within {timeout} s (process {values['process_id']} of "
                f"{values['num_processes']}); check that process 0 is running and that the "
                "address and port are reachable"
            ) from error
        raise
    return jax.process_index(), jax.process_count()
