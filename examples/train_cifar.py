"""Train the seed's CIFAR-10 network (LeNet-style) on the CIFAR-10 files, with augmentation.

Download the binary or python version from https://www.cs.toronto.edu/~kriz/cifar.html, unpack
it, and pass the folder::

    th examples/train_cifar.py ~/data/cifar-10-batches-bin --epochs 10
    python examples/train_cifar.py ~/data/cifar-10-batches-py --checkpoint cifar.nets

Training uses random 32x32 crops of the 4-pixel-padded images, horizontal flips and per-channel
normalisation; a text log and a JSON-lines log record every epoch, and with ``--checkpoint`` an
interrupted run (Ctrl-C) resumes where it stopped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nets
from nets import data, nn
from nets.engine import AverageValueMeter, ClassErrorMeter, Engine, JSONLog, TextLog

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def seed_network() -> nn.Sequential:
    """The seed's CIFAR-10 network, as written there (3x32x32 -> 10 log-probabilities)."""
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(3, 6, 5, 5)).add(nn.ReLU())  # 6 x 28 x 28
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))  # 6 x 14 x 14
    net.add(nn.SpatialConvolution(6, 16, 5, 5)).add(nn.ReLU())  # 16 x 10 x 10
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))  # 16 x 5 x 5
    net.add(nn.View(16 * 5 * 5))
    net.add(nn.Linear(16 * 5 * 5, 120)).add(nn.ReLU())
    net.add(nn.Linear(120, 84)).add(nn.ReLU())
    net.add(nn.Linear(84, 10)).add(nn.LogSoftMax())
    return net


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="the unpacked cifar-10-batches-bin or cifar-10-batches-py")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--checkpoint", default=None, help="resume from / save to this file")
    parser.add_argument("--log", default="cifar", help="write <log>.log and <log>.jsonl")
    parser.add_argument("--data-parallel", action="store_true", help="use every local device")
    args = parser.parse_args(argv)

    root = Path(args.root).expanduser()
    train = data.cifar10(root, "train")  # binary or python version, told by the files present
    test = data.cifar10(root, "test")
    normalize = data.Normalize(MEAN, STD)
    augment = data.Compose(data.RandomCrop(32, padding=4), data.HorizontalFlip(), normalize)
    train_it = data.DatasetIterator(
        train, args.batch_size, shuffle=True, drop_last=True, transform=augment
    )
    test_it = data.DatasetIterator(test, 500, transform=normalize)

    nets.manual_seed(0)
    net = seed_network()
    criterion = nn.ClassNLLCriterion()
    loss = AverageValueMeter()
    error = ClassErrorMeter(topk=[1, 5])
    text, jsonl = TextLog(f"{args.log}.log"), JSONLog(f"{args.log}.jsonl")
    evaluator = Engine(hooks={"onForward": lambda s: error.add(s["output"], s["sample"][1])})

    def on_end_epoch(state):
        error.reset()
        evaluator.test(state["network"], test_it, criterion)
        row = {"epoch": state["epoch"], "train_loss": loss.value()[0]}
        row.update(test_top1_error=error.value(1), test_top5_error=error.value(5))
        text.log(row)
        jsonl.log(row)
        print(" | ".join(f"{k} {v:.4g}" for k, v in row.items()), flush=True)
        loss.reset()

    engine = Engine(data_parallel=args.data_parallel, seed=0)
    engine.hooks.update(onForward=lambda s: loss.add(s["loss"]), onEndEpoch=on_end_epoch)
    config = {"learningRate": args.lr, "momentum": 0.9, "dampening": 0, "weightDecay": 5e-4}
    start = time.perf_counter()
    state = engine.train(
        net, train_it, criterion, "sgd", config, args.epochs, checkpoint=args.checkpoint
    )
    wall = time.perf_counter() - start
    error.reset()
    evaluator.test(net, test_it, criterion)
    accuracy = 100.0 - error.value(1)
    print(
        f"test accuracy {accuracy:.2f}% after {state['epoch']} epoch(s); {wall:.1f} s"
        + (
            " (interrupted: rerun with the same --checkpoint to resume)"
            if state["interrupted"]
            else ""
        )
    )
    text.close()
    jsonl.close()
    return accuracy


if __name__ == "__main__":
    main()
