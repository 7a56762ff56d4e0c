"""rnn's recurrent layers: LSTM, GRU and Recurrent step by step, SeqLSTM over a sequence;
formulas (NumPy, float64), PyTorch's LSTM as an oracle where torch is installed, finite
differences, remember/forget, bad inputs and printed forms."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(7)
TOL = 1e-6  # finite differences in float64 (see tests/nets/nn/test_jacobian.py)


def sig(x):
    return 1 / (1 + np.exp(-x))


def f64(a):
    return np.asarray(a, np.float64)


def lstm_ref(x, h, c, w, b, u, p=None):
    """rnn's LSTM step (LSTM.lua's gates), in float64."""
    ai, af, ag, ao = np.split(x @ w.T + b + h @ u.T, 4, axis=-1)
    if p is not None:
        ai, af = ai + p[0] * c, af + p[1] * c
    c = sig(af) * c + sig(ai) * np.tanh(ag)
    if p is not None:
        ao = ao + p[2] * c
    return sig(ao) * np.tanh(c), c


def gru_ref(x, h, w, b, u):
    """rnn's GRU step (GRU.lua: the reset gate scales h before its matrix), in float64."""
    n = h.shape[-1]
    gx = x @ w.T + b
    r = sig(gx[..., :n] + h @ u[:n].T)
    z = sig(gx[..., n : 2 * n] + h @ u[n : 2 * n].T)
    hidden = np.tanh(gx[..., 2 * n :] + (r * h) @ u[2 * n :].T)
    return (1 - z) * hidden + z * h


def seq_lstm_ref(x, h, c, weight, bias):
    """SeqLSTM.lua's loop: gate columns i, f, o, g."""
    d, n = x.shape[-1], h.shape[-1]
    out = []
    for xt in x:
        a = xt @ weight[:d] + h @ weight[d:] + bias
        i, f, o, g = sig(a[:, :n]), sig(a[:, n : 2 * n]), sig(a[:, 2 * n : 3 * n]), a[:, 3 * n :]
        c = f * c + i * np.tanh(g)
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out), h, c


def step_terms(d, h, steps=1):
    """A gate's dot product over input and state, two library functions and a few roundings,
    adding up over the steps through the state."""
    return steps * path_terms(d + h, ELEMENTWISE, 2, ELEMENTWISE, 2, ELEMENTWISE, 2)


# ------------------------------------------------------------------------------ LSTM, GRU


@pytest.mark.parametrize("cell2gate", [True, False])
def test_lstm_steps_match_the_formula_batch_and_single(cell2gate):
    nets.manual_seed(1)
    m = nn.LSTM(3, 4, 9999, cell2gate).evaluate()  # values only: no backward compiled
    w, b, u = f64(m.weight), f64(m.bias), f64(m.recurrentWeight)
    p = f64(m.peephole) if cell2gate else None
    assert ("peephole" in m.split()[0]) == cell2gate
    xs = RNG.standard_normal((3, 2, 3)).astype(np.float32)
    h = c = np.zeros((2, 4))
    for t, x in enumerate(xs):
        h, c = lstm_ref(f64(x), h, c, w, b, u, p)
        assert_close(m.forward(jnp.asarray(x)), h, terms=step_terms(3, 4, t + 1))
    assert_close(m.prevCell, c, terms=step_terms(3, 4, 3))
    m.forget()
    assert m.prevOutput.shape == (0,)
    h1, _ = lstm_ref(f64(xs[0, 1]), np.zeros(4), np.zeros(4), w, b, u, p)
    assert_close(m.forward(jnp.asarray(xs[0, 1])), h1, terms=step_terms(3, 4))


