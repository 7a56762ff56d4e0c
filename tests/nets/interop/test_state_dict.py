"""State dicts: safetensors files out and in, dicts of arrays in, every mismatch listed."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import models, nn
from nets.interop import StateDictError


def test_safetensors_round_trip_is_bitwise(tmp_path):
    nets.manual_seed(0)
    net = models.get("resnet20_cifar")  # convolutions, batch-norm buffers, a classifier
    path = tmp_path / "net.safetensors"
    nets.save_safetensors(net, path)
    nets.manual_seed(1)
    other = models.get(net.model_name)
    report = nets.load_state_dict(other, path)
    assert report == {"missing": [], "unexpected": [], "mismatched": []}
    for a, b in zip(net.split(), other.split(), strict=True):
        for k in a:
            assert np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes()


def test_every_mismatch_is_listed_and_nothing_is_loaded(tmp_path):
    net = nn.Sequential().add(nn.Linear(3, 2)).add(nn.Linear(2, 1))
    before = [np.asarray(p) for p in net.parameters()[0]]
    source = {
        "0.weight": np.zeros((2, 3), np.float32),
        "0.bias": np.zeros((5,), np.float32),  # wrong shape
        "2.weight": np.zeros((1, 2), np.float32),  # not in the network
    }
    with pytest.raises(StateDictError) as caught:
        nets.load_state_dict(net, source)
    text = str(caught.value)
    assert "nothing was loaded" in text
    assert "missing (2): 1.bias; 1.weight" in text
    assert "unexpected (1): 2.weight" in text
    assert "0.bias: the network has (2,) float32, the source (5,) float32" in text
    for p, b in zip(net.parameters()[0], before, strict=True):
        np.testing.assert_array_equal(p, b)
    report = nets.load_state_dict(net, source, strict=False)
    assert report["missing"] == ["1.bias", "1.weight"]
    np.testing.assert_array_equal(net.modules[0].weight, np.zeros((2, 3)))
    np.testing.assert_array_equal(net.modules[0].bias, before[1])  # the misshapen one is kept


def test_files_that_hold_no_state_dict_are_named(tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(StateDictError, match=r"x.safetensors is not a readable safetensors"):
        nets.load_state_dict(nn.Linear(2, 2), bad)
    with pytest.raises(FileNotFoundError, match=r"no file at"):
        nets.load_state_dict(nn.Linear(2, 2), tmp_path / "resnet.pth")


def test_bfloat16_arrays_keep_their_dtype(tmp_path):
    net = nn.Linear(4, 2).bfloat16()
    path = tmp_path / "bf.safetensors"
    nets.save_safetensors(net, path)
    back = nn.Linear(4, 2).bfloat16()
    nets.load_state_dict(back, path)
    assert back.weight.dtype == jnp.bfloat16
    np.testing.assert_array_equal(
        np.asarray(back.weight, np.float32), np.asarray(net.weight, np.float32)
    )


@pytest.mark.parametrize(
    "name", ["lenet5", "alexnet", "vgg11", "googlenet", "inception_v3", "resnet18"]
)
def test_every_zoo_family_loads_a_state_dict_by_nets_names(name):
    """nets' own names (the other layout; torchvision's is tests/nets/interop/test_torchvision)."""
    net = models.abstract(name)
    params, buffers = net.split()
    rng = np.random.default_rng(0)
    source = {
        k: rng.normal(size=v.shape).astype(np.float32) for k, v in {**params, **buffers}.items()
    }
    assert nets.load_state_dict(net, source) == {"missing": [], "unexpected": [], "mismatched": []}
    params, buffers = net.split()
    for k, v in {**params, **buffers}.items():
        np.testing.assert_array_equal(v, source[k])
