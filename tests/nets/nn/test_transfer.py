"""Transfer functions: formulas, Torch7's feature dim for SoftMax/LogSoftMax, reprs, errors."""

import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(4)


def close(a, b, terms):
    assert_close(a, b, terms=terms)


X = RNG.standard_normal((3, 4)).astype(np.float32)

POINTWISE = [
    (nn.ReLU(), np.maximum(X, 0)),
    (nn.LeakyReLU(), np.where(X > 0, X, 0.01 * X)),
    (nn.LeakyReLU(0.2), np.where(X > 0, X, 0.2 * X)),
    (nn.ELU(), np.where(X > 0, X, np.expm1(X))),
    (nn.ELU(0.5), np.where(X > 0, X, 0.5 * np.expm1(X))),
    (nn.Tanh(), np.tanh(X)),
    (nn.Sigmoid(), 1 / (1 + np.exp(-X))),
]


@pytest.mark.parametrize("module,want", POINTWISE, ids=lambda v: repr(v)[:20])
def test_pointwise_transfer_batch_and_single(module, want):
    terms = path_terms(ELEMENTWISE, 2)  # a library exp or tanh and at most two roundings
    close(module.updateOutput(X), want, terms)
    close(module.updateOutput(X[1]), want[1], terms)


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 5), 1), ((4, 2, 3), 0), ((2, 4, 2, 3), 1)])
def test_softmax_family_uses_torch_feature_dim(shape, axis):
    x = RNG.standard_normal(shape).astype(np.float32)
    # x - max, exp, a sum over the feature dim, the division (or a log and a subtraction)
    terms = path_terms(1, ELEMENTWISE, shape[axis], 1, ELEMENTWISE)
    close(nn.SoftMax().updateOutput(x), softmax_ref(x, axis), terms)
    close(nn.LogSoftMax().updateOutput(x), np.log(softmax_ref(x, axis)), terms)


def test_log_softmax_forward_backward_compiled():
    m = nn.LogSoftMax()
    x = jnp.asarray(X)
    y = m.forward(x)
    g = m.backward(x, jnp.ones_like(y))
    # d/dx sum_j log softmax(x)_j = 1 - C * softmax(x)
    # the forward's path over 4 features, the backward's sum over 4 and its product and difference
    close(g, 1 - 4 * softmax_ref(X, 1), path_terms(1, ELEMENTWISE, 4, 1, ELEMENTWISE, 4, 2))


def test_transfer_reprs_as_torch():
    assert repr(nn.ReLU()) == "nn.ReLU"
    assert repr(nn.LeakyReLU()) == "nn.LeakyReLU(0.01)"
    assert repr(nn.ELU()) == "nn.ELU (alpha:1.000000)"
    assert repr(nn.LogSoftMax()) == "nn.LogSoftMax"


def test_softmax_rejects_five_dims():
    with pytest.raises(ModuleError, match=r"nn\.SoftMax: expected a 1D .* got \(1, 2, 3, 4, 5\)"):
        nn.SoftMax().forward(jnp.zeros((1, 2, 3, 4, 5)))