def test_lstm_without_peepholes_is_torch_lstm_cell():
    torch = pytest.importorskip("torch")
    nets.manual_seed(2)
    m = nn.LSTM(3, 4, 9999, False)
    cell = torch.nn.LSTMCell(3, 4)  # gate rows i, f, g, o: rnn's input, forget, hidden, output
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(np.asarray(m.weight)))
        cell.weight_hh.copy_(torch.tensor(np.asarray(m.recurrentWeight)))
        cell.bias_ih.copy_(torch.tensor(np.asarray(m.bias)))
        cell.bias_hh.zero_()
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    jx = jnp.asarray(x)
    out = m.forward(jx)
    go = RNG.standard_normal((2, 4)).astype(np.float32)
    gin = m.backward(jx, jnp.asarray(go))  # the forward's own input: its step, its state
    tx = torch.tensor(x, requires_grad=True)
    th, _ = cell(tx)
    th.backward(torch.tensor(go))
    terms = step_terms(3, 4)
    assert_close(out, th.detach().numpy(), terms=terms)
    assert_close(gin, tx.grad.numpy(), terms=2 * terms)
    assert_close(m.gradWeight, cell.weight_ih.grad.numpy(), terms=2 * terms)
    # an equal input that is not the forward's own array: the step is recomputed from the
    # state the forward started from, not from the state it left
    m.evaluate()
    m.forget().forward(jx)
    assert m.prevOutput.shape == (2, 4)
    assert_close(m.updateGradInput(jnp.asarray(x), jnp.asarray(go)), gin, terms=2 * terms)


def test_gru_steps_match_the_formula_batch_and_single():
    nets.manual_seed(3)
    m = nn.GRU(3, 4).evaluate()
    w, b, u = f64(m.weight), f64(m.bias), f64(m.recurrentWeight)
    xs = RNG.standard_normal((3, 2, 3)).astype(np.float32)
    h = np.zeros((2, 4))
    for t, x in enumerate(xs):
        h = gru_ref(f64(x), h, w, b, u)
        assert_close(m.forward(jnp.asarray(x)), h, terms=step_terms(3, 4, t + 1))
    m.forget()
    h1 = gru_ref(f64(xs[0, 0]), np.zeros(4), w, b, u)
    assert_close(m.forward(jnp.asarray(xs[0, 0])), h1, terms=step_terms(3, 4))


def test_recurrent_starts_with_the_start_module_then_feeds_back():
    nets.manual_seed(4)
    lin_in, lin_back = nn.Linear(3, 4), nn.Linear(4, 4)
    m = nn.Recurrent(4, lin_in, lin_back, nn.Tanh()).evaluate()
    start = f64(m.modules[0].bias)
    wi, bi = f64(lin_in.weight), f64(lin_in.bias)
    wf, bf = f64(lin_back.weight), f64(lin_back.bias)
    xs = RNG.standard_normal((3, 2, 3)).astype(np.float32)
    h = np.tanh(f64(xs[0]) @ wi.T + bi + start)
    assert_close(m.forward(jnp.asarray(xs[0])), h, terms=step_terms(3, 0))
    for t in (1, 2):
        h = np.tanh(f64(xs[t]) @ wi.T + bi + h @ wf.T + bf)
        assert_close(m.forward(jnp.asarray(xs[t])), h, terms=step_terms(3, 4, t + 1))
    m.forget()
    one = np.tanh(f64(xs[0, 1]) @ wi.T + bi + start)
    assert_close(m.forward(jnp.asarray(xs[0, 1])), one, terms=step_terms(3, 0))


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: nn.LSTM(2, 3), (2, 2)),
        (lambda: nn.LSTM(2, 3), (2,)),
        (lambda: nn.GRU(2, 3), (2, 2)),
        (lambda: nn.Recurrent(3, nn.Linear(2, 3), nn.Linear(3, 3)), (2,)),
    ],
    ids=["lstm-batch", "lstm-single", "gru-batch", "recurrent-single"],
)
def test_step_gradients_match_finite_differences(build, shape):
    nets.manual_seed(5)
    m = build()
    m.forward(jnp.asarray(RNG.standard_normal(shape).astype(np.float32)))  # a state to go on
    errors = nn.Jacobian.testAll(m, jnp.zeros(shape))
    assert set(errors) == {"input", *m.split()[0]}
    assert max(errors.values()) < TOL, errors


# ------------------------------------------------------------------------------ SeqLSTM


def _seq(d=3, h=4):
    nets.manual_seed(6)
    return nn.SeqLSTM(d, h)


def test_seqlstm_initialisation_is_rnn_reset():
    nets.manual_seed(0)
    m = nn.SeqLSTM(30, 20)
    b = np.asarray(m.bias)
    np.testing.assert_array_equal(b, np.repeat([0, 1, 0, 0], 20))
    w = np.asarray(m.weight)
    assert w.shape == (50, 80)
    assert abs(w.std() * np.sqrt(50) - 1) < 0.05  # 4000 draws: std's standard error ~1%


