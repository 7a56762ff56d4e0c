"""nets._shape: Torch7's output-size formulas and the shared input checks."""

import jax.numpy as jnp
import pytest

from nets import nn
from nets._errors import ModuleError
from nets._shape import (
    adaptive_pool_bounds,
    conv_output_size,
    pool_output_size,
    spatial_batch,
    unbatch,
)


def test_conv_output_size():
    assert conv_output_size(32, 5) == 28
    assert conv_output_size(224, 11, 4, 2) == 55
    assert conv_output_size(4, 5) == 0


@pytest.mark.parametrize(
    "size,k,d,p,ceil_mode,want",
    [
        (28, 2, 2, 0, False, 14),
        (7, 2, 2, 0, False, 3),
        (7, 2, 2, 0, True, 4),
        (55, 3, 2, 0, True, 27),
        (5, 3, 3, 1, True, 2),  # the third window would start in the right padding
        (6, 3, 2, 1, True, 4),  # ceil((6+2-3)/2)+1 = 4 and (4-1)*2 = 6 < 6+1: kept
    ],
)
def test_pool_output_size_torch_rule(size, k, d, p, ceil_mode, want):
    assert pool_output_size(size, k, d, p, ceil_mode) == want


def test_adaptive_pool_bounds_floor_ceil():
    assert adaptive_pool_bounds(5, 3) == [(0, 2), (1, 4), (3, 5)]
    assert adaptive_pool_bounds(4, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_spatial_batch_adds_and_removes_the_batch_axis():
    m = nn.ReLU()
    x, batched = spatial_batch(m, jnp.zeros((3, 4, 5)), planes=3)
    assert x.shape == (1, 3, 4, 5) and not batched
    assert unbatch(x, batched).shape == (3, 4, 5)
    x, batched = spatial_batch(m, jnp.zeros((2, 3, 4, 5)))
    assert batched and unbatch(x, batched).shape == (2, 3, 4, 5)
    with pytest.raises(
        ModuleError, match=r"nn\.ReLU: expected 3 input planes \(dim 1 of the input\)"
    ):
        spatial_batch(m, jnp.zeros((2, 4, 4, 5)), planes=3)
