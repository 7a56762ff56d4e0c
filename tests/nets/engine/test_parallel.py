import jax
import numpy as np
import pytest

from nets import data, nn
from nets.engine import DataParallel, Engine
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

# one SGD step of make_net's network on a batch of 8: forward (Linear 4 + bias, tanh, Linear
# 8 + bias, log-softmax over 3, the mean over 8), backward (Linear(8, 3)'s input gradient over
# 3 outputs, the weight gradients' sums over the batch of 8), the momentum and weight updates
STEP_TERMS = path_terms(5, ELEMENTWISE, 9, 3 + 2 * ELEMENTWISE, 8, 3, 8, 2)


def test_four_devices_give_the_one_device_parameters(problem, make_net):
    assert jax.device_count() == 4, "tests/conftest.py sets 4 host devices"
    config = {"learningRate": 0.1, "momentum": 0.9, "dampening": 0}
    results = []
    for parallel in (False, True):
        net = make_net()
        engine = Engine(data_parallel=parallel, seed=0)
        it = data.DatasetIterator(problem, 8, prefetch=0)
        state = engine.train(net, it, nn.ClassNLLCriterion(), "sgd", config, maxepoch=2)
        results.append(net.split()[0])
        if parallel:
            leaf = state["params"]["0.weight"]
            assert len(leaf.sharding.device_set) == 4  # replicated over the mesh
    for k in results[0]:  # 2 epochs of 4 steps; the batch's sum split over 4 devices or not
        assert_close(results[1][k], results[0][k], terms=2 * 4 * STEP_TERMS, err_msg=k)


def test_batches_are_split_over_the_batch_axis():
    dp = DataParallel()
    x = dp.batch(np.arange(8.0).reshape(8, 1))
    shards = sorted((s.index[0].start, s.data.shape) for s in x.addressable_shards)
    assert shards == [(0, (2, 1)), (2, (2, 1)), (4, (2, 1)), (6, (2, 1))]
    short = dp.batch(np.arange(6.0).reshape(6, 1))  # 6 does not split over 4: replicated
    assert all(s.data.shape == (6, 1) for s in short.addressable_shards)


def test_no_devices():
    with pytest.raises(ValueError, match="DataParallel: no devices given"):
        DataParallel([])
