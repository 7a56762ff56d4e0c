"""Module-level closures for ParallelDatasetIterator's worker processes (they must be picklable),
and the script that tests/nets/data/test_parallel.py interrupts with a real SIGINT."""

import os
import sys
import time

import numpy as np

from nets import data


def squares(worker):
    """Sample i is (i^2, the pid of the worker that read it)."""
    return data.ListDataset(range(10), lambda i: (np.array([i * i]), os.getpid()))


def failing(worker):
    def load(i):
        if i == 3:
            raise ValueError("sample 3 is corrupt")
        return np.array([i]), i

    return data.ListDataset(range(5), load)


def broken(worker):
    raise OSError("no such archive")


def slow(worker):
    def load(i):
        time.sleep(0.05)
        return np.array([i]), i

    return data.ListDataset(range(1000), load)


def _running(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited


if __name__ == "__main__":  # read forever, until Ctrl-C
    pids = []
    try:
        with data.ParallelDatasetIterator(slow, 2) as it:
            pids = [p.pid for p in it._workers]
            print("workers", *pids, flush=True)
            for epoch in range(100):
                for k, _ in enumerate(it):
                    if epoch == 0 and k == 0:
                        print("reading", flush=True)
    except KeyboardInterrupt:
        alive = [p for p in pids if os.path.exists(f"/proc/{p}") and _running(p)]
        print("interrupted, workers left:", len(alive), flush=True)
        sys.exit(0)
