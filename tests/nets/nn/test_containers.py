"""Containers: outputs, gradients through branches, the functional form, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nets
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


# ------------------------------------------------------ issue 19: Parallel, MapTable, Bottle

FD_TOL = 1e-6  # float64 central differences with Torch7's step (see test_jacobian)
RNG = np.random.default_rng(19)


def test_parallel_slices_the_input_and_joins_outputs():
    a, b = nn.Linear(3, 2), nn.Linear(3, 4)
    m = nn.Parallel(1, 0).add(a).add(b)
    x = jnp.asarray(RNG.standard_normal((3, 2)), jnp.float32)
    out = m.forward(x)
    wa, ba, wb, bb = (np.asarray(v, np.float64) for v in (a.weight, a.bias, b.weight, b.bias))
    x64 = np.asarray(x, np.float64)
    want = np.concatenate([wa @ x64[:, 0] + ba, wb @ x64[:, 1] + bb])
    assert_close(out, want, terms=3 + 1)  # each a Linear over 3 inputs and its bias
    errors = nn.Jacobian.testAll(m, np.zeros((3, 2)))
    assert set(errors) == {"input", "0.weight", "0.bias", "1.weight", "1.bias"}
    assert max(errors.values()) < FD_TOL, errors
    assert repr(m).startswith("nn.Parallel {\n  input\n    |`-> (0): nn.Linear(3 -> 2)")
    with pytest.raises(
        ModuleError,
        match=r"nn\.Parallel: expected an input with 2 slices .* along dim 1, got \(3, 3\)",
    ):
        m.forward(jnp.zeros((3, 3)))


def test_map_table_shares_one_module_across_elements():
    lin = nn.Linear(3, 2)
    m = nn.MapTable(lin)
    xs = [jnp.asarray(RNG.standard_normal((4, 3)), jnp.float32) for _ in range(3)]
    outs = m.forward(xs)
    assert len(outs) == 3
    for x, o in zip(xs, outs, strict=True):
        np.testing.assert_array_equal(o, lin.forward(x))  # one module, one computation
    # shared parameters: their gradient is the sum over the elements
    m.zeroGradParameters()
    m.backward(xs, [jnp.ones((4, 2))] * 3)
    assert_close(
        m.modules[0].gradWeight, np.tile(np.sum([x.sum(0) for x in xs], 0), (2, 1)), terms=12
    )
    assert repr(m) == "nn.MapTable {\n  nn.Linear(3 -> 2)\n}"


def test_map_table_unshared_copies_after_resize():
    m = nn.MapTable(nn.Linear(3, 2), False)
    with pytest.raises(
        ModuleError, match=r"(?s)nn\.MapTable: expected at most 1 elements .*help: call resize\(2\)"
    ):
        m.forward([jnp.ones(3), jnp.ones(3)])
    m.resize(2)
    assert len(m.modules) == 2 and m.modules[1].weight is not m.modules[0].weight
    m.modules[1].weight = m.modules[1].weight * 2
    a, b = m.forward([jnp.ones(3), jnp.ones(3)])
    assert not np.allclose(a, b)


def test_bottle_folds_leading_dims():
    lin = nn.Linear(3, 2)
    m = nn.Bottle(lin)
    x = jnp.asarray(RNG.standard_normal((2, 4, 3)), jnp.float32)
    out = m.forward(x)
    assert out.shape == (2, 4, 2)
    np.testing.assert_array_equal(out.reshape(8, 2), lin.forward(x.reshape(8, 3)))
    np.testing.assert_array_equal(m.forward(x[0]), lin.forward(x[0]))  # no extra dims: as is
    errors = nn.Jacobian.testAll(m, np.zeros((2, 2, 3)))
    assert max(errors.values()) < FD_TOL, errors
    assert repr(m) == "nn.Bottle @ nn.Linear(3 -> 2)"
    with pytest.raises(ModuleError, match=r"nn\.Bottle @ .*: expected the module to output 3 dims"):
        nn.Bottle(nn.Linear(3, 2), 2, 3).forward(x)
    with pytest.raises(ModuleError, match=r"\(0\) nn\.Linear\(3 -> 2\): expected input of size 3"):
        m.forward(jnp.zeros((2, 4, 5)))


def test_new_containers_survive_a_checkpoint(tmp_path):
    net = nn.Sequential(
        nn.Bottle(nn.Linear(3, 4)),
        nn.SplitTable(1),
        nn.MapTable(nn.Tanh()),
        nn.CMaxTable(),
    )
    x = jnp.asarray(RNG.standard_normal((2, 5, 3)), jnp.float32)
    want = net.forward(x)
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(x), want)
