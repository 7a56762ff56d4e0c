"""Layers over dimensions: NumPy references (0-based dims and indices), finite differences,
Torch7's batch rules (nInputDims), reprs and errors."""

import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.tolerance import assert_close

RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 3, 4)).astype(np.float32)
FD_TOL = 1e-6  # float64 central differences with Torch7's step (see test_jacobian)


def _pad_ref(x, axis, pad, index, value):
    n = x.shape[axis]
    at = n - index if pad > 0 else index
    shape = list(x.shape)
    shape[axis] = abs(pad)
    parts = [
        np.take(x, range(at), axis),
        np.full(shape, value, x.dtype),
        np.take(x, range(at, n), axis),
    ]
    return np.concatenate(parts, axis)


# name: (builder, NumPy reference on the batch X, reference on the sample X[0])
CASES = {
    "Max": (lambda: nn.Max(1, 2), lambda x: x.max(2), lambda x: x.max(1)),
    "Min": (lambda: nn.Min(-1), lambda x: x.min(-1), lambda x: x.min(-1)),
    "Sum": (lambda: nn.Sum(1, 2), lambda x: x.sum(2), lambda x: x.sum(1)),
    "Sum-keep": (lambda: nn.Sum(2, None, False, False), lambda x: x.sum(2, keepdims=True), None),
    "Mean": (lambda: nn.Mean(0), lambda x: x.mean(0), lambda x: x.mean(0)),
    "Narrow": (lambda: nn.Narrow(-1, 1, 2), lambda x: x[..., 1:3], lambda x: x[..., 1:3]),
    "Narrow-to-end": (lambda: nn.Narrow(1, 1, -1), lambda x: x[:, 1:], lambda x: x[:, 1:]),
    "Narrow-but-last": (lambda: nn.Narrow(2, 0, -2), lambda x: x[:, :, :-1], None),
    "Select": (lambda: nn.Select(1, -1), lambda x: x[:, -1], lambda x: x[:, -1]),
    "Transpose": (
        lambda: nn.Transpose((0, 1), (1, 2)),
        lambda x: x.transpose(1, 2, 0),
        None,
    ),
    "Transpose-sample": (
        lambda: nn.Transpose((0, 1)).setNumInputDims(2),
        lambda x: x.transpose(0, 2, 1),
        lambda x: x.T,
    ),
    "Unsqueeze": (lambda: nn.Unsqueeze(1, 2), lambda x: x[:, :, None], lambda x: x[:, None]),
    "Replicate": (
        lambda: nn.Replicate(3, 1, 2),
        lambda x: np.repeat(x[:, :, None], 3, 2),
        lambda x: np.repeat(x[:, None], 3, 1),
    ),
    "Padding-right": (
        lambda: nn.Padding(0, 2, 2, -1.0),
        lambda x: _pad_ref(x, 1, 2, 0, -1.0),
        lambda x: _pad_ref(x, 0, 2, 0, -1.0),
    ),
    "Padding-left-inside": (
        lambda: nn.Padding(1, -2, 2, 0.5, 1),
        lambda x: _pad_ref(x, 2, -2, 1, 0.5),
        lambda x: _pad_ref(x, 1, -2, 1, 0.5),
    ),
    "Copy": (lambda: nn.Copy(None, "float16"), lambda x: x.astype(np.float16), None),
    "Contiguous": (lambda: nn.Contiguous(), lambda x: x, lambda x: x),
}


@pytest.mark.parametrize("name", CASES)
def test_dimension_layers_against_numpy_batch_and_single(name):
    build, batch_ref, single_ref = CASES[name]
    m = build()
    out = m.updateOutput(X)
    want = batch_ref(X)
    assert out.shape == want.shape and out.dtype == want.dtype
    assert_close(out, want, terms=X.shape[0] if name == "Mean" else 1)  # the mean's sum
    if single_ref is not None:
        assert_close(m.updateOutput(X[0]), single_ref(X[0]), terms=1)


def test_torch_shapes_of_reductions_and_squeeze():
    v = jnp.arange(4.0)
    assert nn.Max().forward(v).shape == (1,)  # Torch7: a vector reduces to a (1,) tensor
    assert nn.Sum().forward(v).shape == (1,)
    x = jnp.zeros((1, 3, 1, 2))
    assert nn.Squeeze().forward(x).shape == (3, 2)
    assert nn.Squeeze(2).forward(x).shape == (1, 3, 2)
    assert nn.Squeeze(1).forward(x).shape == (1, 3, 1, 2)  # size 3: left as it is
    assert nn.Squeeze(None, 3).forward(x).shape == (1, 3, 2)  # a batch of one keeps its dim
    assert nn.Squeeze(1, 3).forward(x).shape == (1, 3, 2)  # dim 1 of the sample: dim 2


def test_max_gradient_goes_to_the_first_maximum_and_index_gathers():
    x = jnp.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    m = nn.Max(1)
    np.testing.assert_array_equal(m.forward(x), [3.0, 2.0])
    np.testing.assert_array_equal(m.backward(x, jnp.ones(2)), [[0, 1, 0], [1, 0, 0]])
    m = nn.Index(0)
    t = jnp.asarray(X[0])
    idx = jnp.array([2, 0, 2])
    np.testing.assert_array_equal(m.forward([t, idx]), X[0][[2, 0, 2]])
    g = m.backward([t, idx], jnp.ones((3, 4)))
    np.testing.assert_array_equal(g[0], np.array([[1.0] * 4, [0.0] * 4, [2.0] * 4]))


