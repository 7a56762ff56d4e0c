"""Train LeNet-5 on the handwritten digits that ship with scikit-learn (no download needed).

    th examples/train_lenet.py            (or: python examples/train_lenet.py)
    th examples/train_lenet.py --epochs 20 --batch-size 32

The 8x8 digits are upscaled to 32x32 (LeNet-5's input field) and split 80/20 into train and test.
Prints the test accuracy, the wall time and the training throughput (images per second).
"""

from __future__ import annotations

import argparse
import time

import nets
from nets import data, nn
from nets.engine import AverageValueMeter, ClassErrorMeter, Engine


def lenet5() -> nn.Sequential:
    """LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling, for 1x32x32 inputs."""
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(1, 6, 5, 5))  # 6 x 28 x 28
    net.add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2))  # 6 x 14 x 14
    net.add(nn.SpatialConvolution(6, 16, 5, 5))  # 16 x 10 x 10
    net.add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2))  # 16 x 5 x 5
    net.add(nn.View(16 * 5 * 5))
    net.add(nn.Linear(400, 120)).add(nn.ReLU())
    net.add(nn.Linear(120, 84)).add(nn.ReLU())
    net.add(nn.Linear(84, 10)).add(nn.LogSoftMax())
    return net


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--lr-decay", type=float, default=0.01, help="Torch's learningRateDecay")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    nets.manual_seed(args.seed)
    train_set = data.digits("train", size=32)
    test_set = data.digits("test", size=32)
    train_it = data.DatasetIterator(
        train_set, args.batch_size, shuffle=True, seed=args.seed, drop_last=True
    )
    net = lenet5()
    criterion = nn.ClassNLLCriterion()

    loss_meter = AverageValueMeter()
    error = ClassErrorMeter(topk=[1])
    engine = Engine(seed=args.seed)

    def on_start_epoch(state):
        loss_meter.reset()

    def on_forward(state):
        loss_meter.add(state["loss"])

    marks = []

    def on_end_epoch(state):
        marks.append(time.perf_counter())
        print(f"epoch {state['epoch']:2d}  train loss {loss_meter.value()[0]:.4f}", flush=True)

    engine.hooks.update(onStartEpoch=on_start_epoch, onForward=on_forward, onEndEpoch=on_end_epoch)
    config = {"learningRate": args.lr, "learningRateDecay": args.lr_decay}
    start = time.perf_counter()
    engine.train(net, train_it, criterion, "adam", config, args.epochs)
    wall = time.perf_counter() - start

    tester = Engine(hooks={"onForward": lambda s: error.add(s["output"], s["sample"][1])})
    tester.test(net, data.DatasetIterator(test_set, 120), criterion)
    accuracy = 100.0 - error.value(1)
    per_epoch = len(train_it) * args.batch_size
    steady = ""
    if len(marks) > 1:  # epochs after the first, which pays for compilation
        rate = per_epoch * (len(marks) - 1) / (marks[-1] - marks[0])
        steady = f", {rate:.0f} images/s after the first epoch"
    print(
        f"test accuracy {accuracy:.2f}% on {len(test_set)} digits; training wall time "
        f"{wall:.1f} s, {args.epochs * per_epoch / wall:.0f} images/s overall{steady}"
    )
    return accuracy


if __name__ == "__main__":
    main()
