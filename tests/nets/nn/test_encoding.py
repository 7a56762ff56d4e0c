"""OneHot and Constant: values, batch and single sample, zero gradients, printed forms, bad
arguments and inputs, a checkpoint round trip."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError


def test_one_hot_encodes_zero_based_indices_in_a_last_axis():
    idx = np.array([[1, 0, 3], [2, 2, 0]])
    y = nn.OneHot(4).forward(idx)
    assert y.shape == (2, 3, 4) and y.dtype == jnp.float32
    np.testing.assert_array_equal(y, np.eye(4)[idx])
    np.testing.assert_array_equal(nn.OneHot(4).forward(np.array([3, 1])), np.eye(4)[[3, 1]])
    np.testing.assert_array_equal(nn.OneHot(3).forward(2), [0, 0, 1])  # a number: one row
    np.testing.assert_array_equal(nn.OneHot(3).forward(np.float32([1, 2])), np.eye(3)[[1, 2]])
    m = nn.OneHot(4)
    m.forward(np.float32([1, 2]))
    np.testing.assert_array_equal(m.backward(np.float32([1, 2]), jnp.ones((2, 4))), [0, 0])


def test_constant_outputs_its_value_repeated_over_a_batch():
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    m = nn.Constant(v, 1)
    x = np.ones((4, 5), np.float32)
    np.testing.assert_array_equal(m.forward(x), np.broadcast_to(v, (4, 2, 3)))
    np.testing.assert_array_equal(m.forward(x[0]), v)  # a sample of nInputDim dims
    np.testing.assert_array_equal(m.backward(x, jnp.ones((4, 2, 3))), np.zeros((4, 5)))
    np.testing.assert_array_equal(nn.Constant(2.5).forward(x), [2.5])  # Torch7: a (1,) tensor
    # appending a constant input to a table, Torch7's use
    out = nn.ConcatTable(nn.Constant(2.5), nn.Identity()).forward(x[0])
    np.testing.assert_array_equal(out[0], [2.5])


def test_printed_forms_and_errors():
    assert repr(nn.OneHot(7)) == "nn.OneHot(7)" and repr(nn.Constant(1)) == "nn.Constant"
    with pytest.raises(ModuleError, match=r"nn\.OneHot: expected outputSize .* >= 1, got 0"):
        nn.OneHot(0)
    with pytest.raises(ModuleError, match=r"nn\.OneHot\(3\): expected an array of class indices"):
        nn.OneHot(3).forward(np.array([True]))
    with pytest.raises(ModuleError, match=r"nn\.OneHot\(3\): expected an array, got a table"):
        nn.OneHot(3).forward([np.array([1])])
    with pytest.raises(ModuleError, match=r"nn\.Constant: expected value .* got 'a'"):
        nn.Constant("a")
    with pytest.raises(ModuleError, match=r"nn\.Constant: expected nInputDim .* >= 0, got -1"):
        nn.Constant(1.0, -1)


def test_encoding_layers_survive_a_checkpoint(tmp_path):
    net = nn.ConcatTable(nn.Sequential(nn.OneHot(5), nn.Sum(1, 2)), nn.Constant(np.ones(5), 1))
    idx = np.array([[0, 4, 4], [1, 2, 3]])
    want = net.forward(idx)
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net)
    for a, b in zip(back.forward(idx), want, strict=True):
        np.testing.assert_array_equal(a, b)