# per input rank, layers whose outputs are flattened side by side: one compiled check for all
DIFFERENTIABLE = {
    2: [
        lambda: nn.Max(1),
        lambda: nn.Min(0),
        lambda: nn.Sum(1),
        lambda: nn.Mean(0),
        lambda: nn.Narrow(1, 1, 2),
        lambda: nn.Select(0, 1),
        lambda: nn.Transpose((0, 1)),
        lambda: nn.Padding(1, -1, None, 3.0, 1),
        lambda: nn.Replicate(2),
    ],
    1: [
        lambda: nn.Max(),
        lambda: nn.Sum(0, None, True),
        lambda: nn.Narrow(0, 1, -1),
        lambda: nn.Padding(0, 2),
        lambda: nn.Replicate(2, 1),
        lambda: nn.Unsqueeze(0),
        lambda: nn.Sequential(nn.Unsqueeze(1), nn.Squeeze()),
        lambda: nn.Contiguous(),
    ],
}


@pytest.mark.parametrize("shape", [(3, 4), (4,)], ids=["matrix", "vector"])
def test_dimension_gradients_match_finite_differences(shape):
    layers = DIFFERENTIABLE[len(shape)]
    m = nn.Concat(0, *(nn.Sequential(b(), nn.View(-1)) for b in layers))
    errors = nn.Jacobian.testAll(m, np.zeros(shape))
    assert max(errors.values()) < FD_TOL, errors


def test_copy_converts_forward_and_back():
    assert nn.Copy("torch.FloatTensor", "torch.HalfTensor").outtype == "float16"
    m = nn.Copy("float32", "float16")
    x = jnp.asarray(X[0])
    assert m.forward(x).dtype == jnp.float16
    g = m.backward(x, jnp.ones((3, 4), jnp.float16))
    assert g.dtype == jnp.float32  # the gradient comes back in the input's type
    np.testing.assert_array_equal(g, np.ones((3, 4)))


def test_dimension_reprs():
    assert repr(nn.Unsqueeze(2)) == "nn.Unsqueeze(dim 2)"
    assert repr(nn.Narrow(0, 1)) == "nn.Narrow"
    assert repr(nn.Max(1)) == "nn.Max"


def test_dimension_errors_name_module_and_expectation():
    with pytest.raises(
        ModuleError, match=r"nn\.Max: expected an input with a dimension 3, got \(2, 3\)"
    ):
        nn.Max(3).forward(jnp.zeros((2, 3)))
    with pytest.raises(
        ModuleError,
        match=r"nn\.Narrow: expected offset 2 and length 3 to fit in dimension 0 of size 4",
    ):
        nn.Narrow(0, 2, 3).forward(jnp.zeros(4))
    with pytest.raises(
        ModuleError, match=r"nn\.Select: expected index 5 within dimension 1 of size 3"
    ):
        nn.Select(1, 5).forward(jnp.zeros((2, 3)))
    with pytest.raises(
        ModuleError, match=r"nn\.Index: expected the index \(element 1\) to be a 1-D integer array"
    ):
        nn.Index(0).forward([jnp.zeros((2, 3)), jnp.zeros(2)])
    with pytest.raises(
        ModuleError, match=r"nn\.Transpose: cannot swap dims 0 and 2 of an input of shape \(2, 3\)"
    ):
        nn.Transpose((0, 2)).forward(jnp.zeros((2, 3)))
    with pytest.raises(ModuleError, match=r"nn\.Transpose: expected pairs of dimensions"):
        nn.Transpose(0, 1)
    with pytest.raises(ModuleError, match=r"nn\.Narrow: expected length to be non-zero"):
        nn.Narrow(0, 0, 0)
    with pytest.raises(
        ModuleError, match=r"nn\.Replicate: expected nFeature .* integer >= 1, got 0"
    ):
        nn.Replicate(0)
    with pytest.raises(
        ModuleError, match=r"nn\.Copy: expected outtype to be a dtype name .* got 'torch.Foo'"
    ):
        nn.Copy(None, "torch.Foo")
    net = nn.Sequential(nn.Identity(), nn.Sum(0))
    with pytest.raises(
        ModuleError, match=r"\(1\) nn\.Sum: expected an array of at least 1 dimensions, got a table"
    ):
        net.forward([jnp.zeros(2)])


def test_collapse_flattens_each_sample():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(nn.Collapse(2).forward(x), x.reshape(2, 12))
    np.testing.assert_array_equal(nn.Collapse(2).forward(x[0]), x[0].reshape(12))
    np.testing.assert_array_equal(nn.Collapse(3).forward(x), x.reshape(24))
    g = nn.Collapse(2).backward(x, jnp.arange(24.0).reshape(2, 12))
    np.testing.assert_array_equal(g, x)  # the gradient is reshaped back
    assert repr(nn.Collapse(2)) == "nn.Collapse(2)"
    with pytest.raises(ModuleError, match=r"nn\.Collapse: expected nInputDim .* >= 0, got -1"):
        nn.Collapse(-1)
    with pytest.raises(ModuleError, match=r"nn\.Collapse\(1\): expected an array, got a table"):
        nn.Collapse(1).forward([x])
