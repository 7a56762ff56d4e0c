"""char-rnn (Karpathy 2015) on this project's own README: a character-level LSTM language model.

    th examples/char_rnn.py                      (or: python examples/char_rnn.py)
    th examples/char_rnn.py --iterations 500 --temperature 0.5

The network is char-rnn's, time-major as the rnn package has it::

    (seqlen, batch) character indices
      -> nn.LookupTable(vocab, rnn_size)          (char-rnn feeds one-hot vectors; the same map)
      -> nn.SeqLSTM(rnn_size, rnn_size) x 2       (each one lax.scan over the sequence)
      -> nn.View(-1, rnn_size)                    (time-distributed: all steps as one batch)
      -> nn.Linear(rnn_size, vocab) -> nn.LogSoftMax()   ((seqlen * batch, vocab) log-probs)

Training follows char-rnn's train.lua: the text is cut into `batch` streams read in chunks of
`seq_length` characters, the LSTMs remember their state from one chunk to the next
(``remember('both')``), gradients are clipped to [-5, 5] and RMSprop updates the flat parameter
vector. Every `--print-every` iterations the mean training loss (nats per character) is printed;
at the end the network samples text, character by character, from a primer.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import jax.numpy as jnp
import numpy as np

import nets
from nets import nn, optim

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def char_rnn(vocab: int, rnn_size: int, num_layers: int = 2) -> nn.Sequential:
    """char-rnn's LSTM language model for (seqlen, batch) index input."""
    net = nn.Sequential()
    net.add(nn.LookupTable(vocab, rnn_size))  # seqlen x batch x rnn_size
    for _ in range(num_layers):
        net.add(nn.SeqLSTM(rnn_size, rnn_size).remember("both"))
    net.add(nn.View(-1, rnn_size))  # (seqlen * batch) x rnn_size: every step at once
    net.add(nn.Linear(rnn_size, vocab)).add(nn.LogSoftMax())  # (seqlen * batch) x vocab
    return net


def batches(ids: np.ndarray, batch: int, seq_length: int) -> tuple[np.ndarray, np.ndarray]:
    """char-rnn's split: `batch` streams, each cut in chunks of `seq_length`; inputs and their
    next characters as (chunks, seq_length, batch) arrays, time-major."""
    per_stream = (len(ids) - 1) // batch
    chunks = per_stream // seq_length
    usable = chunks * seq_length
    x = ids[: batch * per_stream].reshape(batch, per_stream)[:, :usable]
    y = ids[1 : batch * per_stream + 1].reshape(batch, per_stream)[:, :usable]
    as_chunks = lambda a: a.reshape(batch, chunks, seq_length).transpose(1, 2, 0)  # noqa: E731
    return as_chunks(x), as_chunks(y)


def sample(
    net: nn.Sequential,
    chars: list[str],
    primer: str,
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> str:
    """Feed `primer` one character at a time, then draw `length` more from the softmax."""
    index = {c: i for i, c in enumerate(chars)}
    net.evaluate()  # switching mode makes the LSTMs forget their training state
    log_probs = None
    for c in primer:
        log_probs = net.forward(jnp.asarray([[index[c]]], jnp.int32))
    out = []
    for _ in range(length):
        logits = np.asarray(log_probs[0], np.float64) / temperature
        p = np.exp(logits - logits.max())
        nxt = int(rng.choice(len(chars), p=p / p.sum()))
        out.append(chars[nxt])
        log_probs = net.forward(jnp.asarray([[nxt]], jnp.int32))
    net.training()
    return primer + "".join(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=pathlib.Path, default=README)
    parser.add_argument("--rnn-size", type=int, default=64)
    parser.add_argument("--seq-length", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--lr", type=float, default=2e-3, help="RMSprop's learningRate")
    parser.add_argument("--grad-clip", type=float, default=5.0)
    parser.add_argument("--print-every", type=int, default=25)
    parser.add_argument("--sample-length", type=int, default=200)
    parser.add_argument("--primer", default="The ")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    text = args.text.read_text(encoding="utf-8")
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], np.int32)
    xs, ys = batches(ids, args.batch_size, args.seq_length)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    say(f"{len(text)} characters, vocabulary {len(chars)}, {len(xs)} chunks per epoch")

    nets.manual_seed(args.seed)
    net = char_rnn(len(chars), args.rnn_size)
    criterion = nn.ClassNLLCriterion()
    params, _ = net.getParameters()
    state: dict = {}
    config = {"learningRate": args.lr, "alpha": 0.95}  # char-rnn's decay_rate
    curve, window = [], []
    start = time.perf_counter()
    for it in range(args.iterations):
        chunk = it % len(xs)
        if chunk == 0:  # a new epoch: the streams start over, so does the state
            for m in net.findModules("SeqLSTM"):
                m.forget()
        x, y = jnp.asarray(xs[chunk]), jnp.asarray(ys[chunk].reshape(-1))

        def feval(p, x=x, y=y):
            net.setParameters(p)
            net.zeroGradParameters()
            out = net.forward(x)
            loss = criterion.forward(out, y)
            net.backward(x, criterion.backward(out, y))
            _, grads = net.getParameters()
            return loss, jnp.clip(grads, -args.grad_clip, args.grad_clip)

        params, (loss,) = optim.rmsprop(feval, params, config, state)
        window.append(float(loss))
        if (it + 1) % args.print_every == 0 or it + 1 == args.iterations:
            curve.append((it + 1, float(np.mean(window))))
            window = []
            say(f"iteration {curve[-1][0]:4d}  train loss {curve[-1][1]:.3f}")
    net.setParameters(params)
    seconds = time.perf_counter() - start
    text_out = sample(
        net,
        chars,
        args.primer,
        args.sample_length,
        args.temperature,
        np.random.default_rng(args.seed),
    )
    say(f"{args.iterations} iterations in {seconds:.1f} s\n--- sample ---\n{text_out}")
    return {"curve": curve, "sample": text_out, "vocab": chars, "seconds": seconds}


if __name__ == "__main__":
    main()
