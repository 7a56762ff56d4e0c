"""nets._shape: Torch7's output-size formulas and the shared input checks."""

import jax.numpy as jnp
import pytest

from nets import nn
from nets._errors import ModuleError
from nets._shape import (
    adaptive_pool_bounds,
    check_frames,
    check_output_size,
    conv_output_size,
    frames_batch,
    pool_output_size,
    spatial_batch,
    unbatch,
    volumetric_batch,
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


def test_volumetric_and_frame_batches():
    m = nn.ReLU()
    x, batched = volumetric_batch(m, jnp.zeros((2, 3, 4, 5)), planes=2)
    assert x.shape == (1, 2, 3, 4, 5) and not batched
    x, batched = volumetric_batch(m, jnp.zeros((6, 2, 3, 4, 5)))
    assert batched and x.shape == (6, 2, 3, 4, 5)
    with pytest.raises(ModuleError, match=r"expected 3 input planes \(dim 0 of the input\)"):
        volumetric_batch(m, jnp.zeros((2, 3, 4, 5)), planes=3)
    with pytest.raises(ModuleError, match=r"expected a 4D \(C, T, H, W\) sample or a 5D"):
        volumetric_batch(m, jnp.zeros((3, 4, 5)))
    x, batched = frames_batch(m, jnp.zeros((7, 3)), frame_size=3)
    assert x.shape == (1, 7, 3) and not batched
    with pytest.raises(ModuleError, match=r"expected frames of size 4 \(dim 2 of the input\)"):
        frames_batch(m, jnp.zeros((2, 7, 3)), frame_size=4)
    check_frames(m, jnp.zeros((7, 3)), 7)
    with pytest.raises(ModuleError, match=r"at least kW=8 frames \(dim 0 of the input\), got 7"):
        check_frames(m, jnp.zeros((7, 3)), 8)
    with pytest.raises(ModuleError, match=r"\(dim 1 of the input\), got 7 in input of shape"):
        check_frames(m, jnp.zeros((2, 7, 3)), 8)


def test_check_output_size_any_number_of_axes():
    m = nn.ReLU()
    check_output_size(m, jnp.zeros((1, 2, 3, 4, 5)), 6, (1, 1, 1))
    with pytest.raises(
        ModuleError,
        match=r"given input size \(2x3x4x5\), calculated output size \(6x1x0x2\)",
    ):
        check_output_size(m, jnp.zeros((1, 2, 3, 4, 5)), 6, (1, 0, 2))
