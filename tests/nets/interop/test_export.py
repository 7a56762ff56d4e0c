"""Exported networks: serialized StableHLO that runs without the model's code."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import models
from nets.interop.export import ExportError
from tests.tolerance import assert_close, path_terms


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


@pytest.mark.parametrize("name, size", [("lenet5", 32), ("resnet18", 64)])
def test_onnx_export_runs_under_onnxruntime(tmp_path, name, size):
    """With the onnx extra (pip install -e '.[onnx]'): 25 s for LeNet, 45 s for ResNet-18."""
    pytest.importorskip("jax2onnx", reason="the onnx extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    nets.manual_seed(0)
    net = models.get(name).evaluate()
    x = jax.random.normal(jax.random.key(2), (2, 3, size, size))
    path = tmp_path / f"{name}.onnx"
    nets.export_onnx(net, x, path)
    session = ort.InferenceSession(str(path))
    out = session.run(None, {session.get_inputs()[0].name: np.asarray(x)})[0]
    # ResNet-18: 17 convolutions of at most 512*3*3 taps, batch statistics, the classifier
    terms = 4000 if name == "lenet5" else path_terms(*[512 * 9] * 17, 512)
    assert_close(out, net.forward(x), terms=terms)
