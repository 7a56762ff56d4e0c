"""Data-parallel training over several processes (hosts) with jax.distributed.

Start one process per host (here: two on this machine), each with its id::

    python examples/train_distributed.py --coordinator 127.0.0.1:12355 --num-processes 2 \\
        --process-id 0 &
    python examples/train_distributed.py --coordinator 127.0.0.1:12355 --num-processes 2 \\
        --process-id 1

(or set NETS_COORDINATOR, NETS_NUM_PROCESSES, NETS_PROCESS_ID; ``th`` runs it the same way).
Without a coordinator it trains in this one process on all local devices. Every process reads
its own part of each global batch; the gradients are all-reduced by XLA across all devices of
all processes, so every process ends with the same parameters. Process 0 prints the accuracy and
can save the network (``--save``).
"""

from __future__ import annotations

import argparse
import os

import jax
import numpy as np

import nets
from nets import data, nn
from nets.engine import ClassErrorMeter, Engine, initialize


def network() -> nn.Sequential:
    """A small MLP for the 8x8 digits (fast to compile in every process)."""
    net = nn.Sequential().add(nn.View(64)).add(nn.Linear(64, 64)).add(nn.Tanh())
    return net.add(nn.Linear(64, 10)).add(nn.LogSoftMax())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coordinator", default=None, help="host:port of process 0")
    parser.add_argument("--num-processes", type=int, default=None)
    parser.add_argument("--process-id", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--timeout", type=int, default=60, help="seconds to wait for peers")
    parser.add_argument("--save", default=None, help="write the trained network here (process 0)")
    args = parser.parse_args(argv)

    if args.coordinator or "NETS_COORDINATOR" in os.environ:
        initialize(args.coordinator, args.num_processes, args.process_id, timeout=args.timeout)
    rank, size = jax.process_index(), jax.process_count()

    nets.manual_seed(0)  # the same initial parameters in every process
    train = data.digits("train")
    it = data.DatasetIterator(
        train, args.batch_size, shuffle=True, seed=0, drop_last=True, shard=(rank, size)
    )
    net = network()
    engine = Engine(data_parallel=True, seed=0)
    config = {"learningRate": 0.1, "momentum": 0.9, "dampening": 0}
    state = engine.train(net, it, nn.ClassNLLCriterion(), "sgd", config, args.epochs)

    error = ClassErrorMeter()
    test = data.digits("test")
    out, _ = net.call(*net.split(), jax.numpy.asarray(test.inputs), train=False)
    error.add(np.asarray(out), test.targets)
    if rank == 0:
        print(
            f"{size} process(es), {jax.device_count()} devices: loss {state['loss']:.4f}, "
            f"test accuracy {100 - error.value(1):.2f}%",
            flush=True,
        )
        if args.save:
            nets.save(args.save, net)
    return state


if __name__ == "__main__":
    main()
