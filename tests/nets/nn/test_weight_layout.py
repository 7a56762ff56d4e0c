"""Evaluate-mode forward hands convolution weights to compiled code as HWIO copies."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets.native import conv as native_conv
from nets.nn import compiled, lowering, weight_layout
from tests.tolerance import assert_close, path_terms

# The convolutions' taps along _net's path: 5x3x3, 16x1x1, 8x3x3, 3x3x3 per group.
TERMS = path_terms(5 * 9, 16, 8 * 9, 3 * 9)

# The copies are for XLA's CPU convolutions; other backends get none.
pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU layouts only")


@pytest.fixture(autouse=True)
def _xla_convolutions(monkeypatch):
    """These tests are about XLA's convolutions, which read HWIO: keep oneDNN's kernels (which
    read OIHW, and take every 3x3 layer where they load; tests/nets/native) out of them."""
    monkeypatch.setattr(native_conv, "supported", lambda *args, **kwargs: False)


def test_native_convolutions_get_no_copies(monkeypatch):
    from nets import native

    monkeypatch.undo()  # the real rule, with oneDNN's kernels where they load
    if not native.load():
        pytest.skip(f"native kernels not in use: {native.status()}")
    assert not lowering.reads_hwio((64, 64, 3, 3))  # oneDNN reads OIHW
    assert lowering.reads_hwio((128, 64, 1, 1))  # 1x1: still XLA's product


def _net():
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(5, 16, 3, 3, 1, 1, 1, 1))  # lax: HWIO
    net.add(nn.ReLU())
    net.add(nn.SpatialConvolution(16, 8, 1, 1))  # matmul: HWIO
    net.add(nn.SpatialConvolution(8, 6, 3, 3))  # 6 output planes, padded to 8: OIHW
    net.add(nn.SpatialConvolution(6, 8, 3, 3, 1, 1, 1, 1, groups=2))  # grouped: OIHW
    return net


def _cache(net):
    return compiled.weight_copies(net)


def test_hwio_paths_pick_the_weights_xla_reads_as_hwio():
    net = _net()
    params = net.split()[0]
    assert weight_layout.hwio_paths(net, params) == {"0.weight", "2.weight"}
    with lowering.plain_path():
        assert weight_layout.hwio_paths(net, params) == frozenset()


def test_reads_hwio_rules():
    assert lowering.reads_hwio((64, 64, 3, 3))
    assert lowering.reads_hwio((64, 3, 7, 7))  # the ResNet stem is on XLA's convolution
    assert lowering.reads_hwio((10, 6, 1, 1))  # 1x1: a product, whatever the channels
    assert not lowering.reads_hwio((6, 1, 5, 5))  # LeNet's first layer: "taps"
    assert not lowering.reads_hwio((6, 8, 3, 3))  # output planes padded to 8
    assert not lowering.reads_hwio((16, 6, 3, 3))  # input planes padded to 8
    assert not lowering.reads_hwio((64, 64, 3, 3), groups=2)


def test_evaluate_forward_equals_the_pure_call_and_reuses_its_copies():
    net = _net().evaluate()
    x = jax.random.normal(jax.random.key(0), (2, 5, 9, 9))
    params, buffers = net.split()
    expected = np.asarray(net.call(params, buffers, x)[0])
    out = np.asarray(net.forward(x))
    assert_close(out, expected, terms=TERMS)
    copies = {k: v[1] for k, v in _cache(net).items()}
    assert set(copies) == {"0.weight", "2.weight"}
    assert copies["0.weight"].shape == (3, 3, 5, 16)
    hwio = np.transpose(params["0.weight"], (2, 3, 1, 0))
    np.testing.assert_array_equal(copies["0.weight"], hwio)
    net.forward(x)
    assert all(_cache(net)[k][1] is v for k, v in copies.items())  # not transposed again
    # What the user reads is still Torch's layout.
    assert net.get(0).weight.shape == (16, 5, 3, 3)


def test_a_changed_weight_is_never_served_stale():
    net = _net().evaluate()
    x = jax.random.normal(jax.random.key(1), (2, 5, 9, 9))
    before = np.asarray(net.forward(x))
    net.get(0).weight = net.get(0).weight * 2.0  # a new array object
    params, buffers = net.split()
    expected = np.asarray(net.call(params, buffers, x)[0])
    after = np.asarray(net.forward(x))
    assert not np.allclose(after, before)
    assert_close(after, expected, terms=TERMS)
    # Torch's update path replaces the arrays too.
    net.training()
    net.zeroGradParameters()
    net.forward(x)
    assert _cache(net) == {}  # training-mode forward holds no copies
    net.backward(x, jnp.ones_like(net.output))
    net.updateParameters(0.1)
    net.evaluate()
    params, buffers = net.split()
    expected = np.asarray(net.call(params, buffers, x)[0])
    assert_close(np.asarray(net.forward(x)), expected, terms=TERMS)


def test_the_compiled_forward_has_no_weight_transposes():
    net = nn.Sequential().add(nn.SpatialConvolution(8, 16, 3, 3)).add(nn.ReLU()).evaluate()
    x = jnp.ones((2, 8, 12, 12))
    net.forward(x)
    fn = compiled.module_fn(net, "forward")
    params, buffers = net.split()
    hwio = weight_layout.hwio_paths(net, params)
    fed = weight_layout.prepare(params, hwio, {})
    key = jax.random.key_data(jax.random.key(0))
    text = fn.lower(fed, buffers, x, key, hwio).compile().as_text()
    # Every instruction of the weight's shape, in either order, is the parameter itself.
    weight_shaped = [
        line
        for line in text.splitlines()
        if re.search(r"= f32\[(3,3,8,16|16,8,3,3)\]", line) and "parameter(" not in line
    ]
    assert weight_shaped == []


def test_a_weight_that_is_no_longer_4d_passes_through():
    cache = {}
    params = {"w": jnp.ones((3, 3))}
    assert weight_layout.prepare(params, frozenset({"w"}), cache)["w"] is params["w"]
    assert weight_layout.restore(params, frozenset({"w"}))["w"] is params["w"]
