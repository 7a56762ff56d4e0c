"""Issue 2's overhead figure: the stateful Torch path against hand-written jax.jit, same weights.

    python bench/bench_nn_overhead.py [--batch 128] [--planes 3] [--windows 7]

The seed's LeNet (3x32x32 input as in the seed, or ``--planes 1``) on one batch:

* **nets**: ``net.forward(x)``, ``criterion.forward(out, y)``, ``criterion.backward(out, y)``,
  ``net.backward(x, gradOutput)``: the Torch7 interactive path, each a compiled call;
* **nets nil**: the same with ``net.modules[0].gradInput = None`` (Torch7's ``gradInput = nil``
  on the first layer): backward skips the gradient with respect to the images, which the
  hand-written step does not compute either;
* **jax**: ``jax.jit(jax.value_and_grad(loss))`` of the same network written by hand with
  ``lax``, on the same weights.

Both produce the loss and every parameter gradient; the script checks that they agree, times
them in interleaved windows and prints the ratio nets/jax (issue 2 asks for <= 1.2).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np

from bench.project_models import lenet
from nets import nn
from nets.nn import lowering


def seed_lenet(planes: int) -> nn.Module:
    """The seed's "模型示例" network (conv 5x5 x2, max-pool, three Linear layers), unpadded."""
    return lenet(planes, pad=0)


def hand_written_loss(p: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    """The same network as plain JAX, keyed by the nets parameter paths."""

    def conv(h, i):
        dims = ("NCHW", "OIHW", "NCHW")
        h = jax.lax.conv_general_dilated(
            h, p[f"{i}.weight"], (1, 1), "VALID", dimension_numbers=dims
        )
        return h + p[f"{i}.bias"].reshape(1, -1, 1, 1)

    def pool(h):
        return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    h = pool(jax.nn.relu(conv(x, 0)))
    h = pool(jax.nn.relu(conv(h, 3)))
    h = h.reshape(h.shape[0], -1)
    for i in (7, 9):
        h = jax.nn.relu(h @ p[f"{i}.weight"].T + p[f"{i}.bias"])
    logp = jax.nn.log_softmax(h @ p["11.weight"].T + p["11.bias"])
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--planes", type=int, default=3, choices=(1, 3))
    ap.add_argument("--windows", type=int, default=7)
    ap.add_argument("--steps", type=int, default=10, help="steps per window")
    ap.add_argument("--plain", action="store_true", help="nets on the plain lax path")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((args.batch, args.planes, 32, 32)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 10, args.batch), jnp.int32)
    net = seed_lenet(args.planes)
    crit = nn.ClassNLLCriterion()
    params = {k: jnp.array(v) for k, v in net.split()[0].items()}
    grad_fn = jax.jit(jax.value_and_grad(hand_written_loss))

    def nets_step():
        net.zeroGradParameters()
        out = net.forward(x)
        loss = crit.forward(out, y)
        net.backward(x, crit.backward(out, y))
        return loss, net.parameters()[1]

    # The same net with Torch7's `model:get(1).gradInput = nil`: backward skips the gradient
    # with respect to the images, which the hand-written step does not compute either.
    net_nil = seed_lenet(args.planes)
    net_nil.merge(net.split()[0])
    net_nil.modules[0].gradInput = None

    def nets_nil_step():
        net_nil.zeroGradParameters()
        out = net_nil.forward(x)
        loss = crit.forward(out, y)
        net_nil.backward(x, crit.backward(out, y))
        return loss, net_nil.parameters()[1]

    def jax_step():
        return grad_fn(params, x, y)

    # compile both; nets traces under the lowering the library would use
    start = time.perf_counter()
    with lowering.plain_path(args.plain):
        loss_n, grads_n = jax.block_until_ready(nets_step())
        compile_n = time.perf_counter() - start
        start = time.perf_counter()
        loss_nil, grads_nil = jax.block_until_ready(nets_nil_step())
        compile_nil = time.perf_counter() - start
    start = time.perf_counter()
    loss_j, grads_j = jax.block_until_ready(jax_step())
    compile_j = time.perf_counter() - start

    # same work: same loss, same gradients
    np.testing.assert_allclose(float(loss_n), float(loss_j), rtol=1e-5)
    np.testing.assert_allclose(float(loss_nil), float(loss_j), rtol=1e-5)
    for g, g_nil, k in zip(grads_n, grads_nil, params, strict=True):
        np.testing.assert_allclose(g, grads_j[k], rtol=1e-3, atol=1e-5, err_msg=k)
        np.testing.assert_allclose(g_nil, grads_j[k], rtol=1e-3, atol=1e-5, err_msg=k)

    steps = {"nets": nets_step, "nets nil": nets_nil_step, "jax": jax_step}
    compiles = {"nets": compile_n, "nets nil": compile_nil, "jax": compile_j}
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(args.windows):
        for name, fn in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                jax.block_until_ready(fn())
            times[name].append((time.perf_counter() - start) / args.steps * 1e3)
    med = {k: statistics.median(v) for k, v in times.items()}
    path = "plain lax" if args.plain else "nets.nn.lowering"
    print(f"seed LeNet, batch {args.batch}x{args.planes}x32x32, forward+backward, nets on {path}")
    for k, v in times.items():
        print(
            f"  {k:8} {med[k]:8.2f} ms  [{min(v):.2f}-{max(v):.2f}]  (compile {compiles[k]:.1f}s)"
        )
    ratio = med["nets"] / med["jax"]
    ratio_nil = med["nets nil"] / med["jax"]
    print(
        f"nets/jax time ratio = {ratio:.2f}  (backward also computes gradInput, as Torch7's does)"
    )
    print(
        f"nets/jax time ratio = {ratio_nil:.2f}  (net.modules[0].gradInput = None, Torch7's nil; "
        "issue 2 asks for <= 1.2)"
    )
    return ratio_nil


if __name__ == "__main__":
    main()
