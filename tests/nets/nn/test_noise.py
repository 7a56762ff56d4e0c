"""WhiteNoise and VolumetricDropout: training draws (statistics, whole volumes), evaluation,
the gradient, printed forms, bad arguments and inputs, a checkpoint round trip."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError

RNG = np.random.default_rng(29)


def test_white_noise_adds_gaussian_noise_in_training_and_the_mean_in_evaluation():
    nets.manual_seed(3)
    x = RNG.standard_normal((40, 50)).astype(np.float32)
    m = nn.WhiteNoise(0.5, 0.2)
    noise = np.asarray(m.forward(x), np.float64) - x
    # 2000 draws of N(0.5, 0.04): the sample mean is within 5 standard errors, the std within 5%
    assert abs(noise.mean() - 0.5) < 5 * 0.2 / np.sqrt(noise.size)
    assert abs(noise.std() - 0.2) < 0.05 * 0.2
    g = RNG.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(m.backward(x, g), g)  # the noise is added: gradient passes
    assert not np.array_equal(m.forward(x), m.forward(x))  # a fresh draw each call
    m.evaluate()
    np.testing.assert_array_equal(m.forward(x[0]), x[0] + np.float32(0.5))


def test_volumetric_dropout_drops_whole_volumes_unscaled():
    nets.manual_seed(4)
    x = RNG.uniform(1, 2, (3, 8, 2, 2, 3)).astype(np.float32)
    m = nn.VolumetricDropout(0.5)
    y = np.asarray(m.forward(x))
    kept = (y != 0).reshape(3, 8, -1)
    assert np.all(kept.all(-1) | ~kept.any(-1))  # each volume all kept or all dropped
    assert 0 < kept.all(-1).sum() < 24
    np.testing.assert_array_equal(y[kept.all(-1)], x[kept.all(-1)])  # kept volumes: unscaled
    g = np.ones_like(x)
    np.testing.assert_array_equal(m.backward(x, g), (y != 0).astype(np.float32))
    single = np.asarray(m.forward(x[0])).reshape(8, -1)
    assert np.all((single != 0).all(-1) | (single == 0).all(-1))
    m.evaluate()
    np.testing.assert_array_equal(m.forward(x), x * np.float32(0.5))


def test_printed_forms_and_errors():
    assert repr(nn.WhiteNoise()) == "nn.WhiteNoise mean: 0.000000, std: 0.100000"
    assert repr(nn.VolumetricDropout(0.25)) == "nn.VolumetricDropout(0.250000)"
    with pytest.raises(ModuleError, match=r"nn\.WhiteNoise: expected std .* >= 0, got -1"):
        nn.WhiteNoise(0, -1)
    with pytest.raises(ModuleError, match=r"nn\.VolumetricDropout: expected p < 1, got 1"):
        nn.VolumetricDropout(1)
    with pytest.raises(ModuleError, match=r"expected a 4D \(C, T, H, W\) sample or a 5D"):
        nn.VolumetricDropout().forward(jnp.zeros((2, 3, 4)))
    with pytest.raises(ModuleError, match=r"nn\.WhiteNoise mean: .*: expected an array, got a"):
        nn.WhiteNoise().forward([jnp.zeros(2)])


def test_noise_layers_survive_a_checkpoint(tmp_path):
    net = nn.Sequential(nn.WhiteNoise(0.25, 0.5), nn.VolumetricDropout(0.3)).evaluate()
    x = RNG.standard_normal((1, 2, 1, 2, 2)).astype(np.float32)
    want = net.forward(x)
    nets.save(tmp_path / "net.nets", net)
    back = nets.load(tmp_path / "net.nets").evaluate()
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(x), want)
