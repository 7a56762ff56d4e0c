"""nn.Module: the Torch protocol, the functional form, custom layers both ways, copies, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import DeviceError, ModuleError, NetsError
from tests.compile_events import compilations, named
from tests.tolerance import assert_close, path_terms


class Affine(nn.Module):
    """A user's layer written the seed's way: updateOutput only."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.register_parameter("weight", nets._random.uniform(-0.5, 0.5, (n_out, n_in)))
        self.register_parameter("bias", nets._random.uniform(-0.5, 0.5, (n_out,)))

    def updateOutput(self, input):
        self.output = input @ self.weight.T + jnp.broadcast_to(
            self.bias, input.shape[:-1] + self.bias.shape
        )
        return self.output


class HandAffine(Affine):
    """The same layer with its backward written by hand (updateGradInput + accGradParameters)."""

    calls = 0

    def updateGradInput(self, input, gradOutput):
        HandAffine.calls += 1
        self.gradInput = gradOutput @ self.weight
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1.0):
        x2 = input.reshape(-1, input.shape[-1])
        g2 = gradOutput.reshape(-1, gradOutput.shape[-1])
        self.gradWeight = self.gradWeight + scale * g2.T @ x2
        self.gradBias = self.gradBias + scale * g2.sum(0)


class Square(nn.Module):
    def updateOutput(self, input):
        self.output = input * input
        return self.output


class RunningMean(nn.Module):
    """A layer with a buffer it updates in training mode only."""

    def __init__(self, n):
        super().__init__()
        self.register_buffer("mean", jnp.zeros(n))

    def updateOutput(self, input):
        if self.train:
            self.mean = 0.5 * self.mean + 0.5 * input.mean(0)
        self.output = input - self.mean[None, :]
        return self.output


def reference_grads(layer, x, g):
    """Gradients by plain jax.vjp of the same formula: the oracle."""

    def f(w, b, xx):
        return xx @ w.T + b[None, :]

    _, vjp = jax.vjp(f, layer.weight, layer.bias, x)
    return vjp(g)


# Affine(3, 4), Square, Affine(4, 2): the reduction lengths along the path, forward and back.
NET_TERMS = path_terms(3 + 1, 1, 4 + 1, 2, 1, 4)


@pytest.fixture
def x():
    return jnp.asarray(np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32))


@pytest.mark.parametrize("cls", [Affine, HandAffine])
def test_backward_matches_autodiff_oracle(cls, x, seed):
    layer = cls(3, 2)
    g = jnp.ones((4, 2)) * jnp.arange(1, 3)[None, :]
    out = layer.forward(x)
    assert_close(out, x @ layer.weight.T + layer.bias[None, :], terms=3 + 1)
    gin = layer.backward(x, g)
    gw, gb, gx = reference_grads(layer, x, g)
    assert_close(gin, gx, terms=2)  # d input: a sum over the 2 outputs
    assert_close(layer.gradWeight, gw, terms=4)  # d weight, d bias: sums over the batch of 4
    assert_close(layer.gradBias, gb, terms=4)
    # Gradients accumulate, scaled, until zeroGradParameters.
    layer.forward(x)
    layer.backward(x, g, 0.5)
    assert_close(layer.gradWeight, 1.5 * gw, terms=2 * 4 + 1)  # two accumulated passes
    layer.zeroGradParameters()
    assert float(jnp.abs(layer.gradWeight).sum()) == 0.0


def test_hand_written_backward_is_used_inside_compiled_code(x, seed):
    HandAffine.calls = 0
    net = nn.Sequential(HandAffine(3, 5), Square(), HandAffine(5, 2))
    net.forward(x)
    net.backward(x, jnp.ones((4, 2)))
    assert HandAffine.calls > 0, "the hand-written updateGradInput was not called"
    params, buffers = net.split()
    grads = jax.jit(jax.grad(lambda p: net.call(p, buffers, x)[0].sum()))(params)
    assert_close(grads["0.weight"], net.modules[0].gradWeight, terms=path_terms(3, 1, 5, 2, 5, 4))


