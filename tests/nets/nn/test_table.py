"""Table layers (CAddTable, JoinTable) and the list-valued containers that feed them."""

import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.nets.nn.custom_layers import Scale
from tests.nets.nn.custom_layers import sample as _x
from tests.tolerance import assert_close


def test_concat_table_parallel_table_cadd_join():
    x = _x()
    branches = nn.ConcatTable().add(Scale(3, 2.0)).add(Scale(3, 3.0))
    outs = branches.forward(x)
    assert isinstance(outs, list) and len(outs) == 2
    residual = nn.Sequential(branches, nn.CAddTable())
    assert_close(residual.forward(x), 5 * x, terms=2)  # 2x + 3x
    gin = residual.backward(x, jnp.ones_like(x))
    np.testing.assert_array_equal(gin, 5 * jnp.ones_like(x))  # 2 + 3: exact
    par = nn.ParallelTable().add(Scale(3, 2.0)).add(Scale(3, 3.0))
    joined = nn.Sequential(par, nn.JoinTable(1)).forward([x, x])
    assert joined.shape == (2, 6, 4, 4)
    np.testing.assert_array_equal(joined[:, 3:], 3 * x)  # the same one product


def test_join_table_n_input_dims_shifts_for_batches():
    join = nn.JoinTable(0, 3)
    single = join.forward([jnp.ones((2, 4, 4)), jnp.ones((3, 4, 4))])
    assert single.shape == (5, 4, 4)
    batch = join.forward([jnp.ones((8, 2, 4, 4)), jnp.ones((8, 3, 4, 4))])
    assert batch.shape == (8, 5, 4, 4)


def test_table_errors():
    with pytest.raises(
        ModuleError,
        match=r"nn.CAddTable: expected arrays of one shape, got "
        r"\(2, 3\) at \[0\] and \(3,\) at \[1\]",
    ):
        nn.CAddTable().forward([jnp.ones((2, 3)), jnp.ones(3)])
    with pytest.raises(ModuleError, match=r"expected a non-empty list \(table\) of arrays"):
        nn.JoinTable(0).forward(jnp.ones(3))
    with pytest.raises(ModuleError, match=r"nn.ParallelTable: expected a list of 2 inputs, got"):
        nn.ParallelTable().add(Scale(1)).add(Scale(1)).forward([jnp.ones((1, 1))])
