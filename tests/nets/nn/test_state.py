"""The arrays a module holds: Torch7's weight/bias fields, buffers, and dtype conversions."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import models, nn
from nets._errors import ModuleError
from tests.tolerance import assert_close


class TorchLinear(nn.Module):
    """A layer written exactly as Torch7's developer docs write one: fields set in __init__."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = np.zeros((n_out, n_in), np.float32)
        self.bias = np.zeros(n_out, np.float32)
        self.gradWeight = np.zeros((n_out, n_in), np.float32)
        self.gradBias = np.zeros(n_out, np.float32)
        self.calls = np.zeros((), np.int32)  # any other array: state (a buffer)
        self.reset()

    def reset(self):
        self.weight = nets._random.uniform(-0.5, 0.5, self.weight.shape)
        self.bias = nets._random.uniform(-0.5, 0.5, self.bias.shape)
        return self

    def updateOutput(self, input):
        self.calls = self.calls + 1
        self.output = input @ self.weight.T + self.bias.reshape((1,) * (input.ndim - 1) + (-1,))
        return self.output


def test_weight_and_bias_fields_are_parameters_with_their_gradients(seed):
    layer = TorchLinear(3, 2)
    params, grads = layer.parameters()
    assert [p.shape for p in params] == [(2, 3), (2,)]
    assert [g.shape for g in grads] == [(2, 3), (2,)]
    assert set(layer.split()[0]) == {"weight", "bias"}
    assert set(layer.split()[1]) == {"calls"}
    x = jnp.arange(12.0).reshape(4, 3) / 10
    g = jnp.ones((4, 2))
    layer.zeroGradParameters()
    layer.forward(x)
    layer.backward(x, g)
    assert_close(layer.gradWeight, g.T @ x, terms=4)
    assert_close(layer.gradBias, g.sum(0), terms=4)
    assert int(layer.calls) == 1  # the buffer the layer updates itself


def test_a_torch7_style_layer_trains_end_to_end(seed):
    layer = TorchLinear(3, 1)
    true_w = jnp.array([[0.5, -1.0, 2.0]])
    x = jnp.asarray(np.random.default_rng(0).normal(size=(64, 3)), jnp.float32)
    y = x @ true_w.T + 0.25
    crit = nn.MSECriterion()
    losses = []
    for _ in range(200):
        out = layer.forward(x)
        losses.append(crit.forward(out, y))
        layer.zeroGradParameters()
        layer.backward(x, crit.backward(out, y))
        layer.updateParameters(0.1)
    assert losses[-1] < 1e-4 < losses[0]
    assert_close(layer.weight, true_w, terms=1, scale=1e3)  # 1e-4 absolute
    trainer = nn.StochasticGradient(TorchLinear(3, 1), crit)
    trainer.verbose = False
    trainer.maxIteration = 20
    data = [(x[i], y[i]) for i in range(64)]
    assert trainer.train(data) < 1e-3


def test_buffers_move_with_type_and_are_saved(tmp_path, seed):
    layer = TorchLinear(3, 2)
    layer.forward(jnp.ones((1, 3)))
    layer.type(jnp.bfloat16)
    assert layer.weight.dtype == jnp.bfloat16 and layer.calls.dtype == jnp.int32
    path = tmp_path / "layer.nets"
    nets.save(path, layer)
    back = nets.load(path, classes=[TorchLinear])
    assert int(back.calls) == 1
    np.testing.assert_array_equal(back.weight, layer.weight)


def test_bias_none_removes_it_as_torch_nil():
    layer = nn.Linear(3, 2)
    layer.bias = None
    assert layer.bias is None and set(layer.split()[0]) == {"weight"}
    assert layer.forward(jnp.ones(3)).shape == (2,)


@pytest.mark.parametrize("convert", ["bfloat16", "half", "float"])
def test_a_converted_network_takes_any_float_input(convert, seed):
    net = models.get("lenet5")
    getattr(net, convert)()
    want = {"bfloat16": jnp.bfloat16, "half": jnp.float16, "float": jnp.float32}[convert]
    for dtype in (jnp.float32, jnp.bfloat16, jnp.float16):
        x = jnp.ones((2, 3, 32, 32), dtype)
        out = net.forward(x)
        assert out.dtype == want
        net.backward(x, jnp.ones_like(out))
        assert net.modules[0].gradWeight.dtype == want
    net.evaluate()
    assert net.forward(np.ones((2, 3, 32, 32), np.float64)).dtype == want


def test_a_wrongly_shaped_weight_is_named_before_tracing():
    net = nn.Sequential().add(nn.Linear(3, 2))
    with pytest.raises(ModuleError, match=r"\(0\) nn.Linear\(3 -> 2\): expected input of size 3"):
        net.forward(jnp.ones((2, 4)))