def test_updateGradInput_and_accGradParameters_separately(x, seed):
    layer = Affine(3, 2)
    g = jnp.ones((4, 2))
    layer.forward(x)
    gin = layer.updateGradInput(x, g)
    assert float(jnp.abs(layer.gradWeight).sum()) == 0.0
    layer.accGradParameters(x, g, 2.0)
    gw, _, gx = reference_grads(layer, x, g)
    assert_close(gin, gx, terms=2)
    assert_close(layer.gradWeight, 2 * gw, terms=4)


def test_functional_form_under_jit_grad_vmap(x, seed):
    net = nn.Sequential(Affine(3, 4), Square(), Affine(4, 2))
    params, buffers = net.split()
    assert sorted(params) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    out, _ = jax.jit(lambda p, b, v: net.call(p, b, v))(params, buffers, x)
    assert_close(out, net.forward(x), terms=NET_TERMS)
    per_sample = jax.vmap(lambda v: net.call(params, buffers, v)[0])(x)
    assert_close(per_sample, out, terms=NET_TERMS)
    grads = jax.grad(lambda p: net.call(p, buffers, x)[0].sum())(params)
    net.forward(x)
    net.backward(x, jnp.ones_like(out))
    assert_close(grads["2.weight"], net.modules[2].gradWeight, terms=NET_TERMS + 4)
    # The module is unchanged by pure calls with other arrays.
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    assert float(jnp.abs(net.call(zeros, buffers, x)[0]).sum()) == 0.0
    assert float(jnp.abs(net.modules[0].weight).sum()) > 0


def test_buffers_update_in_training_only(seed):
    m = RunningMean(2)
    x = jnp.array([[1.0, 2.0], [3.0, 4.0]])
    m.forward(x)
    np.testing.assert_allclose(m.mean, [1.0, 1.5])
    m.evaluate()
    m.forward(x)
    np.testing.assert_allclose(m.mean, [1.0, 1.5])
    _, new_buffers = m.call({}, {"mean": jnp.zeros(2)}, x, train=True)
    np.testing.assert_allclose(new_buffers["mean"], [1.0, 1.5])


def test_repeated_forward_reuses_compiled_code(x, seed):
    net = nn.Sequential(Affine(3, 2))
    net.forward(x)
    net.backward(x, jnp.ones((4, 2)))
    y, g = x + 1.0, jnp.ones((4, 2))
    with compilations() as compiled:
        for _ in range(3):
            net.forward(y)
            net.backward(y, g)
    assert named(compiled, "forward_vjp", "apply_vjp", "vjp") == []


def test_intermediate_outputs_are_set(x, seed):
    net = nn.Sequential(Affine(3, 4), Square())
    net.forward(x)
    assert net.modules[0].output.shape == (4, 4)
    np.testing.assert_allclose(net.modules[1].output, net.output)


def test_sub_module_outputs_are_computed_only_when_read(x, seed):
    net = nn.Sequential(Affine(3, 4), nn.ReLU(), Affine(4, 2)).evaluate()
    with compilations() as compiled:
        out = net.forward(x)
    assert named(compiled, "forward") and not named(compiled, "outputs")  # the output alone
    with compilations() as compiled:
        hidden = net.modules[1].output
    assert named(compiled, "outputs")
    first = net.modules[0]
    assert_close(net.modules[0].output, x @ first.weight.T + first.bias[None, :], terms=4)
    np.testing.assert_allclose(hidden, np.maximum(net.modules[0].output, 0))
    np.testing.assert_allclose(net.modules[2].output, out)


def test_owed_outputs_are_those_of_the_pass_that_ran(x, seed):
    """Reads after a parameter update, a mode change and a new layer see the forward pass."""
    net = nn.Sequential(nn.Dropout(0.5), Affine(3, 4), nn.BatchNormalization(4), Square())
    out = net.forward(x)  # training mode: a dropout mask, batch statistics
    mean_after_forward = np.asarray(net.modules[2].running_mean)
    net.zeroGradParameters()
    net.backward(x, jnp.ones_like(out))
    net.updateParameters(0.5)
    net.evaluate()
    Affine(4, 2)  # building a layer outside the network
    net.add(Affine(4, 2))  # changing the network after the pass
    net.modules[0].p = 0.25
    # two compiled programs of the same pass: Affine(3, 4), batch statistics over 4, a square
    assert_close(net.modules[3].output, out, terms=path_terms(4, 2 * 4, 1))
    assert_close(jnp.square(net.modules[2].output), out, terms=path_terms(4, 2 * 4, 2))
    kept = net.modules[0].output
    assert np.all((kept == 0) | np.isclose(kept, 2 * x))  # the same inverted-dropout mask
    # computing the owed outputs did not update the running statistics a second time
    np.testing.assert_allclose(net.modules[2].running_mean, mean_after_forward)


