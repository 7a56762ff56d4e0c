"""Engine(precision=...): float32 parameters, bfloat16/float16 compute, float16 loss scaling."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import data, nn
from nets.engine import Engine
from nets.engine.precision import INITIAL_SCALE, Precision


def _train(net, dataset, precision, maxepoch=1, lr=0.1, checkpoint=None, batch=8):
    engine = Engine(precision=precision, progress=False)
    losses = []
    engine.hooks["onUpdate"] = lambda state: losses.append(state["loss"])
    it = data.DatasetIterator(dataset, batch, shuffle=False, drop_last=True)
    state = engine.train(
        net,
        it,
        nn.ClassNLLCriterion(),
        "sgd",
        {"learningRate": lr},
        maxepoch=maxepoch,
        checkpoint=checkpoint,
    )
    return state, losses


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_low_precision_trains_with_float32_parameters(problem, make_net, precision):
    full_net, low_net = make_net(), make_net()
    _, full = _train(full_net, problem, "float32", maxepoch=4)
    _, low = _train(low_net, problem, precision, maxepoch=4)
    assert all(p.dtype == jnp.float32 for p in low_net.parameters()[0])
    assert low[-1] < low[0]  # it learns
    # the forward pass really ran in the low precision: the losses differ from float32's, but
    # only by the rounding of a few products of 4- and 8-term dot products (unit roundoff
    # 2**-8 for bfloat16, 2**-11 for float16, times the loss's own scale)
    eps = 2.0**-8 if precision == "bfloat16" else 2.0**-11
    diffs = np.abs(np.array(full) - np.array(low))
    assert diffs.max() > 0
    assert diffs[0] <= 16 * eps * max(abs(full[0]), 1.0)


def test_float16_overflow_skips_the_step_and_halves_the_scale():
    # a linear classifier's weight gradient is (softmax - onehot) x: from zero weights the
    # soft-max is 1/3 everywhere, so inputs of 4.5 give a largest gradient of 2/3 * 4.5 = 3;
    # times the initial scale 2**15 that is past float16's largest value (65504), so the first
    # step overflows and must be skipped; at half the scale (49152) the second one fits
    nets.manual_seed(0)
    net = nn.Sequential().add(nn.Linear(4, 3)).add(nn.LogSoftMax())
    net.modules[0].weight = jnp.zeros((3, 4))
    net.modules[0].bias = jnp.zeros(3)
    x = np.full((16, 4), 4.5, np.float32)
    y = np.zeros(16, np.int32)
    before = {k: np.asarray(v) for k, v in net.split()[0].items()}
    engine = Engine(precision="float16", progress=False)
    seen = []
    engine.hooks["onUpdate"] = lambda state: seen.append(
        (state["loss"], {k: np.asarray(v) for k, v in state["params"].items()})
    )
    it = data.DatasetIterator(data.TensorDataset(x, y), 8)
    state = engine.train(net, it, nn.ClassNLLCriterion(), "sgd", {"learningRate": 1e-3})
    (_, scale) = state["optim_state"]
    assert float(scale["loss_scale"]) == INITIAL_SCALE / 2  # one overflow, halved once
    assert int(scale["counter"]) == 1  # then one good step
    (loss1, after1), (_, after2) = seen
    assert np.isfinite(loss1)  # a skipped step is not an error: training went on
    for name, value in before.items():
        np.testing.assert_array_equal(value, after1[name])  # the overflowing update not applied
    assert not np.array_equal(before["0.weight"], after2["0.weight"])  # the next one was


def test_float16_counts_good_steps_and_resumes_its_scale(problem, make_net, tmp_path):
    path = tmp_path / "run.t7"
    state, _ = _train(make_net(), problem, "float16", maxepoch=1, checkpoint=path)
    (_, scale) = state["optim_state"]
    assert int(scale["counter"]) == 4  # 32 samples / 8 per batch, no overflow
    state, _ = _train(make_net(seed=3), problem, "float16", maxepoch=2, checkpoint=path)
    (_, scale) = state["optim_state"]
    assert int(scale["counter"]) == 8  # the counter came back from the checkpoint


def test_precision_specs():
    assert str(Precision.of("bfloat16")) == "params=float32,compute=bfloat16,output=float32"
    assert Precision.of("float16").loss_scaling
    assert Precision.of(None).full
    custom = Precision.of("params=float32,compute=bfloat16,output=bfloat16")
    assert not custom.loss_scaling and not custom.full
    with pytest.raises(ValueError, match="neither a preset.*float32, bfloat16, float16"):
        Engine(precision="int8")
    with pytest.raises(ValueError, match="parameters kept in float16"):
        Engine(precision="params=float16,compute=float16,output=float16")
    with pytest.raises(TypeError, match="got int 16"):
        Engine(precision=16)
