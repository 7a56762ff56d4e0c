"""examples/char_rnn.py: char-rnn's network trains on the README (the loss falls) and samples."""

import importlib.util
import math
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "char_rnn.py"


def _load():
    spec = importlib.util.spec_from_file_location("char_rnn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_char_rnn_loss_falls_and_it_samples():
    char_rnn = _load()
    args = "--iterations 40 --print-every 10 --rnn-size 16 --seq-length 8 --batch-size 8"
    result = char_rnn.main([*args.split(), "--lr", "1e-2", "--sample-length", "30", "--quiet"])
    (first_it, first), *_, (last_it, last) = result["curve"]
    assert (first_it, last_it) == (10, 40)
    vocab = len(result["vocab"])
    # untrained, the model guesses about uniformly: ln(vocab) nats per character
    assert first < math.log(vocab) + 0.5
    assert last < first - 0.3, result["curve"]
    text = result["sample"]
    assert text.startswith("The ") and len(text) == 4 + 30
    assert set(text) <= set(result["vocab"])


def test_the_data_is_cut_into_time_major_streams():
    char_rnn = _load()
    import numpy as np

    ids = np.arange(101)
    x, y = char_rnn.batches(ids, batch=4, seq_length=5)
    assert x.shape == y.shape == (5, 5, 4)  # chunks, seqlen, batch
    np.testing.assert_array_equal(y, x + 1)  # each target is the next character
    np.testing.assert_array_equal(x[0, :, 1], np.arange(25, 30))  # stream 1 starts at 100 // 4
    np.testing.assert_array_equal(x[1, :, 0], np.arange(5, 10))  # chunks follow each other