def test_a_later_forward_replaces_owed_outputs(x, seed):
    net = nn.Sequential(Affine(3, 4), Square()).evaluate()
    net.forward(x)
    net.forward(2 * x)
    first = net.modules[0]
    assert_close(first.output, 2 * x @ first.weight.T + first.bias[None, :], terms=4)
    net.forward(x)
    first.forward(3 * x)  # the sub-module's own pass: its output is now that one
    assert_close(first.output, 3 * x @ first.weight.T + first.bias[None, :], terms=4)
    np.testing.assert_allclose(net.modules[1].output, net.output)


def test_get_and_set_parameters(x, seed):
    net = nn.Sequential(Affine(3, 4), Affine(4, 2))
    flat, gflat = net.getParameters()
    assert flat.shape == (3 * 4 + 4 + 4 * 2 + 2,) and gflat.shape == flat.shape
    np.testing.assert_allclose(flat[:12], net.modules[0].weight.ravel())
    net.setParameters(jnp.arange(flat.shape[0], dtype=jnp.float32))
    np.testing.assert_allclose(net.modules[1].bias, [24.0, 25.0])
    with pytest.raises(
        ModuleError, match=r"setParameters expected a 1-D vector of 26 values, got \(3,\)"
    ):
        net.setParameters(jnp.zeros(3))
    params, grads = net.parameters()
    assert [p.shape for p in params] == [(4, 3), (4,), (2, 4), (2,)]
    assert [g.shape for g in grads] == [(4, 3), (4,), (2, 4), (2,)]


def test_update_parameters(x, seed):
    layer = Affine(3, 2)
    w = layer.weight
    layer.forward(x)
    layer.backward(x, jnp.ones((4, 2)))
    layer.updateParameters(0.1)
    assert_close(layer.weight, w - 0.1 * layer.gradWeight, terms=2)  # a product, a difference


def test_clone_copies_and_share_shares(x, seed):
    a = Affine(3, 2)
    b = a.clone()
    b.weight = jnp.zeros((2, 3))
    assert float(jnp.abs(a.weight).sum()) > 0
    c = a.clone("weight", "bias", "gradWeight", "gradBias")
    c.weight = jnp.ones((2, 3))
    np.testing.assert_allclose(a.weight, jnp.ones((2, 3)))
    c.forward(x)
    c.backward(x, jnp.ones((4, 2)))
    np.testing.assert_allclose(a.gradWeight, c.gradWeight)
    # A shared parameter appears once in the functional form.
    net = nn.Sequential(a, c)
    assert sorted(net.split()[0]) == ["0.bias", "0.weight"]


def test_assigning_a_parameter_replaces_it(seed):
    layer = Affine(3, 2)
    layer.weight = np.ones((2, 3), np.float32)
    assert isinstance(layer.weight, jax.Array)
    np.testing.assert_allclose(layer.forward(jnp.ones(3)), 3 + layer.bias)


def test_apply_list_find_modules(seed):
    net = nn.Sequential(Affine(3, 4), nn.Sequential(Square(), Affine(4, 2)))
    assert len(net.listModules()) == 5
    assert len(net.findModules(Affine)) == 2
    assert len(net.findModules("Square")) == 1
    assert len(net.findModules("nn.Sequential")) == 2
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Sequential", "Affine", "Sequential", "Square", "Affine"]


def test_training_evaluate_flags(seed):
    net = nn.Sequential(Affine(3, 4), Square())
    net.evaluate()
    assert not any(m.train for m in net.listModules())
    net.training()
    assert all(m.train for m in net.listModules())


