"""The one compile cache: what recompiles, and what does not, counted through JAX's events."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import data, models, nn
from nets.engine import Engine
from nets.nn import compiled
from tests.compile_events import compilations, named


@pytest.fixture(scope="module")
def resnet():
    nets.manual_seed(0)
    net = models.get("resnet18").evaluate()
    x = jnp.ones((1, 3, 64, 64))
    net.forward(x)
    return net, x


def test_unrelated_modules_never_recompile_a_network(resnet):
    net, x = resnet
    dropout = nn.Dropout(0.5)
    with compilations() as seen:
        net.forward(x)
        nn.Linear(10, 10)  # building any number of unrelated modules
        models.get("lenet5")
        nn.Sequential().add(nn.SpatialConvolution(3, 8, 3, 3)).add(nn.ReLU())
        dropout.p = 0.25  # changing an unrelated module's hyper-parameter
        dropout.setp(0.1)
        net.forward(x)
    assert seen == []


def test_a_change_inside_a_network_recompiles_that_network_only(resnet):
    net, x = resnet
    lenet = models.get("lenet5").evaluate()
    y = jnp.ones((2, 3, 32, 32))
    lenet.forward(y)
    bn = net.findModules("SpatialBatchNormalization")[3]
    old = bn.eps
    try:
        bn.eps = 1e-3
        with compilations() as seen:
            lenet.forward(y)
            out = net.forward(x)
            net.forward(x)
        assert named(seen, "forward") == ["jit(forward)"]  # ResNet-18's, once
        assert out.shape == (1, 1000)
    finally:
        bn.eps = old
    with compilations() as seen:  # back to the first description: its code is still kept
        net.forward(x)
    assert seen == []


def test_equal_networks_share_their_compiled_code():
    nets.manual_seed(1)
    a, b = models.get("lenet5").evaluate(), models.get("lenet5").evaluate()
    x = jnp.ones((2, 3, 32, 32))
    a.forward(x)
    with compilations() as seen:
        out = b.forward(x)
    assert seen == []
    params, buffers = b.split()
    np.testing.assert_array_equal(out, b.call(params, buffers, x)[0])  # b's weights, not a's


def test_mode_and_sharing_are_part_of_the_key():
    net = nn.Sequential().add(nn.Linear(4, 4)).add(nn.Dropout(0.5))
    x = jnp.ones((2, 4))
    net.evaluate()
    np.testing.assert_array_equal(net.forward(x), net.forward(x))
    net.training()
    with compilations() as seen:
        net.forward(x)
    assert named(seen, "forward_vjp")
    twin = nn.Sequential().add(nn.Linear(4, 4)).add(nn.Linear(4, 4))
    shared = twin.clone()
    shared.modules[1].share(shared.modules[0], "weight", "bias")
    assert twin.describe() != shared.describe()
    assert len(shared.split()[0]) == 2 and len(twin.split()[0]) == 4


def test_engine_test_compiles_once_over_three_epochs():
    nets.manual_seed(0)
    train, test = data.digits("train"), data.digits("test")
    net = nn.Sequential().add(nn.View(64)).add(nn.Linear(64, 10)).add(nn.LogSoftMax())
    criterion = nn.ClassNLLCriterion()
    engine = Engine(progress=False)
    losses = []
    engine.hooks["onEndEpoch"] = lambda state: losses.append(
        engine.test(net, data.DatasetIterator(test, 64), criterion)["loss"]
    )
    with compilations() as seen:
        engine.train(
            net, data.DatasetIterator(train, 64), criterion, "sgd", {"learningRate": 0.1}, 3
        )
    assert len(losses) == 3 and losses[-1] < losses[0]
    # full batches and the last, smaller one: one program each, built in the first epoch only
    assert len(named(seen, "evaluation_step")) == 2
    assert len(named(seen, "train_step")) == 2


def test_changing_a_criterion_setting_recompiles_the_criterion_only():
    crit = nn.ClassNLLCriterion()
    other = nn.ClassNLLCriterion()
    x = jnp.log(jnp.full((3, 4), 0.25))
    y = jnp.array([0, 1, 2])
    crit.forward(x, y)
    other.forward(x, y)
    crit.sizeAverage = False
    with compilations() as seen:
        assert other.forward(x, y) == pytest.approx(np.log(4), rel=1e-6)
        assert crit.forward(x, y) == pytest.approx(3 * np.log(4), rel=1e-6)
    assert named(seen, "loss") == ["jit(loss)"]


def test_the_cache_is_bounded():
    before = compiled.size()
    assert 0 < before <= compiled.CACHE_SIZE
