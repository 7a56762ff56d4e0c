import os
import signal

import jax
import numpy as np
import pytest

from nets import data, nn, optim
from nets.engine import HOOKS, Engine, TrainingError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

# one SGD step of make_net's network on a batch of 8: forward (Linear 4 + bias, tanh, Linear
# 8 + bias, log-softmax over 3, the mean over 8), backward (Linear(8, 3)'s input gradient over
# 3 outputs, the weight gradients' sums over the batch of 8), the momentum and weight updates
STEP_TERMS = path_terms(5, ELEMENTWISE, 9, 3 + 2 * ELEMENTWISE, 8, 3, 8, 2)


def iterator(ds, batch=8, **kw):
    return data.DatasetIterator(ds, batch, prefetch=0, **kw)


def test_hooks_fire_in_torchnet_order(problem, make_net, capsys):
    calls = []
    engine = Engine(hooks={h: (lambda s, h=h: calls.append(h)) for h in HOOKS}, progress=True)
    state = engine.train(make_net(), iterator(problem, 16), nn.ClassNLLCriterion(), maxepoch=2)
    per_step = ["onSample", "onForward", "onBackward", "onUpdate"]
    epoch = ["onStartEpoch", *per_step, *per_step, "onEndEpoch"]
    assert calls == ["onStart", *epoch, *epoch, "onEnd"]
    assert (state["epoch"], state["t"]) == (2, 4)
    bar = capsys.readouterr().err
    assert "epoch 2/2 [" in bar and " 2/2 " in bar and " it/s ETA " in bar and "loss " in bar


def test_compiled_training_equals_torch_style_optim_loop(problem, make_net):
    config = {"learningRate": 0.1, "momentum": 0.9, "dampening": 0, "weightDecay": 1e-3}
    net = make_net()
    Engine(seed=0).train(net, iterator(problem), nn.ClassNLLCriterion(), "sgd", config, 2)

    ref = make_net()
    crit = nn.ClassNLLCriterion()
    params, buffers = ref.split()
    state = {}

    @jax.jit
    def value_and_grad(p, x, y):
        def loss(q):
            return crit.call(ref.call(q, buffers, x, train=True)[0], y)

        return jax.value_and_grad(loss)(p)

    for _ in range(2):
        for x, y in iterator(problem):
            params, _ = optim.sgd(
                lambda p, x=x, y=y: value_and_grad(p, x, y), params, dict(config), state
            )
    got, _ = net.split()
    for k in params:  # 2 epochs of 4 steps, compiled whole or as value_and_grad and optim.sgd
        assert_close(got[k], params[k], terms=2 * 4 * STEP_TERMS, err_msg=k)


def test_first_ctrl_c_finishes_the_step_and_runs_on_end(problem, make_net):
    seen = {}

    def on_update(state):
        if state["t"] == 2:
            os.kill(os.getpid(), signal.SIGINT)

    def on_end(state):
        seen["t"] = state["t"]

    net = make_net()
    engine = Engine(hooks={"onUpdate": on_update, "onEnd": on_end})
    state = engine.train(net, iterator(problem), nn.ClassNLLCriterion(), maxepoch=5)
    assert state["interrupted"] and seen["t"] == 2 and state["epoch"] == 0
    got, _ = net.split()
    for k, v in state["params"].items():
        np.testing.assert_array_equal(got[k], v)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_stops_at_once(problem, make_net):
    def on_update(state):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    engine = Engine(hooks={"onUpdate": on_update})
    with pytest.raises(KeyboardInterrupt):
        engine.train(make_net(), iterator(problem), nn.ClassNLLCriterion(), maxepoch=5)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nan_loss_stops_naming_epoch_and_step(problem, make_net):
    x = problem.inputs.copy()
    x[20] = np.nan  # in the third batch of 8
    net = make_net()
    before = {k: np.asarray(v) for k, v in net.split()[0].items()}
    with pytest.raises(
        TrainingError, match=r"Engine.train \(epoch 1, step 3\): the input holds nan.*iteration 3"
    ):
        Engine().train(
            net,
            iterator(data.TensorDataset(x, problem.targets)),
            nn.ClassNLLCriterion(),
            "sgd",
            {"learningRate": 0.1},
            2,
        )
    after = net.split()[0]
    assert all(np.all(np.isfinite(v)) for v in after.values())
    assert any(not np.array_equal(before[k], after[k]) for k in before)  # steps 1-2 applied