def test_type_float_double(seed):
    layer = Affine(3, 2)
    assert layer.type() == "float32"
    layer.type(jnp.bfloat16)
    assert layer.weight.dtype == jnp.bfloat16 and layer.gradWeight.dtype == jnp.bfloat16
    layer.float()
    assert layer.weight.dtype == jnp.float32
    if not jax.config.jax_enable_x64:
        with pytest.raises(NetsError, match="64-bit floats are switched off"):
            layer.double()


def test_cuda_without_gpu_names_the_devices(seed):
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    with pytest.raises(DeviceError, match=r"cannot move to 'gpu:0': JAX sees no such device .*cpu"):
        Affine(3, 2).cuda()
    layer = Affine(3, 2).to(jax.devices("cpu")[0]).cpu()
    assert layer.weight.devices() == {jax.devices("cpu")[0]}


def test_error_names_module_path_and_module_stays_usable(seed):
    net = nn.Sequential(Affine(3, 4), nn.Sequential(Square(), Affine(5, 2)))
    with pytest.raises(ModuleError, match=r"^\(1\)\.\(1\) Affine: TypeError: .*dot_general"):
        net.forward(jnp.ones((2, 3)))
    # Nothing was left half-bound: the tree still holds concrete arrays and works once fixed.
    assert all(isinstance(v, jax.Array) for v in net.split()[0].values())
    assert net.modules[1].modules[1].output.shape == (0,)  # still Torch's empty tensor
    net.modules[1].remove(1)
    net.modules[1].add(Affine(4, 2))
    assert net.forward(jnp.ones((2, 3))).shape == (2, 2)


def test_forgotten_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.size = 3

    with pytest.raises(NetsError, match=r"must call super\(\).__init__\(\)"):
        Broken()


def test_call_rejects_wrong_keys(seed):
    layer = Affine(3, 2)
    with pytest.raises(ModuleError, match=r"missing \['bias'\], unexpected \['b'\]"):
        layer.call({"weight": layer.weight, "b": layer.bias}, {}, jnp.ones(3))


def test_manual_seed_makes_construction_reproducible():
    nets.manual_seed(7)
    a = Affine(3, 2).weight
    nets.manual_seed(7)
    b = Affine(3, 2).weight
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="non-negative integer"):
        nets.manual_seed(-1)


def test_gradInput_none_skips_the_input_gradient_as_in_torch7(x, seed):
    net = nn.Sequential(Affine(3, 4), Square(), Affine(4, 2))
    assert net.gradInput.shape == (0,) and net.output.shape == (0,)  # Torch's empty tensors
    g = jnp.ones((4, 2))
    net.forward(x)
    full = net.backward(x, g)
    want = net.modules[0].gradWeight
    net.zeroGradParameters()
    net.modules[0].gradInput = None  # Torch7: model:get(1).gradInput = nil
    net.forward(x)
    assert net.backward(x, g) is None
    # programs with and without the input gradient: the same sums in other orders
    assert_close(net.modules[0].gradWeight, want, terms=NET_TERMS + 4)
    # Without a stored forward pass (another input object), the same holds.
    net.zeroGradParameters()
    assert net.backward(x + 0.0, g) is None
    assert_close(net.modules[0].gradWeight, want, terms=NET_TERMS + 4)
    net.modules[0].gradInput = jnp.zeros((0,))
    net.forward(x)
    assert_close(net.backward(x, g), full, terms=NET_TERMS)


def test_a_sub_module_output_that_cannot_be_computed_raises_on_read(seed):
    net = nn.Sequential(Affine(3, 4), Square()).evaluate()
    x = jnp.ones((2, 3))
    net.forward(x)
    x.delete()  # the pass's input is gone: its sub-module outputs cannot be computed any more
    with pytest.raises(ModuleError, match=r"Affine: its output from the last forward pass could"):
        _ = net.modules[0].output
    with pytest.raises(ModuleError, match=r"could not be computed"):
        _ = net.modules[1].output  # every owed output says so, not just the first read
    assert net.output.shape == (2, 4)  # the network's own output was computed by forward
