import json
import pickle
import struct

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets import serialization as ser


def lenet_like():
    nets.manual_seed(1)
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(1, 4, 3, 3)).add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2))
    net.add(nn.View(36)).add(nn.Linear(36, 5)).add(nn.BatchNormalization(5)).add(nn.LogSoftMax())
    net.modules[5].running_mean = jnp.arange(5.0)
    return net


def test_round_trip_is_bitwise_equal(tmp_path):
    net = lenet_like()
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets")
    assert repr(back) == repr(net)
    for a, b in zip(net.split(), back.split(), strict=True):
        assert list(a) == list(b)
        for k in a:
            assert a[k].dtype == b[k].dtype
            assert np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes()
    x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 1, 8, 8)), jnp.float32)
    out, _ = net.call(*net.split(), x, train=False)
    out_back, _ = back.call(*back.split(), x, train=False)
    np.testing.assert_array_equal(out, out_back)


def test_shared_weights_stay_shared(tmp_path):
    a = nn.Linear(3, 3)
    b = nn.Linear(3, 3).share(a, "weight", "bias")
    nets.save(tmp_path / "s.nets", nn.Sequential().add(a).add(b))
    back = nets.load(tmp_path / "s.nets")
    params, _ = back.split()
    assert list(params) == ["0.weight", "0.bias"]
    back.modules[0].weight = jnp.zeros((3, 3))
    np.testing.assert_array_equal(back.modules[1].weight, jnp.zeros((3, 3)))


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "net.nets"
    nets.save(path, lenet_like())
    before = path.read_bytes()

    def crash(f, table, blobs, base):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(ser, "_write_arrays", crash)
    with pytest.raises(KeyboardInterrupt):
        nets.save(path, nn.Linear(2, 2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.nets"]  # no temp file left


def test_truncated_file(tmp_path):
    path = tmp_path / "net.nets"
    nets.save(path, lenet_like())
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ser.CheckpointError, match=r"is truncated: array '.*' needs bytes"):
        nets.load(path)


def test_corrupt_byte_fails_the_checksum(tmp_path):
    path = tmp_path / "net.nets"
    nets.save(path, lenet_like())
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ser.CheckpointError, match=r"is corrupt: array '.*' fails its checksum"):
        nets.load(path)


def test_foreign_files_are_refused_without_running_them(tmp_path):
    path = tmp_path / "model.t7"
    path.write_bytes(pickle.dumps({"weight": [1, 2]}))
    with pytest.raises(ser.CheckpointError, match=r"is not a nets checkpoint"):
        nets.load(path)
    with pytest.raises(FileNotFoundError, match=r"load: no checkpoint at"):
        nets.load(tmp_path / "missing.nets")


