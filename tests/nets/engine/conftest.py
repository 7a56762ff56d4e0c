"""A tiny classification problem and network, fast to compile."""

import numpy as np
import pytest

import nets
from nets import data, nn


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32) + (x[:, 2] > 1).astype(np.int32)
    return data.TensorDataset(x, y)


@pytest.fixture
def make_net():
    def make(seed=0):
        nets.manual_seed(seed)
        return (
            nn.Sequential()
            .add(nn.Linear(4, 8))
            .add(nn.Tanh())
            .add(nn.Linear(8, 3))
            .add(nn.LogSoftMax())
        )

    return make