def test_seqlstm_matches_its_loop_batch_single_batchfirst_and_given_states():
    m = _seq().evaluate()
    x = RNG.standard_normal((5, 2, 3)).astype(np.float32)
    want, _, _ = seq_lstm_ref(
        f64(x), np.zeros((2, 4)), np.zeros((2, 4)), f64(m.weight), f64(m.bias)
    )
    terms = step_terms(3, 4, 5)
    assert_close(m.forward(jnp.asarray(x)), want, terms=terms)
    assert_close(m.forward(jnp.asarray(x[:, 1])), want[:, 1], terms=terms)  # (seqlen, D)
    m.batchfirst = True
    assert_close(m.forward(jnp.asarray(x.swapaxes(0, 1))), want.swapaxes(0, 1), terms=terms)
    m.batchfirst = False
    h0, c0 = RNG.standard_normal((2, 2, 4)).astype(np.float32)
    want, _, _ = seq_lstm_ref(f64(x), f64(h0), f64(c0), f64(m.weight), f64(m.bias))
    assert_close(m.forward([c0, h0, jnp.asarray(x)]), want, terms=terms)
    want, _, _ = seq_lstm_ref(f64(x), f64(h0), np.zeros((2, 4)), f64(m.weight), f64(m.bias))
    assert_close(m.forward([h0, jnp.asarray(x)]), want, terms=terms)


def test_seqlstm_against_torch_lstm_values_and_gradients():
    torch = pytest.importorskip("torch")
    m = _seq()
    x = RNG.standard_normal((4, 2, 3)).astype(np.float32)
    go = RNG.standard_normal((4, 2, 4)).astype(np.float32)
    out = m.forward(jnp.asarray(x))
    gin = m.backward(jnp.asarray(x), jnp.asarray(go))
    n = 4
    order = np.r_[0:n, n : 2 * n, 3 * n : 4 * n, 2 * n : 3 * n]  # ours i f o g, torch's i f g o
    w, b = np.asarray(m.weight), np.asarray(m.bias)
    lstm = torch.nn.LSTM(3, 4)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(w[:3].T[order]))
        lstm.weight_hh_l0.copy_(torch.tensor(w[3:].T[order]))
        lstm.bias_ih_l0.copy_(torch.tensor(b[order]))
        lstm.bias_hh_l0.zero_()
    tx = torch.tensor(x, requires_grad=True)
    ty, _ = lstm(tx)
    ty.backward(torch.tensor(go))
    terms = step_terms(3, 4, 4)
    assert_close(out, ty.detach().numpy(), terms=terms)
    assert_close(gin, tx.grad.numpy(), terms=2 * terms)
    grad_w = np.concatenate([lstm.weight_ih_l0.grad.numpy().T, lstm.weight_hh_l0.grad.numpy().T])[
        :, np.argsort(order)
    ]
    assert_close(m.gradWeight, grad_w, terms=2 * terms * 2, scale=float(np.abs(grad_w).max()))
    assert_close(m.gradBias, lstm.bias_ih_l0.grad.numpy()[np.argsort(order)], terms=4 * terms)


@pytest.mark.parametrize("shape", [(3, 2, 2), (3, 2)], ids=["batch", "single"])
def test_seqlstm_gradients_match_finite_differences(shape):
    m = _seq(2, 2)
    errors = nn.Jacobian.testAll(m, jnp.zeros(shape))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < TOL, errors


def test_seqlstm_remember_carries_the_state_and_forget_drops_it():
    m = _seq().evaluate()
    x = jnp.asarray(RNG.standard_normal((6, 2, 3)).astype(np.float32))
    whole = m.forward(x)
    fresh = m.forward(x[3:])
    terms = step_terms(3, 4, 6)
    m.remember()
    assert m.rememberMode == "both"
    first, second = m.forward(x[:3]), m.forward(x[3:])
    assert m.h0.shape == (2, 4)
    assert_close(jnp.concatenate([first, second]), whole, terms=terms)
    assert float(jnp.max(jnp.abs(second - fresh))) > 1e-3  # remembering changed something
    m.forget()
    assert_close(m.forward(x[3:]), fresh, terms=terms)
    m.forward(x[:3])
    m.training()  # switching modes forgets, as rnn does
    assert m.h0.shape == (0,)
    m.remember("eval")  # in training: each call starts afresh
    assert_close(m.forward(x[3:]), fresh, terms=terms)
    assert_close(m.forward(x[3:]), fresh, terms=terms)


