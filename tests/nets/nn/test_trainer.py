"""nn.StochasticGradient: the seed's CIFAR example end to end, Torch7's fields, bad settings."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError, NetsError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms


class Patterns:
    """A small CIFAR-shaped data set, indexed as the seed's (`ds[i] -> (input, target)`).

    Each class is a fixed random 3x32x32 pattern plus noise, so the error can really fall.
    """

    def __init__(self, n, classes=10, seed=0):
        rng = np.random.default_rng(seed)
        protos = rng.normal(size=(classes, 3, 32, 32)).astype(np.float32)
        self.label = rng.integers(0, classes, n)
        self.data = protos[self.label] + 0.5 * rng.normal(size=(n, 3, 32, 32)).astype(np.float32)

    def __getitem__(self, i):
        return self.data[i], self.label[i]

    def size(self):
        return len(self.data)


def seed_net():
    """The seed's 模型示例 network, line for line."""
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(3, 6, 5, 5))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.SpatialConvolution(6, 16, 5, 5))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.View(16 * 5 * 5))
    net.add(nn.Linear(16 * 5 * 5, 120))
    net.add(nn.ReLU())
    net.add(nn.Linear(120, 84))
    net.add(nn.ReLU())
    net.add(nn.Linear(84, 10))
    net.add(nn.LogSoftMax())
    return net


def test_seed_cifar_example_error_goes_down(capsys):
    nets.manual_seed(0)
    trainset, testset = Patterns(96), Patterns(16, seed=0)
    net = seed_net()
    criterion = nn.ClassNLLCriterion()
    trainer = nn.StochasticGradient(net, criterion)
    trainer.learningRate = 0.01  # the seed's 0.001 is for 50,000 examples; this set has 96
    trainer.maxIteration = 4
    errors = []
    trainer.hookIteration = lambda t, it, err: errors.append((it, err))
    final = trainer.train(trainset)
    printed = capsys.readouterr().out
    assert printed.startswith("# StochasticGradient: training\n")
    assert printed.count("# current error = ") == 4
    assert "# StochasticGradient: you have reached the maximum number of iterations" in printed
    assert [it for it, _ in errors] == [1, 2, 3, 4]
    assert errors[-1][1] == final
    assert all(b[1] < a[1] for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1][1] < 0.95 * errors[0][1], errors
    predicted = net.forward(testset.data[10])
    assert predicted.shape == (10,)
    # log-softmax (a sum of 10 exps and a log), then 10 exps summed
    terms = path_terms(10 + 2 * ELEMENTWISE, ELEMENTWISE, 10)
    assert_close(jnp.exp(predicted).sum(), np.float32(1.0), terms=terms)


def test_hook_example_sees_every_example_and_matches_chunked_training():
    data = Patterns(12, classes=3)

    def run(hook):
        nets.manual_seed(3)
        net = nn.Sequential(nn.View(3 * 32 * 32), nn.Linear(3 * 32 * 32, 3), nn.LogSoftMax())
        trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
        trainer.maxIteration = 1
        trainer.shuffleIndices = False
        trainer.verbose = False
        trainer.hookExample = hook
        return trainer.train(data), net.modules[1].weight

    seen = []
    err_hooked, w_hooked = run(lambda t, example: seen.append(int(example[1])))
    err_chunked, w_chunked = run(None)
    assert seen == [int(v) for v in data.label]
    # 12 SGD steps, each along the path: Linear's 3*32*32 terms, log-softmax over 3, the update
    # (a worst case of 37008 terms: it catches a skipped or reordered example, not 1e-3 drift)
    terms = 12 * path_terms(3 * 32 * 32, 3 + 2 * ELEMENTWISE, 1)
    assert_close(err_hooked, err_chunked, terms=terms, dtype=np.float32)  # float32 losses, averaged
    assert_close(w_hooked, w_chunked, terms=terms)


def test_learning_rate_decay_follows_torch7():
    data = Patterns(4, classes=2)
    nets.manual_seed(1)
    net = nn.Sequential(nn.View(3 * 32 * 32), nn.Linear(3 * 32 * 32, 2), nn.LogSoftMax())
    trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
    trainer.maxIteration = 3
    trainer.learningRateDecay = 0.5
    trainer.verbose = False
    rates = []
    original = trainer._epoch_chunks

    def spy(params, buffers, xs, ys, perm, lr):
        rates.append(lr)
        return original(params, buffers, xs, ys, perm, lr)

    trainer._epoch_chunks = spy
    trainer.train(data)
    # Torch7: the rate of epoch i (from 2 on) is learningRate / (1 + i * learningRateDecay).
    assert rates == pytest.approx([0.01, 0.01 / 2.0, 0.01 / 2.5])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, "fast"])
def test_non_finite_learning_rate_is_refused(bad):
    trainer = nn.StochasticGradient(nn.Sequential(nn.Linear(2, 2)), nn.MSECriterion())
    trainer.learningRate = bad
    with pytest.raises(
        NetsError,
        match=r"StochasticGradient.learningRate: expected a finite "
        r"number >= 0, got",
    ):
        trainer.train([(np.ones(2, np.float32), np.ones(2, np.float32))])


def test_target_out_of_range_names_the_example():
    data = Patterns(5, classes=10)
    data.label[3] = 10
    net = nn.Sequential(nn.View(3 * 32 * 32), nn.Linear(3 * 32 * 32, 10), nn.LogSoftMax())
    trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
    with pytest.raises(
        NetsError,
        match=r"dataset\[3\] has target 10, expected a class index in "
        r"\[0, 9\] \(0-based\)",
    ):
        trainer.train(data)


def test_data_that_does_not_fit_the_network_names_the_layer():
    data = Patterns(4)
    net = nn.Sequential(nn.View(3 * 28 * 28), nn.Linear(3 * 28 * 28, 10), nn.LogSoftMax())
    trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
    with pytest.raises(ModuleError, match=r"^\(0\) nn.View"):
        trainer.train(data)
    # The network is still usable with the right input.
    assert net.forward(jnp.ones((3, 28, 28))).shape == (10,)


def test_diverging_training_stops_and_keeps_the_last_good_parameters():
    data = Patterns(8, classes=2)
    nets.manual_seed(0)
    net = nn.Sequential(nn.View(3 * 32 * 32), nn.Linear(3 * 32 * 32, 2))
    trainer = nn.StochasticGradient(net, nn.MSECriterion())
    trainer.learningRate = 1e30
    trainer.verbose = False
    targets = np.ones((8, 2), np.float32)
    examples = [(data.data[i], targets[i]) for i in range(8)]
    with pytest.raises(NetsError, match=r"non-finite in epoch 1 at dataset\[\d\].*smaller learn"):
        trainer.train(examples)
    assert all(math.isfinite(float(v)) for v in net.getParameters()[0][:10])
    trainer.checkFinite = False  # without the check, the loss still stops it, after the epoch
    with pytest.raises(NetsError, match=r"the error became (nan|inf) in epoch 1"):
        trainer.train(examples)
    assert all(math.isfinite(float(v)) for v in net.getParameters()[0][:10])
