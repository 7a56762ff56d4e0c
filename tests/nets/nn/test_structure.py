"""A module tree's description: a hashable value that changes exactly with the structure."""

import jax
import jax.numpy as jnp

import nets
from nets import models, nn


def test_equal_networks_have_equal_descriptions_and_hashes():
    nets.manual_seed(0)
    a, b = models.get("lenet5"), models.get("lenet5")
    assert a.describe() == b.describe()
    assert hash(a.describe()) == hash(b.describe())
    assert {a.describe(): "lenet"}[b.describe()] == "lenet"


def test_the_description_holds_classes_settings_and_arrays():
    net = nn.Sequential().add(nn.SpatialConvolution(3, 6, 5, 5)).add(nn.Dropout(0.3))
    text = repr(net.describe())
    assert "nets.nn.convolution.SpatialConvolution(" in text
    assert "kW=5" in text and "p=0.3" in text
    assert "weight:param (6, 3, 5, 5) float32" in text
    entries = {path: entry for path, *entry in net.describe().entries}
    assert set(entries) == {"", "0", "1"}


def test_every_kind_of_change_changes_the_description():
    net = nn.Sequential().add(nn.Linear(4, 3)).add(nn.Dropout(0.5))
    first = net.describe()
    net.modules[1].p = 0.2  # a hyper-parameter
    second = net.describe()
    assert second != first
    net.modules[1].p = 0.5  # back: equal again
    assert net.describe() == first
    net.add(nn.ReLU())  # a child
    assert net.describe() != first
    net.remove()
    assert net.describe() == first
    net.modules[0].noBias()  # an array removed
    assert net.describe() != first
    net.modules[0].weight = jnp.zeros((3, 4), jnp.bfloat16)  # a dtype
    assert "bfloat16" in repr(net.describe())


def test_arrays_values_and_training_flags_leave_it_alone():
    net = nn.Sequential().add(nn.Linear(4, 3))
    first = net.describe()
    net.modules[0].weight = net.modules[0].weight * 2
    net.forward(jnp.ones((2, 4)))
    net.evaluate()
    assert net.describe() == first


def test_a_container_mutated_in_place_is_seen():
    net = nn.Sequential().add(nn.Linear(4, 3))
    first = net.describe()
    net.modules.append(nn.Tanh())  # not through add(): the next walk still sees it
    assert net.describe() != first
    assert net.forward(jnp.ones(4)).shape == (3,)
    assert float(jnp.max(jnp.abs(net.output))) <= 1.0


def test_shape_only_construction_draws_nothing():
    nets.manual_seed(3)
    before = nets._random.generator().bit_generator.state
    with nets.shape_only():
        net = models.get("vgg16")
    assert nets._random.generator().bit_generator.state == before
    weight = net.findModules("SpatialConvolution")[0].weight
    assert isinstance(weight, jax.ShapeDtypeStruct) and weight.shape == (64, 3, 3, 3)
    assert net.describe() == models.abstract("vgg16").describe()
    nets.manual_seed(3)
    assert models.get("lenet5").describe() == models.abstract("lenet5").describe()