class Scale(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n
        self.register_parameter("weight", jnp.arange(float(n)))

    def updateOutput(self, input):
        self.output = input * self.weight
        return self.output


def test_user_classes_must_be_named_to_load(tmp_path):
    path = tmp_path / "scale.nets"
    nets.save(path, Scale(3))
    with pytest.raises(
        ser.CheckpointError,
        match=r"outside the nets package; pass it explicitly:"
        r" nets.load\(path, classes=\[Scale\]\)",
    ):
        nets.load(path)
    back = nets.load(path, classes=[Scale])
    assert back.n == 3
    np.testing.assert_array_equal(back.forward(jnp.ones(3)), [0.0, 1.0, 2.0])


def test_unstorable_attribute_is_named(tmp_path):
    m = nn.Identity()
    m.hook = lambda x: x
    with pytest.raises(
        ser.CheckpointError,
        match=r"attribute 'hook' of module <root> "
        r"\(nn.Identity\) holds a function",
    ):
        nets.save(tmp_path / "x.nets", m)


def test_checkpoint_with_extra_arrays_and_meta(tmp_path):
    path = tmp_path / "ck.nets"
    arrays = {"opt/0": np.ones(2, np.int32), "count": np.int32(7)}
    ser.write_checkpoint(path, None, arrays, {"epoch": 3, "k": (1, 2)})
    ck = ser.read_checkpoint(path)
    assert ck.module is None and ck.meta == {"epoch": 3, "k": (1, 2)}
    assert ck.arrays["count"].shape == () and ck.arrays["count"] == 7
    np.testing.assert_array_equal(ck.arrays["opt/0"], [1, 1])


class Counted(nn.Module):
    """A user's layer whose constructor validates and counts its calls."""

    built = 0

    def __init__(self, n, scale=1.0):
        super().__init__()
        if n < 1:
            raise ValueError("Counted: n must be positive")
        Counted.built += 1
        self.scale = scale
        self.weight = np.ones(n, np.float32)

    def updateOutput(self, input):
        self.output = input * self.weight * self.scale
        return self.output


def test_modules_are_rebuilt_through_their_constructors(tmp_path):
    net = nn.Sequential().add(Counted(3, scale=2.0)).add(nn.SpatialMaxPooling(2, 2).ceil())
    net.add(nn.Dropout(0.5).setp(0.25))
    net.modules[0].weight = jnp.array([1.0, 2.0, 3.0])
    path = tmp_path / "c.nets"
    nets.save(path, net)
    header = ser.read_header(path)
    assert header["version"] == 3
    assert header["module"]["modules"][0]["args"] == [3]
    assert header["module"]["modules"][0]["kwargs"] == {"scale": 2.0}
    before = Counted.built
    back = nets.load(path, classes=[Counted])
    assert Counted.built == before + 1  # its constructor ran, with the recorded arguments
    assert back.modules[1].ceil_mode and back.modules[2].p == 0.25  # changed after construction
    assert back.describe() == net.describe()
    np.testing.assert_array_equal(back.modules[0].weight, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("name", ["lenet5_1998", "resnet18", "googlenet"])
def test_zoo_networks_round_trip(tmp_path, name):
    nets.manual_seed(0)
    net = nets.models.get(name)
    nets.save(tmp_path / "z.nets", net)
    back = nets.load(tmp_path / "z.nets")
    assert back.describe() == net.describe()
    for a, b in zip(net.split(), back.split(), strict=True):
        for k in a:
            assert np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes()
    assert all(not isinstance(g, jax.ShapeDtypeStruct) for g in back.parameters()[1])


def test_a_version_1_file_still_loads(tmp_path):
    """Files written before constructors were recorded (version 1) load as they did."""
    w, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(2, np.float32)
    tree = {
        "class": "nets.nn.containers.Sequential",
        "attrs": {"train": True},
        "vars": [],
        "container": True,
        "modules": [
            {
                "class": "nets.nn.simple.Linear",
                "attrs": {"train": False},
                "vars": [
                    {"name": "weight", "kind": "param"},
                    {"name": "gradWeight", "kind": "grad"},
                    {"name": "bias", "kind": "param"},
                    {"name": "gradBias", "kind": "grad"},
                ],
                "container": False,
                "modules": [],
            }
        ],
    }
    table, blobs = ser._array_table({"0.weight": w, "0.bias": b})
    header = {
        "format": "nets-checkpoint",
        "version": 1,
        "module": tree,
        "arrays": table,
        "meta": {},
    }
    ser._write(tmp_path / "old.nets", header, table, blobs)
    back = nets.load(tmp_path / "old.nets")
    np.testing.assert_array_equal(back.modules[0].weight, w)
    assert back.forward(jnp.ones(3)).shape == (2,)
    nets.save(tmp_path / "new.nets", back)  # saved again (version 2), it loads again
    again = nets.load(tmp_path / "new.nets")
    np.testing.assert_array_equal(again.modules[0].weight, w)
    assert again.describe() == back.describe()


def test_a_constructor_that_refuses_its_arguments_is_named(tmp_path):
    path = tmp_path / "c.nets"
    nets.save(path, Counted(2))
    blob = path.read_bytes()
    (n,) = struct.unpack("<I", blob[8:12])
    header = json.loads(blob[16 : 16 + n].replace(b'"args": [2]', b'"args": [0]'))
    path.write_bytes(ser.header_block(header) + blob[16 + n :])  # a crafted file, its CRC right
    with pytest.raises(ser.CheckpointError, match=r"rebuilding module <root> \(Counted\).*n must"):
        nets.load(path, classes=[Counted])
