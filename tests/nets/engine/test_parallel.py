import jax
import numpy as np
import pytest

from nets import data, nn
from nets.engine import DataParallel, Engine


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
    for k in results[0]:
        np.testing.assert_allclose(results[1][k], results[0][k], rtol=1e-5, atol=1e-6)


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
