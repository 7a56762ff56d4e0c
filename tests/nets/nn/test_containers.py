"""Containers: outputs, gradients through branches, the functional form, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.nets.nn.custom_layers import Crop, Scale
from tests.nets.nn.custom_layers import sample as _x
from tests.tolerance import assert_close


def test_sequential_chain_add_insert_remove():
    net = nn.Sequential().add(Scale(3, 2.0)).add(Scale(3, 3.0))
    # scaling by 0.5 or 2 is exact, so each chain rounds once, as 6 * x and 3 * x do
    np.testing.assert_array_equal(net.forward(_x()), 6 * _x())
    net.insert(Scale(3, 0.5), 0)
    assert net.size() == 3 and len(net) == 3
    np.testing.assert_array_equal(net.forward(_x()), 3 * _x())
    removed = net.remove(0)
    assert float(removed.weight[0]) == 0.5
    assert net.get(1) is net[1] is net.modules[1]
    np.testing.assert_array_equal(net.forward(_x()), 6 * _x())


def test_add_rejects_non_modules():
    with pytest.raises(ModuleError, match="add expected an nn.Module, got int"):
        nn.Sequential().add(3)


def test_concat_joins_along_zero_based_dim_and_backprops():
    net = nn.Concat(1).add(Scale(3, 2.0)).add(Scale(3, -1.0))
    x = _x()
    out = net.forward(x)
    assert out.shape == (2, 6, 4, 4)
    np.testing.assert_array_equal(out[:, 3:], -x)  # a product by -1: exact
    gin = net.backward(x, jnp.ones_like(out))
    np.testing.assert_allclose(gin, jnp.ones_like(x))  # 2 + (-1)
    # a sum over 2*4*4 values of mixed sign: the scale is the sum of their magnitudes
    scale = float(jnp.abs(x).sum((0, 2, 3)).max())
    assert_close(net.modules[0].gradWeight, x.sum((0, 2, 3)), terms=2 * 4 * 4, scale=scale)


def test_concat_mismatch_names_both_branches():
    net = nn.Concat(1).add(Scale(3)).add(Crop(1))
    with pytest.raises(
        ModuleError,
        match=r"agree except in dim 1, got \(2, 3, 4, 4\) from \(0\) "
        r"and \(2, 3, 2, 2\) from \(1\)",
    ):
        net.forward(_x())


def test_depth_concat_centres_smaller_outputs():
    net = nn.DepthConcat(1).add(Scale(3)).add(Crop(1))
    x = _x()
    out = net.forward(x)
    assert out.shape == (2, 6, 4, 4)
    np.testing.assert_allclose(out[:, 3:, 1:3, 1:3], x[:, :, 1:3, 1:3])
    assert float(jnp.abs(out[:, 3:, 0, :]).sum()) == 0.0


def test_functional_form_of_a_branching_net_under_jit_and_grad():
    net = nn.Sequential(nn.ConcatTable().add(Scale(3, 2.0)).add(Scale(3, 3.0)), nn.CAddTable())
    params, buffers = net.split()
    assert sorted(params) == ["0.0.weight", "0.1.weight"]
    x = _x()
    grads = jax.jit(jax.grad(lambda p: net.call(p, buffers, x)[0].sum()))(params)
    scale = float(jnp.abs(x).sum((0, 2, 3)).max())  # as above: 2*4*4 values of mixed sign
    assert_close(grads["0.0.weight"], x.sum((0, 2, 3)), terms=2 * 4 * 4, scale=scale)
