"""Torch7 .t7 files: every tensor type, tables, shared references, the seed's network and a
CIFAR-style data table, binary and ascii; hostile files refused without running anything."""

import struct

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets.interop import t7
from tests.tolerance import assert_close

TYPES = [np.uint8, np.int8, np.int16, np.int32, np.int64, np.float32, np.float64, np.float16]


@pytest.mark.parametrize("ascii_", [False, True])
def test_every_tensor_type_and_table_round_trips(tmp_path, ascii_):
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(2, 3)).astype(np.float32)
    obj = {
        "tensors": [np.arange(24).reshape(2, 3, 4).astype(t) for t in TYPES],
        "a": shared,
        "b": shared,  # the same tensor twice: one object in the file
        "name": "cifar",
        "n": 3,
        "x": 0.1,
        "flag": True,
        "nothing": None,
    }
    path = tmp_path / "t.t7"
    t7.save_t7(obj, path, ascii=ascii_)
    back = t7.load_t7(path)
    for want, got in zip(obj["tensors"], back["tensors"], strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(back["a"], shared)
    assert back["a"] is back["b"]
    assert (back["name"], back["n"], back["x"], back["flag"]) == ("cifar", 3, 0.1, True)
    assert back["nothing"] is None


def test_the_binary_layout_is_torch7s(tmp_path):
    """A FloatTensor of 2 values, byte by byte as torch.save writes it."""
    path = tmp_path / "v.t7"
    t7.save_t7(np.array([1.5, -2.0], np.float32), path)
    want = b"".join(
        [
            struct.pack("<ii", 4, 1),  # TYPE_TORCH, index 1
            struct.pack("<i", 3) + b"V 1",
            struct.pack("<i", 17) + b"torch.FloatTensor",
            struct.pack("<i", 1),  # nDimension
            struct.pack("<qqq", 2, 1, 1),  # size, stride, storageOffset (1-based)
            struct.pack("<ii", 4, 2),  # the storage: TYPE_TORCH, index 2
            struct.pack("<i", 3) + b"V 1",
            struct.pack("<i", 18) + b"torch.FloatStorage",
            struct.pack("<q", 2) + struct.pack("<ff", 1.5, -2.0),
        ]
    )
    assert path.read_bytes() == want


def seed_net():
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(3, 6, 5, 5)).add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.SpatialConvolution(6, 16, 5, 5)).add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.View(16 * 5 * 5)).add(nn.Linear(400, 120)).add(nn.ReLU())
    net.add(nn.Linear(120, 84)).add(nn.ReLU()).add(nn.Linear(84, 10)).add(nn.LogSoftMax())
    return net


@pytest.mark.parametrize("ascii_", [False, True])
def test_the_seeds_network_comes_back_as_nets_modules(tmp_path, ascii_):
    nets.manual_seed(0)
    net = seed_net().evaluate()
    path = tmp_path / "net.t7"
    t7.save_t7(net, path, ascii=ascii_)
    back = t7.load_t7(path)
    assert repr(back) == repr(net)
    x = jnp.asarray(np.random.default_rng(1).normal(size=(2, 3, 32, 32)), jnp.float32)
    # the same arrays: bit for bit in binary, to 17 (double) / 9 (float) digits in ascii
    assert_close(back.forward(x), net.forward(x), terms=0 if not ascii_ else 1000)
    assert not back.modules[0].train


def test_a_cifar_style_data_table_is_a_data_set(tmp_path):
    data = np.random.default_rng(2).integers(0, 256, (5, 3, 32, 32)).astype(np.uint8)
    label = np.array([1, 2, 3, 4, 5], np.uint8)
    path = tmp_path / "cifar10-train.t7"
    t7.save_t7({"data": data, "label": label}, path)
    trainset = t7.load_t7(path)
    assert len(trainset) == 5
    x, y = trainset[3]
    np.testing.assert_array_equal(x, data[3])
    assert int(y) == 4


def _tensor_header(tag_index=1):
    return struct.pack("<ii", 4, tag_index) + struct.pack("<i", 3) + b"V 1"


def test_hostile_files_are_refused_naming_the_byte(tmp_path):
    path = tmp_path / "f.t7"
    path.write_bytes(struct.pack("<ii", 8, 1) + struct.pack("<i", 4) + b"\x1bLua")
    with pytest.raises(t7.T7Error, match=r"byte 0: a Lua function .* never runs code"):
        t7.load_t7(path)
    t7.save_t7(np.arange(100, dtype=np.float64), path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(t7.T7Error, match=r"byte \d+: a torch.DoubleStorage of 100 elements"):
        t7.load_t7(path)
    huge = _tensor_header() + struct.pack("<i", 18) + b"torch.FloatStorage"
    path.write_bytes(huge + struct.pack("<q", 2**40))  # 4 TB declared, nothing there
    with pytest.raises(t7.T7Error, match=r"of 1099511627776 elements; the file holds fewer"):
        t7.load_t7(path)
    deep = b"".join(
        struct.pack("<iii", 3, i + 1, 1) + struct.pack("<ii", 1, 0) + b"\0" * 4 for i in range(300)
    )
    path.write_bytes(deep)
    with pytest.raises(t7.T7Error, match="nested deeper than"):
        t7.load_t7(path)


def test_an_unknown_class_names_the_class_and_the_way_to_map_it(tmp_path):
    path = tmp_path / "u.t7"
    t7.save_t7(t7.TorchObject("nn.SpatialFullConvolution", {"kW": 3}), path)
    with pytest.raises(
        t7.T7Error,
        match=r"nn.SpatialFullConvolution has no nets counterpart.*"
        r"nets.interop.t7.register",
    ):
        t7.load_t7(path)
    obj = t7.load_t7(path, convert=False)
    assert obj.torch_class == "nn.SpatialFullConvolution" and obj.fields == {"kW": 3}


def test_batch_norm_pooling_and_table_modules_round_trip(tmp_path):
    nets.manual_seed(3)
    branch = nn.Sequential().add(nn.SpatialConvolution(4, 4, 3, 3, 1, 1, 1, 1))
    residual = nn.ConcatTable().add(branch).add(nn.Identity())
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(3, 4, 3, 3, 1, 1, 1, 1)).add(nn.SpatialBatchNormalization(4))
    net.add(residual).add(nn.CAddTable()).add(nn.SpatialAveragePooling(2, 2, 2, 2).ceil())
    net.add(nn.Concat(1).add(nn.Identity()).add(nn.ReLU()))  # 8 planes
    net.add(nn.Reshape(8 * 4 * 4)).add(nn.Linear(128, 6)).add(nn.BatchNormalization(6))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 8, 8)), jnp.float32)
    net.forward(x)  # training mode: running statistics move away from 0 and 1
    net.evaluate()
    path = tmp_path / "blocks.t7"
    t7.save_t7(net, path)
    back = t7.load_t7(path)
    assert back.describe() == net.describe()
    assert back.modules[5].dimension == 1  # Torch7's dimension 2, 0-based again
    np.testing.assert_array_equal(back.modules[1].running_var, net.modules[1].running_var)
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
