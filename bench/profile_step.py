"""Where a compiled step's time goes: XLA's own per-op timings of one suite row.

    python bench/profile_step.py lenet-train            # any row name of `python -m bench`
    python bench/profile_step.py resnet18-train-32 --plain --top 25

It builds the row's ``ours`` step (`bench.project_models`, nets' lowerings and compiler
options; ``--plain`` for the plain lax path with XLA's defaults), runs it under
``jax.profiler.trace`` with XLA's per-thunk trace events on, and prints the heaviest XLA ops in
ms per step with the JAX operation each came from (the HLO ``op_name`` metadata). This is how
the duplicated-convolution fusion and the slow weight gradients in docs/bench.md were found.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# XLA reads its flags once, when the CPU backend starts: set them before JAX is imported.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true"
).strip()

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import collections  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from bench import project_models  # noqa: E402
from bench.run import ROWS, _data  # noqa: E402

# Trace events that are the runtime's bookkeeping, not an XLA op.
_NOT_OPS = re.compile(r"ThunkExecutor|block_until_ready|PjitFunction|\$|profiler|contextlib")


def _op_names(compiled_text: str) -> dict[str, str]:
    """HLO instruction name -> the JAX op_name recorded in its metadata."""
    names = {}
    for m in re.finditer(r"%([\w.\-]+) = [^\n]*?metadata=\{op_name=\"([^\"]+)\"", compiled_text):
        names[m.group(1)] = m.group(2)
    return names


def _compiled_step(row, plain: bool):
    """(step closure, compiled HLO text) for the row's ``ours`` competitor."""
    x, y = _data(row)
    mode = "plain" if plain else "fast"
    net = project_models.build(row.net, x, **row.kw)
    params, buffers = net.split()
    params = {k: jnp.array(v) for k, v in params.items()}
    buffers = {k: jnp.array(v) for k, v in buffers.items()}
    xx, yy = jnp.asarray(x), jnp.asarray(y)
    with project_models.lowering_mode(mode):
        if row.task == "train":
            fn = project_models.train_step(net, log_probs=(row.net == "lenet"))
            text = fn.lower(params, buffers, xx, yy).compile().as_text()
        else:
            net.evaluate()
            fn = project_models.compiler.jit(lambda p, b, x: net.call(p, b, x, train=False)[0])
            text = fn.lower(params, buffers, xx).compile().as_text()
    state = {"p": params, "b": buffers}

    def step():
        if row.task == "train":
            state["p"], state["b"], loss = fn(state["p"], state["b"], xx, yy)
            return loss
        return fn(state["p"], state["b"], xx)

    with project_models.lowering_mode(mode):
        jax.block_until_ready(step())
    return step, text


def main(argv: list[str] | None = None) -> None:
    rows = {r.name: r for r in ROWS}
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("row", choices=sorted(rows))
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--plain", action="store_true", help="plain lax path, XLA's default options")
    args = ap.parse_args(argv)
    row = rows[args.row]
    step, text = _compiled_step(row, args.plain)
    for _ in range(3):
        jax.block_until_ready(step())
    with tempfile.TemporaryDirectory() as tmp:
        with jax.profiler.trace(tmp, create_perfetto_trace=True):
            for _ in range(args.steps):
                jax.block_until_ready(step())
        trace = next(Path(tmp).rglob("*.trace.json.gz"))
        events = json.load(gzip.open(trace))
    events = events["traceEvents"] if isinstance(events, dict) else events
    total: collections.Counter = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and not _NOT_OPS.search(e["name"]):
            total[e["name"]] += e.get("dur", 0)
    per_step = sum(total.values()) / args.steps / 1e3
    origin = _op_names(text)
    print(f"{args.row} ({'plain' if args.plain else 'nets'}): XLA ops {per_step:.2f} ms/step")
    print(f"{'ms/step':>8} {'share':>6}  {'XLA op':32} from")
    for name, us in total.most_common(args.top):
        ms = us / args.steps / 1e3
        src = origin.get(name, "")
        print(f"{ms:8.2f} {ms / per_step:6.1%}  {name[:32]:32} {src[-70:]}")


if __name__ == "__main__":
    main()
