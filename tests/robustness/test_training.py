"""Training refuses garbage (issue 18): bad class targets in any batch, non-finite inputs and
gradients. Each case ends in a clear error naming the batch (or example) and the cause, and the
network keeps finite parameters; or, where the check is switched off, shows what it guards.

Each table row: (case, data damage, expected error class, words the message must hold).
"""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import NetsError
from nets.engine import Engine, TrainingError

N, BATCH = 40, 8


def _net(seed=0):
    nets.manual_seed(seed)
    return (
        nn.Sequential()
        .add(nn.SpatialConvolution(1, 4, 3, 3))
        .add(nn.ReLU())
        .add(nn.View(4 * 6 * 6))
        .add(nn.Linear(4 * 6 * 6, 10))
        .add(nn.LogSoftMax())
    )


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, N)  # int64, as NumPy makes them
    return x, y


def _label(i, value):
    def damage(x, y):
        y = y.copy()
        y[i] = value
        return x, y

    return damage


def _pixel(i, value):
    def damage(x, y):
        x = x.copy()
        x[i, 0, 3, 4] = value
        return x, y

    return damage


def _batches(x, y):
    return [(x[i : i + BATCH], y[i : i + BATCH]) for i in range(0, N, BATCH)]


def _finite(net):
    return all(bool(jnp.all(jnp.isfinite(v))) for v in net.split()[0].values())


# (case, damage, error, words): example 20 is in step 3, example 33 in step 5
ENGINE_TRAIN = [
    ("label -1 in a later batch", _label(20, -1), TrainingError, ["epoch 1, step 3", "got -1"]),
    ("label 10 of 10", _label(33, 10), TrainingError, ["epoch 1, step 5", "got 10", "0-based"]),
    ("label 12", _label(33, 12), TrainingError, ["step 5", "[0, 10)", "got 12"]),
    ("label 2**31", _label(17, 2**31), TrainingError, ["step 3", "2147483648"]),
    ("label 2**32+3", _label(17, 2**32 + 3), TrainingError, ["step 3", "4294967299"]),
    ("label -2**40", _label(1, -(2**40)), TrainingError, ["step 1", "-1099511627776"]),
    (
        "one NaN pixel before a ReLU",
        _pixel(25, np.nan),
        TrainingError,
        [
            "epoch 1, step 4",
            "input holds nan at [1, 0, 3, 4]",
            "first non-finite output is that of (0) nn.SpatialConvolution",
            "gradient is 0.",
            "last good step",
        ],
    ),
    ("one inf pixel", _pixel(3, np.inf), TrainingError, ["step 1", "input holds inf"]),
]


@pytest.mark.parametrize(
    "case, damage, error, words", ENGINE_TRAIN, ids=[c[0] for c in ENGINE_TRAIN]
)
def test_engine_train_refuses(case, damage, error, words):
    net = _net()
    x, y = damage(*_data())
    with pytest.raises(error) as info:
        Engine(progress=False).train(
            net, _batches(x, y), nn.ClassNLLCriterion(), config={"learningRate": 0.1}
        )
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"
    assert _finite(net)  # the refused step was not applied


ENGINE_TEST = [
    ("label -1", _label(20, -1), ["Engine.test (step 3)", "got -1"]),
    ("label 10", _label(39, 10), ["Engine.test (step 5)", "got 10"]),
    ("label 2**32+3", _label(0, 2**32 + 3), ["Engine.test (step 1)", "4294967299"]),
]


@pytest.mark.parametrize("case, damage, words", ENGINE_TEST, ids=[c[0] for c in ENGINE_TEST])
def test_engine_test_refuses_bad_labels_instead_of_a_finite_loss(case, damage, words):
    x, y = damage(*_data())
    with pytest.raises(TrainingError) as info:
        Engine(progress=False).test(_net(), _batches(x, y), nn.ClassNLLCriterion())
    for w in words:
        assert w in str(info.value)


def test_engine_finite_check_is_what_stops_the_nan_pixel():
    """With check_finite=False the NaN pixel trains on and poisons 0.weight (the issue's case):
    the flag is what stops it."""
    net = _net()
    x, y = _pixel(25, np.nan)(*_data())
    Engine(progress=False, check_finite=False).train(
        net, _batches(x, y), nn.ClassNLLCriterion(), config={"learningRate": 0.1}
    )
    assert not bool(jnp.all(jnp.isfinite(net.modules[0].weight)))


def _hidden_nan_gradient_net():
    """(1)'s gradient is NaN where (0)'s output is 0 (a zero patch, zero bias); once (0)'s
    weights are NaN, the ReLU maps its NaN output to 0 and the loss stays finite."""
    nets.manual_seed(0)
    net = nn.Sequential().add(nn.SpatialConvolution(1, 2, 3, 3)).add(_SqrtAtZero()).add(nn.ReLU())
    net.add(nn.View(2 * 6 * 6)).add(nn.Linear(2 * 6 * 6, 10)).add(nn.LogSoftMax())
    net.modules[0].bias = jnp.zeros(2)
    return net


@pytest.mark.parametrize(
    "check_gradients, words",
    [
        (False, ["end of epoch 1", "0.", "is non-finite", "checkpoint was not written"]),
        (True, ["epoch 1, step 1", "first non-finite gradient is 0.", "nn.SpatialConvolution"]),
    ],
)
def test_engine_catches_a_nan_gradient_under_a_finite_loss(tmp_path, check_gradients, words):
    x, y = _data()
    x[0] = 0
    net = _hidden_nan_gradient_net()
    with pytest.raises(TrainingError) as info:
        Engine(progress=False, check_gradients=check_gradients).train(
            net, _batches(x, y), nn.ClassNLLCriterion(), checkpoint=tmp_path / "c.nets"
        )
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"
    assert not (tmp_path / "c.nets").exists()  # no checkpoint of NaN parameters
    if check_gradients:
        assert _finite(net)


