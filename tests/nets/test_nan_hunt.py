"""nan_hunt: the first module whose output or gradient goes non-finite, and why."""

import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets.nan_hunt import nan_hunt


class Sqrt(nn.Module):
    """A layer of the user's own: finite at 0, its derivative there is not."""

    def updateOutput(self, input):
        self.output = jnp.sqrt(input)
        return self.output


X = jnp.ones((2, 3))


def linear(n_in, n_out, weight):
    layer = nn.Linear(n_in, n_out)
    layer.weight = jnp.asarray(weight, jnp.float32)
    layer.bias = jnp.zeros(n_out)
    return layer


def test_forward_overflow_names_the_module_its_input_and_no_parameter():
    net = (
        nn.Sequential()
        .add(linear(3, 4, np.ones((4, 3))))
        .add(nn.MulConstant(1e30))
        .add(nn.MulConstant(1e30))
        .add(nn.Linear(4, 2))
    )
    report = nan_hunt(net, X)
    assert (report.phase, report.path) == ("forward", "2")
    text = repr(report)
    assert text.startswith("nan_hunt: the first non-finite output is that of (2) nn.MulConstant")
    # the input there: 3 * 1e30 everywhere, finite
    assert "input: (2, 4) float32: min 3e+30 max 3e+30 mean 3e+30 std 0, 0 NaN, 0 Inf of 8" in text
    assert "output: (2, 4) float32: no finite value, 0 NaN, 8 Inf of 8" in text
    assert "(it has no parameters)" in text


def test_a_non_finite_parameter_is_named():
    weight = np.full((4, 3), 0.5)
    weight[1, 2] = np.nan
    net = nn.Sequential().add(linear(3, 4, weight)).add(nn.Tanh()).add(nn.LogSoftMax())
    report = nan_hunt(net, X, jnp.array([0, 1]), nn.ClassNLLCriterion())
    assert (report.phase, report.path, report.parameter) == ("forward", "0", "0.weight")
    assert "parameter 0.weight is itself non-finite: (4, 3) float32" in repr(report)
    assert "1 NaN, 0 Inf of 12" in repr(report)


def test_a_non_finite_input_is_traced_to_the_network_input():
    report = nan_hunt(nn.Sequential().add(nn.Linear(3, 2)), X.at[0, 1].set(jnp.nan))
    assert (report.phase, report.path) == ("forward", "0")
    assert "1 NaN, 0 Inf of 6" in repr(report)
    assert "its input is already non-finite: the network's input" in repr(report)


def test_backward_only_failure_names_the_layer_whose_derivative_blows_up():
    net = (
        nn.Sequential()
        .add(linear(3, 4, -np.ones((4, 3))))
        .add(nn.ReLU())
        .add(Sqrt())
        .add(nn.Linear(4, 2))
    )
    assert np.all(np.isfinite(np.asarray(net.forward(X))))  # the forward pass is fine
    report = nan_hunt(net, X)
    assert (report.phase, report.path) == ("backward", "2")
    text = repr(report)
    assert text.startswith("nan_hunt: the first non-finite gradient comes out of (2) Sqrt")
    assert "input: (2, 4) float32: min 0 max 0" in text
    assert "gradient received: (2, 4) float32:" in text and "0 NaN, 0 Inf of 8" in text
    assert "gradient passed back: (2, 4) float32: no finite value, 0 NaN, 8 Inf of 8" in text


def test_all_finite_and_bad_arguments():
    report = nan_hunt(nn.Sequential().add(nn.Linear(3, 2)).add(nn.Tanh()), X)
    assert not report.found
    assert repr(report) == (
        "nan_hunt: every output and gradient is finite (3 modules, forward and backward)"
    )
    with pytest.raises(TypeError, match="nan_hunt: expected an nn.Module as net, got int"):
        nan_hunt(3, X)
    with pytest.raises(TypeError, match="give both target and criterion, or neither"):
        nan_hunt(nn.Linear(3, 2), X, jnp.zeros(2))