def test_labels_out_of_range(problem, make_net):
    bad = data.TensorDataset(problem.inputs, problem.targets + 5)
    with pytest.raises(
        TrainingError,
        match=r"epoch 1, step 1\): bad targets for "
        r"nn.ClassNLLCriterion",
    ):
        Engine().train(make_net(), iterator(bad), nn.ClassNLLCriterion())


def test_shape_mismatch_between_data_and_network(problem, make_net):
    wide = data.TensorDataset(np.zeros((8, 5), np.float32), np.zeros(8, np.int32))
    with pytest.raises(
        TrainingError,
        match=r"the network rejected a batch of inputs of shape "
        r"\(8, 5\).*nn.Linear\(4 -> 8\)",
    ):
        Engine().train(make_net(), iterator(wide), nn.ClassNLLCriterion())


def test_resume_from_a_checkpoint_continues_the_same_run(problem, make_net, tmp_path):
    config = {"learningRate": 0.05}
    straight = make_net()
    Engine(seed=1).train(
        straight, iterator(problem, shuffle=True), nn.ClassNLLCriterion(), "adam", config, 2
    )
    resumed = make_net()
    path = tmp_path / "run.nets"
    Engine(seed=1).train(
        resumed,
        iterator(problem, shuffle=True),
        nn.ClassNLLCriterion(),
        "adam",
        config,
        1,
        checkpoint=path,
    )
    fresh = make_net(seed=7)  # different start: everything must come from the checkpoint
    state = Engine(seed=1).train(
        fresh,
        iterator(problem, shuffle=True),
        nn.ClassNLLCriterion(),
        "adam",
        config,
        2,
        checkpoint=path,
    )
    assert (state["epoch"], state["t"]) == (2, 8)
    want, got = straight.split()[0], fresh.split()[0]
    for k in want:  # the same compiled steps on the same batches from the same state: exact
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    with pytest.raises(ValueError, match=r"the optimizer state in .* does not match"):
        Engine().train(
            make_net(),
            iterator(problem),
            nn.ClassNLLCriterion(),
            "sgd",
            {"momentum": 0.9},
            3,
            checkpoint=path,
        )


def test_test_loop_with_meters(problem, make_net):
    from nets.engine import ClassErrorMeter

    meter = ClassErrorMeter()
    engine = Engine(hooks={"onForward": lambda s: meter.add(s["output"], s["sample"][1])})
    state = engine.test(make_net(), iterator(problem, 10), nn.ClassNLLCriterion())
    assert meter.n == 32 and state["t"] == 4 and np.isfinite(state["loss"])


def test_unknown_hook_and_optimizer():
    with pytest.raises(KeyError, match=r"unknown hook 'onBatch'; valid hooks: onStart, "):
        Engine(hooks={"onBatch": print})
    with pytest.raises(KeyError, match=r"unknown hook 'onend'"):
        Engine().hooks.update(onend=print)
    with pytest.raises(ValueError, match=r"optim.transform: lbfgs evaluates the function"):
        Engine().train(nn.Linear(2, 2), [], nn.MSECriterion(), "lbfgs")


def test_test_loop_on_a_convolutional_net_matches_the_pure_call():
    """Engine.test hands the compiled step HWIO copies of the convolution weights."""
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(5, 8, 3, 3, 1, 1, 1, 1))
    net.add(nn.ReLU()).add(nn.View(8 * 4 * 4)).add(nn.Linear(8 * 4 * 4, 3)).add(nn.LogSoftMax())
    rng = np.random.default_rng(0)
    batches = [
        (rng.standard_normal((4, 5, 4, 4)).astype(np.float32), rng.integers(0, 3, 4))
        for _ in range(3)
    ]
    outputs = []
    engine = Engine(hooks={"onForward": lambda s: outputs.append(np.asarray(s["output"]))})
    engine.test(net, batches, nn.ClassNLLCriterion())
    params, buffers = net.evaluate().split()
    # conv 5*3*3 taps + bias, Linear 8*4*4 + bias, log-softmax over 3
    terms = path_terms(5 * 3 * 3 + 1, 8 * 4 * 4 + 1, 3 + 2 * ELEMENTWISE)
    for (x, _), out in zip(batches, outputs, strict=True):
        assert_close(out, net.call(params, buffers, x)[0], terms=terms)
    assert net.get(0).weight.shape == (8, 5, 3, 3)  # the network keeps Torch's layout