def test_seqlstm_remembered_state_survives_a_checkpoint(tmp_path):
    m = _seq().remember()
    x = jnp.asarray(RNG.standard_normal((4, 2, 3)).astype(np.float32))
    m.forward(x[:2])
    nets.save(tmp_path / "seq.nets", m)
    back = nets.load(tmp_path / "seq.nets")
    assert back.rememberMode == "both"
    np.testing.assert_array_equal(back.h0, m.h0)
    np.testing.assert_array_equal(back.forward(x[2:]), m.forward(x[2:]))


# ------------------------------------------------------------------------------ errors, printing


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: nn.LSTM(3, 4).forward(jnp.ones((2, 5))),
            r"nn.LSTM\(3 -> 4\): expected a step of size 3 in the last dimension, \(N, 3\) or "
            r"\(3,\), got \(2, 5\)",
        ),
        (
            lambda: nn.GRU(3, 4).forward(jnp.ones((2, 2, 3))),
            r"nn.GRU\(3 -> 4\): expected a step of size 3 .* got \(2, 2, 3\)",
        ),
        (
            lambda: nn.SeqLSTM(3, 4).forward(jnp.ones((5, 2, 2))),
            r"nn.SeqLSTM\(3 -> 4\): expected x of shape \(seqlen, batch, 3\) or \(seqlen, 3\), "
            r"got \(5, 2, 2\)",
        ),
        (
            lambda: nn.SeqLSTM(3, 4).forward([jnp.ones((3, 4)), jnp.ones((5, 2, 3))]),
            r"expected h0 of shape \(2, 4\) for a batch of 2, got \(3, 4\)",
        ),
        (
            lambda: nn.SeqLSTM(3, 4).forward([jnp.ones((5, 2, 3))] * 4),
            r"expected x, \[h0, x\] or \[c0, h0, x\], got a table of 4",
        ),
        (lambda: nn.SeqLSTM(3, 4).remember("always"), r"remember expected one of 'both'"),
        (lambda: nn.SeqLSTM(3, 4, 5), r"outputsize equal to hiddensize \(4\), got 5"),
        (lambda: nn.LSTM(3, 4, 10, True, 0.25), r"p=0.25: .* expected p=0"),
        (lambda: nn.LSTM(0, 4), r"nn.LSTM: expected inputSize .* integer >= 1, got 0"),
        (lambda: nn.Recurrent(3, "linear", nn.Linear(3, 3)), r"expected input to be an nn.Module"),
    ],
)
def test_bad_input_is_refused_with_sizes(call, match):
    with pytest.raises(ModuleError, match=match):
        call()


def test_a_state_of_another_batch_size_is_refused():
    m = nn.LSTM(3, 4)
    m.forward(jnp.ones((2, 3)))
    with pytest.raises(ModuleError, match=r"\(prevOutput\) has shape \(2, 4\), but the input"):
        m.forward(jnp.ones((5, 3)))
    m.forget()
    assert m.forward(jnp.ones((5, 3))).shape == (5, 4)
    s = nn.SeqLSTM(3, 4).remember()
    s.forward(jnp.ones((2, 2, 3)))
    with pytest.raises(ModuleError, match=r"remembered state h0 is for a batch of 2, got .* 3"):
        s.forward(jnp.ones((2, 3, 3)))


def test_printed_forms():
    assert repr(nn.LSTM(3, 4)) == "nn.LSTM(3 -> 4)"
    assert repr(nn.GRU(3, 4)) == "nn.GRU(3 -> 4)"
    assert repr(nn.SeqLSTM(3, 4)) == "nn.SeqLSTM(3 -> 4)"
    text = repr(nn.Recurrent(4, nn.Linear(3, 4), nn.Linear(4, 4)))
    assert text.splitlines() == [
        "nn.Recurrent {",
        "  [{input(t), output(t-1)} -> (1), (2) -> (4) -> (3) -> output(t)]",
        "  (0) start, t == 0: nn.Add(4)",
        "  (1) input: nn.Linear(3 -> 4)",
        "  (2) feedback: nn.Linear(4 -> 4)",
        "  (3) transfer: nn.Sigmoid",
        "  (4) merge: nn.CAddTable",
        "}",
    ]