def test_engine_good_data_still_trains():
    net = _net()
    state = Engine(progress=False).train(net, _batches(*_data()), nn.ClassNLLCriterion())
    assert state["t"] == N // BATCH and np.isfinite(state["loss"]) and _finite(net)


class _Dataset:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class _SqrtAtZero(nn.Module):
    """nn.Module(): the identity, whose gradient is NaN where its input is 0 (0 * inf)."""

    def updateOutput(self, input):
        self.output = input + 0 * jnp.sqrt(jnp.abs(input))
        return self.output


def _silent_nan_gradient(x, y):
    """Example 0's input is all zeros: (1) outputs its bias, set to 0, so (1)'s gradient is
    NaN there, while every loss stays finite."""
    x = x.copy()
    x[0] = 0
    return x, y


SGD_TRAIN = [
    ("label -1", _label(20, -1), NetsError, ["dataset[20]", "target -1", "[0, 9]"]),
    ("label 2**32+3", _label(17, 2**32 + 3), NetsError, ["dataset[17]", "4294967299"]),
    ("label 2**31", _label(5, 2**31), NetsError, ["dataset[5]", "2147483648"]),
    ("NaN pixel", _pixel(25, np.nan), NetsError, ["dataset[25]", "holds nan at [0, 3, 4]"]),
]


@pytest.mark.parametrize("case, damage, error, words", SGD_TRAIN, ids=[c[0] for c in SGD_TRAIN])
def test_stochastic_gradient_refuses(case, damage, error, words):
    net = _net()
    trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
    trainer.maxIteration, trainer.verbose = 1, False
    with pytest.raises(error) as info:
        trainer.train(_Dataset(*damage(*_data())))
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"
    assert _finite(net)


def test_stochastic_gradient_names_a_nan_gradient_under_a_finite_loss():
    nets.manual_seed(0)
    net = nn.Sequential().add(nn.View(64).setNumInputDims(3)).add(nn.Linear(64, 10))
    net.add(_SqrtAtZero())
    net.add(nn.LogSoftMax())
    net.modules[1].bias = jnp.zeros(10)
    x, y = _silent_nan_gradient(*_data())
    trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
    trainer.maxIteration, trainer.verbose, trainer.shuffleIndices = 1, False, False
    with pytest.raises(NetsError) as info:
        trainer.train(_Dataset(x, y))
    message = str(info.value)
    assert "non-finite in epoch 1 at dataset[0]" in message
    assert "first non-finite gradient is 1." in message and "nn.Linear(64 -> 10)" in message
    assert _finite(net)


# ----------------------------------------------------------------------------- interruption

_CHILD = """
import sys, time
import numpy as np
sys.path.insert(0, {root!r})
import nets
from nets import nn
from nets.engine import Engine

nets.manual_seed(0)
net = (nn.Sequential().add(nn.Linear(4, 8)).add(nn.Dropout(0.2)).add(nn.Linear(8, 3))
       .add(nn.LogSoftMax()))
rng = np.random.default_rng(0)
x = rng.standard_normal((32, 4)).astype(np.float32)
y = rng.integers(0, 3, 32)
batches = [(x[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)]


def on_update(state):
    if state["t"] == {stop_at}:
        print("ready", flush=True)
        time.sleep(3)  # the parent sends SIGINT now: training stops after this step


state = Engine(hooks={{"onUpdate": on_update}}, progress=False, seed={seed}).train(
    net, batches, nn.ClassNLLCriterion(), "adam", {{"learningRate": 0.05}}, 3,
    checkpoint={path!r},
)
print("stopped", state["epoch"], state["t"], state["interrupted"], flush=True)
"""


def _problem():
    nets.manual_seed(0)
    net = (
        nn.Sequential()
        .add(nn.Linear(4, 8))
        .add(nn.Dropout(0.2))
        .add(nn.Linear(8, 3))
        .add(nn.LogSoftMax())
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    return net, [(x[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)]


def test_ctrl_c_writes_a_step_exact_checkpoint_and_resume_goes_on_from_that_step(tmp_path):
    import pathlib
    import signal
    import subprocess
    import sys

    from nets import serialization as ser

    root = str(pathlib.Path(__file__).resolve().parents[2])
    path = tmp_path / "run.nets"
    code = _CHILD.format(root=root, stop_at=6, seed=5, path=str(path))
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)  # a real Ctrl-C, in the middle of epoch 2 (step 2 of 4)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert out.split() == ["stopped", "1", "6", "True"]
    meta = ser.read_checkpoint(path).meta
    assert (meta["epoch"], meta["t"], meta["step_in_epoch"], meta["seed"]) == (1, 6, 2, 5)

    # resume (no seed given: the checkpoint's) and compare with a run never interrupted
    resumed, batches = _problem()
    steps = []
    state = Engine(progress=False, hooks={"onUpdate": lambda s: steps.append(s["t"])}).train(
        resumed, batches, nn.ClassNLLCriterion(), "adam", {"learningRate": 0.05}, 3, checkpoint=path
    )
    assert steps == [7, 8, 9, 10, 11, 12] and (state["epoch"], state["t"]) == (3, 12)
    straight, batches = _problem()
    Engine(progress=False, seed=5).train(
        straight, batches, nn.ClassNLLCriterion(), "adam", {"learningRate": 0.05}, 3
    )
    want, got = straight.split()[0], resumed.split()[0]
    for k in want:  # the same compiled steps on the same batches and keys: exact
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
