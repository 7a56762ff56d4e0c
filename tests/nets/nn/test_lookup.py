"""LookupTable: rows by 0-based index, its gradient (padding, frequency scaling), maxNorm,
bad indices, and PyTorch's embedding as an oracle where torch is installed."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(19)
IDX = np.array([[1, 4, 4], [0, 2, 4]])


def _table(**kw):
    nets.manual_seed(3)
    return nn.LookupTable(5, 3, **kw)


def _grad_by_hand(n_index, idx, grad_out, scale=None):
    """gradWeight: each gradOutput row added into the row of its index (times its scale)."""
    g = np.zeros((n_index, grad_out.shape[-1]), np.float64)
    s = np.ones(idx.shape) if scale is None else scale
    np.add.at(g, idx.ravel(), grad_out.reshape(-1, grad_out.shape[-1]) * s.ravel()[:, None])
    return g


def test_rows_by_index_batch_single_and_float_indices():
    m = _table()
    w = np.asarray(m.weight)
    np.testing.assert_array_equal(m.forward(jnp.asarray(IDX)), w[IDX])  # a copy: exact
    np.testing.assert_array_equal(m.forward(jnp.asarray(IDX[1])), w[IDX[1]])
    np.testing.assert_array_equal(m.forward(IDX.astype(np.float32)), w[IDX])


def test_weight_drawn_from_a_unit_normal():
    nets.manual_seed(0)
    w = np.asarray(nn.LookupTable(400, 50).weight)
    # 20000 draws: the mean's standard error is 0.007, the std's 0.005
    assert abs(w.mean()) < 0.03 and abs(w.std() - 1) < 0.03


def test_gradient_accumulates_rows_and_input_gradient_is_zero():
    m = _table()
    x = jnp.asarray(IDX)
    m.forward(x)
    go = RNG.standard_normal((2, 3, 3)).astype(np.float32)
    gin = m.backward(x, jnp.asarray(go))
    np.testing.assert_array_equal(gin, np.zeros(IDX.shape))
    assert_close(m.gradWeight, _grad_by_hand(5, IDX, go), terms=3)  # index 4 thrice: 3 terms


def test_padding_value_gets_no_gradient_and_scale_grad_by_freq_divides():
    m = _table(paddingValue=4).scaleGradByFreq()
    x = jnp.asarray(IDX)
    m.forward(x)
    go = RNG.standard_normal((2, 3, 3)).astype(np.float32)
    m.backward(x, jnp.asarray(go))
    counts = np.bincount(IDX.ravel(), minlength=5)[IDX]
    scale = (IDX != 4) / counts
    want = _grad_by_hand(5, IDX, go, scale)
    assert not want[4].any()
    assert_close(m.gradWeight, want, terms=path_terms(3, 2))


def test_max_norm_scales_rows_read_and_keeps_the_lookup_gradient():
    m = _table(maxNorm=1.0)
    w = np.asarray(m.weight, np.float64)
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    assert (norms > 1).any() and (norms < 1).any()  # both branches are exercised
    renormed = np.where(norms > 1, w / (norms + 1e-7), w)
    x = jnp.asarray(IDX)
    out = m.forward(x)
    assert_close(out, renormed[IDX], terms=path_terms(3, ELEMENTWISE, 2))
    go = RNG.standard_normal((2, 3, 3)).astype(np.float32)
    m.backward(x, jnp.asarray(go))
    assert_close(m.gradWeight, _grad_by_hand(5, IDX, go), terms=3)
    # a 1-norm
    m1 = _table(maxNorm=1.5, normType=1)
    n1 = np.abs(w).sum(axis=1, keepdims=True)
    want = np.where(n1 > 1.5, w * 1.5 / (n1 + 1e-7), w)
    assert_close(m1.forward(x), want[IDX], terms=path_terms(3, 2))


def test_inside_a_network_an_out_of_range_index_reads_nan():
    net = nn.Sequential().add(_table()).add(nn.Tanh())
    out = np.asarray(net.forward(jnp.asarray([[0, 7]])))
    assert np.isfinite(out[0, 0]).all() and np.isnan(out[0, 1]).all()


@pytest.mark.parametrize(
    "x, match",
    [
        (np.array([0, 5]), r"indices in \[0, 5\), got 5 in input of shape \(2,\)"),
        (np.array([-1, 2]), r"indices in \[0, 5\), got -1 in"),
        (np.array([0.5, 2.0]), r"integer indices in \[0, 5\), got 0.5 in"),
        (np.array(3), r"expected an array of indices, \(n,\) or a batch \(N, n\), got \(\)"),
        (np.array([True]), r"of bool"),
    ],
)
def test_bad_indices_are_refused_naming_the_layer(x, match):
    m = _table()
    with pytest.raises(ModuleError, match=r"nn.LookupTable\(5 -> 3\): " + ".*" + match):
        m.forward(x)
    with pytest.raises(ModuleError, match=match):
        m.updateOutput(jnp.asarray(x))


@pytest.mark.parametrize(
    "args, match",
    [
        ((0, 3), r"nIndex .* integer >= 1, got 0"),
        ((5, 2.5), r"nOutput .* integer >= 1, got 2.5"),
        ((5, 3, -1), r"paddingValue .* integer >= 0, got -1"),
        ((5, 3, None, -2.0), r"maxNorm .* >= 0, got -2.0"),
        ((5, 3, None, 1.0, 0), r"normType .* > 0, got 0"),
    ],
)
def test_bad_constructor_arguments(args, match):
    with pytest.raises(ModuleError, match=r"nn.LookupTable: expected " + match):
        nn.LookupTable(*args)


def test_printed_form():
    assert repr(nn.LookupTable(10, 4)) == "nn.LookupTable(10 -> 4)"


def test_against_torch_embedding():
    torch = pytest.importorskip("torch")
    m = _table(maxNorm=1.2, paddingValue=2)
    w = np.asarray(m.weight)
    x = jnp.asarray(IDX)
    out = m.forward(x)
    go = RNG.standard_normal((2, 3, 3)).astype(np.float32)
    m.backward(x, jnp.asarray(go))
    tw = torch.nn.Parameter(torch.tensor(w))
    tout = torch.nn.functional.embedding(torch.tensor(IDX), tw, padding_idx=2, max_norm=1.2)
    tout.backward(torch.tensor(go))
    assert_close(out, tout.detach().numpy(), terms=path_terms(3, ELEMENTWISE, 2))
    assert_close(m.gradWeight, tw.grad.numpy(), terms=3)
