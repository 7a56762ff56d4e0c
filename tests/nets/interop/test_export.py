"""Exported networks: serialized StableHLO that runs without the model's code."""

import jax
import jax.numpy as jnp
import pytest

import nets
from nets import models
from nets.interop.export import ExportError
from tests.tolerance import assert_close


def test_an_exported_lenet_runs_from_its_file_alone(tmp_path):
    nets.manual_seed(0)
    net = models.get("lenet5").evaluate()
    x = jax.random.normal(jax.random.key(0), (4, 3, 32, 32))
    path = tmp_path / "lenet.shlo"
    nets.export(net, x, path)
    run = nets.load_exported(path)
    assert_close(run(x), net.forward(x), terms=4000)  # conv taps + classifier, generously
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_wrong_file_and_a_damaged_one_are_named(tmp_path):
    other = tmp_path / "weights.bin"
    other.write_bytes(b"\x00" * 64)
    with pytest.raises(ExportError, match=r"weights.bin is not a network exported by nets"):
        nets.load_exported(other)
    path = tmp_path / "net.shlo"
    nets.export(nets.nn.Linear(3, 2), jnp.ones((1, 3)), path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ExportError, match=r"net.shlo is damaged"):
        nets.load_exported(path)
    with pytest.raises(FileNotFoundError, match="no file at"):
        nets.load_exported(tmp_path / "missing.shlo")


def test_a_network_that_refuses_the_example_says_why(tmp_path):
    net = models.get("lenet5")
    with pytest.raises(nets._errors.ModuleError, match=r"lenet5.*3x32x32"):
        nets.export(net, jnp.ones((1, 1, 28, 28)), tmp_path / "x.shlo")
