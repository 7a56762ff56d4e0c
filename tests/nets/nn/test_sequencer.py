"""Sequencer and BiSequencer: per-step application, the state flowing through a recurrent
module, backpropagation through time against finite differences, remember/forget, errors
naming the time step, printed forms and checkpoints."""

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 2, 3)).astype(np.float32)  # (seqlen, batch, features)
TOL = 1e-6  # finite differences in float64 (see tests/nets/nn/test_jacobian.py)
TERMS = 4 * path_terms(3 + 4, ELEMENTWISE, 2, ELEMENTWISE, 2, ELEMENTWISE, 2)  # 4 LSTM steps


def _lstm():
    nets.manual_seed(8)
    return nn.LSTM(3, 4)


def test_sequencer_of_a_plain_module_applies_it_per_step_array_and_list():
    nets.manual_seed(9)
    lin = nn.Linear(3, 2)
    seq = nn.Sequencer(lin).evaluate()
    want = X @ np.asarray(lin.weight).T + np.asarray(lin.bias)
    assert_close(seq.forward(jnp.asarray(X)), want, terms=3)
    out = seq.forward([jnp.asarray(x) for x in X])
    assert isinstance(out, list) and len(out) == 4
    assert_close(np.stack(out), want, terms=3)


def test_sequencer_runs_the_steps_of_a_recurrent_module_in_order():
    seq = nn.Sequencer(_lstm()).evaluate()
    out = seq.forward(jnp.asarray(X))
    step = _lstm().evaluate()
    want = np.stack([step.forward(jnp.asarray(x)) for x in X])
    assert_close(out, want, terms=TERMS)
    # each call starts afresh (rnn's default): the same input gives the same output
    assert_close(seq.forward(jnp.asarray(X)), want, terms=TERMS)


def test_sequencer_remember_carries_the_state_between_calls():
    seq = nn.Sequencer(_lstm()).evaluate()
    whole = seq.forward(jnp.asarray(X))
    seq.remember("eval").forget()  # the state of the call before is still there: drop it
    first, second = seq.forward(jnp.asarray(X[:2])), seq.forward(jnp.asarray(X[2:]))
    assert_close(jnp.concatenate([first, second]), whole, terms=TERMS)
    seq.forget()
    assert seq.modules[0].prevOutput.shape == (0,)
    assert_close(seq.forward(jnp.asarray(X[:2])), whole[:2], terms=TERMS)
    seq.training()  # switching modes forgets; 'eval' does not remember in training
    assert not seq.hasMemory()
    assert_close(seq.forward(jnp.asarray(X[2:])), seq.forward(jnp.asarray(X[2:])), terms=0)


def test_backpropagation_through_time_matches_finite_differences():
    nets.manual_seed(10)
    seq = nn.Sequencer(nn.LSTM(2, 2))
    errors = nn.Jacobian.testAll(seq, jnp.zeros((3, 2, 2)))  # single samples: BiSequencer's
    assert set(errors) == {"input", *seq.split()[0]}
    assert max(errors.values()) < TOL, errors


def test_bisequencer_joins_the_forward_and_the_reversed_backward_pass():
    fwd = _lstm()
    nets.manual_seed(12)
    bwd = nn.GRU(3, 2)
    bi = nn.BiSequencer(fwd, bwd).evaluate()
    out = bi.forward(jnp.asarray(X))
    assert out.shape == (4, 2, 6)
    ahead = nn.Sequencer(fwd.clone()).evaluate().forward(jnp.asarray(X))
    back = nn.Sequencer(bwd.clone()).evaluate().forward(jnp.asarray(X[::-1]))[::-1]
    assert_close(out, np.concatenate([ahead, back], axis=-1), terms=TERMS)
    single = bi.forward(jnp.asarray(X[:, 0]))
    assert_close(single, out[:, 0], terms=TERMS)


def test_bisequencer_default_backward_is_a_reset_copy_and_gradients_check():
    nets.manual_seed(13)
    bi = nn.BiSequencer(nn.GRU(2, 1))
    fwd, bwd, merge = bi.modules
    assert type(bwd) is nn.GRU and repr(merge) == "nn.JoinTable(0, 1)"
    assert not np.array_equal(fwd.weight, bwd.weight)  # re-initialised, not shared
    errors = nn.Jacobian.testAll(bi, jnp.zeros((3, 2)))  # a sequence of single samples
    assert max(errors.values()) < TOL, errors


def test_errors_name_the_time_step():
    seq = nn.Sequencer(nn.Sequential().add(nn.Linear(3, 2)))
    bad = [jnp.ones(3), jnp.ones(3), jnp.ones(5)]
    with pytest.raises(
        ModuleError,
        match=r"^\(0\)\.\(0\) nn.Linear\(3 -> 2\): at time step 2 of 3 \(0-based\): expected "
        r"input of size 3 in the last dimension",
    ):
        seq.forward(bad)
    with pytest.raises(ModuleError, match=r"nn.Sequencer @ nn.LSTM\(3 -> 4\): expected a sequence"):
        nn.Sequencer(nn.LSTM(3, 4)).forward([])
    with pytest.raises(ModuleError, match=r"remember expected one of 'both'"):
        nn.Sequencer(nn.LSTM(3, 4)).remember("yes")
    with pytest.raises(ModuleError, match=r"nn.Sequencer: expected an nn.Module at arg 1, got int"):
        nn.Sequencer(3)
    with pytest.raises(ModuleError, match=r"nn.BiSequencer: expected an nn.Module or a number"):
        nn.BiSequencer(nn.LSTM(3, 4), None, "concat")


def test_printed_forms():
    assert repr(nn.Sequencer(nn.LSTM(3, 4))) == "nn.Sequencer @ nn.LSTM(3 -> 4)"
    text = repr(nn.Sequencer(nn.Sequential().add(nn.Linear(3, 2))))
    assert text.splitlines()[0] == "nn.Sequencer @ nn.Sequential {"
    assert text.splitlines()[2] == "    (0): nn.Linear(3 -> 2)"
    assert repr(nn.BiSequencer(nn.LSTM(3, 4))).splitlines() == [
        "nn.BiSequencer {",
        "  [input -> (0) forward, (1) reversed -> (2) -> output]",
        "  |`-> (0) forward: nn.LSTM(3 -> 4)",
        "  |`-> (1) backward: nn.LSTM(3 -> 4)",
        "  |`-> (2) merge: nn.JoinTable(0, 1)",
        "}",
    ]


def test_an_lstm_network_round_trips_through_a_checkpoint(tmp_path):
    nets.manual_seed(14)
    net = nn.Sequential()
    net.add(nn.LookupTable(6, 3)).add(nn.Sequencer(nn.LSTM(3, 4))).add(nn.SeqLSTM(4, 4))
    net.add(nn.BiSequencer(nn.Recurrent(2, nn.Linear(4, 2), nn.Linear(2, 2))))  # rebuilt copy
    net.evaluate()
    idx = jnp.asarray(RNG.integers(0, 6, (5, 2)))  # (seqlen, batch) of indices
    want = net.forward(idx)
    nets.save(tmp_path / "lstm.nets", net)
    back = nets.load(tmp_path / "lstm.nets")
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.forward(idx), want)
