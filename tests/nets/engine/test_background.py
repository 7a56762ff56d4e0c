"""engine.train(..., background=True): a thread steered by pause/resume/stop at step boundaries."""

import time

import numpy as np
import pytest

from nets import data, nn
from nets.engine import Engine, TrainingError


def iterator(ds, batch=8):
    return data.DatasetIterator(ds, batch, prefetch=0, shuffle=False)


def params_of(net):
    return {k: np.asarray(v) for k, v in net.split()[0].items()}


def test_background_run_equals_foreground_and_returns_at_once(problem, make_net):
    crit = nn.ClassNLLCriterion()
    fore = make_net()
    Engine(seed=0, progress=False).train(fore, iterator(problem), crit, "sgd", {}, 3)
    back = make_net()
    engine = Engine(seed=0, progress=False)
    start = time.perf_counter()
    training = engine.train(back, iterator(problem), crit, "sgd", {}, 3, background=True)
    returned = time.perf_counter() - start
    state = training.wait(timeout=60)
    assert returned < 0.5, returned  # the compile and the steps happen on the thread
    assert not training.running and training.error is None
    assert (state["epoch"], state["t"]) == (3, 12)
    # the same compiled step on the same batches: the same numbers, bit for bit
    for name, value in params_of(fore).items():
        np.testing.assert_array_equal(params_of(back)[name], value)


def test_pause_publishes_current_parameters_and_stop_ends_at_a_boundary(problem, make_net):
    net = make_net()
    engine = Engine(seed=0, progress=False)
    training = engine.train(
        net, iterator(problem), nn.ClassNLLCriterion(), "sgd", {"learningRate": 0.1}, 10**6,
        background=True,
    )  # fmt: skip
    engine.pause()
    assert training.is_paused
    t = training.state["t"]
    time.sleep(0.2)
    assert training.state["t"] == t  # no step while paused
    for name, value in params_of(net).items():  # the network holds the step-t parameters
        np.testing.assert_array_equal(value, np.asarray(training.state["params"][name]))
    with training.lock:  # the model can be used between steps
        out = net.forward(np.ones((2, 4), np.float32))
        with pytest.raises(RuntimeError, match=r"pause\(\) inside `with training.lock:` would"):
            training.pause()  # would deadlock: refused
    assert np.all(np.isfinite(np.asarray(out)))
    engine.resume()
    time.sleep(0.3)
    assert training.state["t"] > t
    state = engine.stop()
    assert state["interrupted"] and not training.running and training.error is None
    assert state["epoch"] < 10**6
    with pytest.raises(RuntimeError, match=r"Engine.pause: no training is running in the back"):
        engine.pause()


def test_error_in_the_thread_is_kept_reported_once_and_raised_by_wait(problem, make_net, capfd):
    x = np.array(problem.inputs)
    x[5, 1] = np.nan
    bad = data.TensorDataset(x, problem.targets)
    engine = Engine(progress=False)
    training = engine.train(make_net(), iterator(bad), nn.ClassNLLCriterion(), background=True)
    with pytest.raises(TrainingError, match=r"the input holds nan at \[5, 1\]"):
        training.wait(timeout=60)
    assert isinstance(training.error, TrainingError)
    err = capfd.readouterr().err  # outside th and itorch: on stderr, once, at once
    assert err.count("background training failed at epoch 1, step 1: TrainingError") == 1
    assert "failed: TrainingError" in repr(training)
    # the lock was released when the loop died: the model is usable
    assert training.lock.acquire(timeout=1)
    training.lock.release()
    # a run that ended does not block a new one; a running one does
    again = engine.train(
        make_net(), iterator(problem), nn.ClassNLLCriterion(), maxepoch=10**6, background=True
    )
    with pytest.raises(RuntimeError, match="already training in the background"):
        engine.train(make_net(), iterator(problem), nn.ClassNLLCriterion(), background=True)
    engine.stop()
    assert again.error is None and not again.running
