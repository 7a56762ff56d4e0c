"""The Torch surface inside JAX's transformations: jit, grad, vmap, eval_shape and export over
``net.forward`` and ``criterion.forward`` give the pure form's results and change no state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import models, nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

# The seed's CIFAR-10 network (README): its reduction lengths along the path, for tolerances.
SEED_TERMS = path_terms(3 * 5 * 5, 6 * 5 * 5, 400, 120, 84, 10 * ELEMENTWISE)


def seed_lenet() -> nn.Sequential:
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(3, 6, 5, 5)).add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.SpatialConvolution(6, 16, 5, 5)).add(nn.ReLU()).add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.View(16 * 5 * 5)).add(nn.Linear(16 * 5 * 5, 120)).add(nn.ReLU())
    net.add(nn.Linear(120, 84)).add(nn.ReLU()).add(nn.Linear(84, 10)).add(nn.LogSoftMax())
    return net


@pytest.fixture
def lenet():
    nets.manual_seed(0)
    return seed_lenet()


@pytest.fixture
def x():
    return jax.random.normal(jax.random.key(0), (4, 3, 32, 32))


def _pure(net, x):
    params, buffers = net.split()
    return net.call(params, buffers, x)[0]


def test_jit_grad_vmap_eval_shape_over_forward_give_the_pure_results(lenet, x):
    want = _pure(lenet, x)
    assert_close(jax.jit(lambda v: lenet.forward(v))(x), want, terms=SEED_TERMS)
    assert_close(jax.jit(lenet.forward)(x), want, terms=SEED_TERMS)
    assert_close(lenet(x), want, terms=SEED_TERMS)
    grad = jax.grad(lambda v: lenet.forward(v).sum())(x)
    grad_pure = jax.grad(lambda v: _pure(lenet, v).sum())(x)
    assert_close(grad, grad_pure, terms=2 * SEED_TERMS)
    per_sample = jax.vmap(lenet.forward)(x)  # each CHW sample through the network
    assert_close(per_sample, want, terms=SEED_TERMS)
    spec = jax.eval_shape(lenet.forward, jax.ShapeDtypeStruct((7, 3, 32, 32), jnp.float32))
    assert (spec.shape, spec.dtype) == ((7, 10), jnp.float32)


def test_backward_inside_a_transformation_returns_the_input_gradient(lenet, x):
    g = jnp.ones((4, 10))
    gin = jax.jit(lambda v: lenet.backward(v, g))(x)
    _, vjp = jax.vjp(lambda v: _pure(lenet, v), x)
    assert_close(gin, vjp(g)[0], terms=2 * SEED_TERMS)
    with pytest.raises(ModuleError, match="accGradParameters inside a JAX transformation"):
        jax.jit(lambda v: lenet.accGradParameters(v, g))(x)


def test_a_traced_call_changes_no_state(x):
    nets.manual_seed(0)
    net = (
        nn.Sequential().add(nn.SpatialConvolution(3, 4, 3, 3)).add(nn.SpatialBatchNormalization(4))
    )
    net.forward(x)  # training mode: updates the running statistics
    output, sub_output = net.output, net.modules[0].output
    mean = net.modules[1].running_mean
    grads = [np.asarray(g) for g in net.parameters()[1]]
    jax.jit(net.forward)(x)
    jax.grad(lambda v: net.forward(v).sum())(x)
    jax.jit(lambda v: net.backward(v, jnp.ones((4, 4, 30, 30))))(x)
    assert net.output is output
    assert net.modules[0].output is sub_output
    assert net.modules[1].running_mean is mean
    for g, before in zip(net.parameters()[1], grads, strict=True):
        np.testing.assert_array_equal(g, before)


def test_criterion_forward_and_backward_inside_transformations(lenet, x):
    crit = nn.ClassNLLCriterion(weights=jnp.arange(1.0, 11.0))
    out = _pure(lenet, x)
    y = jnp.array([0, 3, 9, 3])
    want = crit.call(out, y)
    assert_close(jax.jit(crit.forward)(out, y), want, terms=4 * ELEMENTWISE)
    assert crit.forward(out, y) == pytest.approx(float(want), rel=4 * ELEMENTWISE * 1.2e-7)
    grad = jax.grad(lambda o: crit.forward(o, y))(out)
    assert_close(grad, crit.backward(out, y), terms=4 * ELEMENTWISE)
    per_sample = jax.vmap(crit.forward)(out, y)
    assert per_sample.shape == (4,)
    assert_close(jax.jit(crit.backward)(out, y), crit.backward(out, y), terms=4 * ELEMENTWISE)
    loss = jax.jit(lambda v: crit.forward(lenet.forward(v), y))(x)
    assert_close(loss, want, terms=SEED_TERMS)


@pytest.mark.parametrize("name", models.list())
def test_eval_shape_over_forward_for_every_model(name):
    net = models.abstract(name).evaluate()
    c, h, w = models.meta(name).input_size
    out = jax.eval_shape(net.forward, jax.ShapeDtypeStruct((2, c, h, w), jnp.float32))
    assert out.shape[0] == 2 and out.dtype == jnp.float32
    with pytest.raises(ModuleError, match="shape-only"):
        net.forward(jnp.zeros((1, c, h, w)))


@pytest.mark.parametrize("name, size", [("lenet5", 32), ("resnet18", 64)])
def test_export_round_trips(name, size):
    nets.manual_seed(0)
    net = models.get(name).evaluate()
    x = jax.random.normal(jax.random.key(1), (2, 3, size, size))
    spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
    blob = jax.export.export(jax.jit(net.forward))(spec).serialize()
    back = jax.export.deserialize(blob)
    got, want = back.call(x), net.forward(x)
    # ResNet-18: 17 convolutions of at most 512*3*3 taps, batch statistics, the classifier
    terms = 4000 if name == "lenet5" else path_terms(*[512 * 9] * 17, 512)
    assert_close(got, want, terms=terms)


def test_a_layer_that_leaks_a_tracer_is_named():
    class Leaky(nn.Module):
        def updateOutput(self, input):
            self.last = [input]  # kept past the call: a traced value would leak out
            self.output = input * 2
            return self.output

    net = nn.Sequential().add(nn.Identity()).add(Leaky())
    with pytest.raises(ModuleError, match=r"self\.last"):
        net.forward(jnp.ones(3))
    assert "last" not in net.modules[1].__dict__

    class Caching(nn.Module):
        def updateOutput(self, input):
            self.cache = input * 2  # an array: a buffer, which a traced value cannot become
            self.output = self.cache
            return self.output

    with pytest.raises(ModuleError, match=r"self\.cache.*traced value"):
        jax.jit(Caching().forward)(jnp.ones(3))


def test_merging_traced_arrays_is_refused(lenet):
    def f(params):
        lenet.merge(params)
        return 0.0

    with pytest.raises(ModuleError, match="traced value"):
        jax.jit(f)(lenet.split()[0])


class _Leave(nn.Module):
    """Leaves its input in its handoff and passes it on."""

    def updateOutput(self, input):
        self.handoff()["x"] = input
        self.output = input * 2
        return self.output


class _Take(nn.Module):
    """Adds what its partner left in this pass."""

    def __init__(self, partner):
        super().__init__()
        self.__dict__["_partner"] = partner

    def updateOutput(self, input):
        self.output = input + self._partner.handoff()["x"]
        return self.output


def test_handoff_lives_for_one_pure_call():
    """A module's handoff is per call inside a pure call (compiled, traced: dropped at its end,
    so no tracer leaks) and a dict on the module outside one."""
    from nets.nn.binding import handoffs

    leave = _Leave()
    net = nn.Sequential(leave, _Take(leave))
    x = jnp.arange(3.0)
    np.testing.assert_array_equal(net.forward(x), 3 * x)  # 2x + x
    np.testing.assert_array_equal(net.backward(x, jnp.ones(3)), [3.0, 3.0, 3.0])
    assert handoffs() is None and "_handoff" not in leave.__dict__
    leave.updateOutput(x)  # eager, outside any pure call: kept on the module
    np.testing.assert_array_equal(leave.__dict__["_handoff"]["x"], x)
