"""Per-layer breakdown: each convolution and pooling shape of a network, every lowering, and
PyTorch, forward and forward+backward, in one run.

    python bench/bench_layers.py --net lenet        # or resnet18, resnet18-32, alexnet

It prints milliseconds (median of interleaved windows) per layer shape and path, which is how
`nets.nn.lowering`'s rules were derived and how a slow row of the suite is explained. "dnnl"
is oneDNN's direct convolution (`nets.native`), timed with NCHW arrays in and out, so with the
transposes to and from its NHWC memory that a network pays only at the ends of a run of
native convolutions.
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

from nets.native import conv as native_conv
from nets.nn import compiler
from nets.nn import functional as F  # noqa: N812
from nets.nn import lowering as L  # noqa: N812

# (name, op, input NCHW shape, weight shape or kernel, stride, padding)
LENET = [
    ("conv1", "conv", (128, 1, 28, 28), (6, 1, 5, 5), (1, 1), (2, 2)),
    ("pool1", "pool", (128, 6, 28, 28), (2, 2), (2, 2), (0, 0)),
    ("conv2", "conv", (128, 6, 14, 14), (16, 6, 5, 5), (1, 1), (0, 0)),
    ("pool2", "pool", (128, 16, 10, 10), (2, 2), (2, 2), (0, 0)),
]


def _resnet(n: int, size: int) -> list:
    s = size // 4  # after the stem and the max pool
    rows = [
        ("stem", "conv", (n, 3, size, size), (64, 3, 7, 7), (2, 2), (3, 3)),
        ("maxpool", "pool", (n, 64, size // 2, size // 2), (3, 3), (2, 2), (1, 1)),
        ("s0 3x3 64", "conv", (n, 64, s, s), (64, 64, 3, 3), (1, 1), (1, 1)),
    ]
    c = 64
    for stage, cout in enumerate((128, 256, 512), start=1):
        rows.append(
            (f"s{stage} 3x3/2 {cout}", "conv", (n, c, s, s), (cout, c, 3, 3), (2, 2), (1, 1))
        )
        rows.append(
            (f"s{stage} 1x1/2 {cout}", "conv", (n, c, s, s), (cout, c, 1, 1), (2, 2), (0, 0))
        )
        s //= 2
        rows.append(
            (f"s{stage} 3x3 {cout}", "conv", (n, cout, s, s), (cout, cout, 3, 3), (1, 1), (1, 1))
        )
        c = cout
    return rows


ALEXNET = [
    ("c0 11x11/4", "conv", (4, 3, 224, 224), (64, 3, 11, 11), (4, 4), (2, 2)),
    ("c1 5x5", "conv", (4, 64, 27, 27), (192, 64, 5, 5), (1, 1), (2, 2)),
    ("c2 3x3", "conv", (4, 192, 13, 13), (384, 192, 3, 3), (1, 1), (1, 1)),
    ("c3 3x3", "conv", (4, 384, 13, 13), (256, 384, 3, 3), (1, 1), (1, 1)),
    ("pool0", "pool", (4, 64, 55, 55), (3, 3), (2, 2), (0, 0)),
]

NETS = {
    "lenet": LENET,
    "resnet18": _resnet(8, 224),
    "resnet18-32": _resnet(128, 32),
    "alexnet": ALEXNET,
}


def _jax_fns(op, path, wshape, stride, pad):
    # "xla-default": the plain lax op compiled with XLA's default options (jax.jit), the other
    # paths with nets' options (nets.nn.compiler.jit), as the library compiles them; a conv's
    # "lax" is the library's (its channel padding included).
    jit = jax.jit if path == "xla-default" else compiler.jit
    if op == "conv":

        def f(x, w):
            if path == "xla-default":
                return L._conv_lax(x, w, stride, pad)
            if path == "lax":
                return L._conv_xla(x, w, stride, pad)
            if path == "im2col":
                return L._conv_im2col(x, w, stride, pad)
            if path == "matmul":
                return L._conv_matmul(x, w, stride)
            if path == "dnnl":  # NCHW in and out here: the transposes to NHWC are counted
                return native_conv.conv2d(x, w, None, stride, pad)
            return L._conv_taps(x, w, stride, pad)

    else:

        def f(x, w):
            if path in ("lax", "xla-default"):
                return F.max_pool2d(x, wshape, stride, pad, False)
            if path == "tiles":
                return L._max_pool_tiles(x, wshape)
            return L._max_pool_slices(x, wshape, stride, pad, False)

    fwd = jit(f)

    def fwd_bwd(x, w):
        y, vjp = jax.vjp(f, x, w)
        return vjp(jnp.ones_like(y))

    return fwd, jit(fwd_bwd)


def _torch_fns(op, wshape, stride, pad, channels_last):
    import torch

    def prep(x, w):
        x = torch.from_numpy(np.asarray(x)).requires_grad_(True)
        w = torch.from_numpy(np.asarray(w)).requires_grad_(True)
        if channels_last:
            x = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)
        return x, w

    def f(x, w):
        if op == "conv":
            return torch.nn.functional.conv2d(x, w, None, stride, pad)
        return torch.nn.functional.max_pool2d(x, wshape, stride, pad)

    def fwd(x, w):
        with torch.no_grad():
            f(x, w)

    def fwd_bwd(x, w):
        x.grad = None
        w.grad = None
        y = f(x, w)
        y.backward(torch.ones_like(y))

    return prep, fwd, fwd_bwd


def _time(fn, reps=3):
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps * 1e3


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="lenet", choices=sorted(NETS))
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"{'layer':18} {'path':16} {'fwd ms':>9} {'fwd+bwd ms':>11}")
    for name, op, xshape, wshape, stride, pad in NETS[args.net]:
        x = jnp.asarray(rng.standard_normal(xshape), jnp.float32)
        w = (
            jnp.asarray(rng.standard_normal(wshape) * 0.1, jnp.float32)
            if op == "conv"
            else x[:1, :1, :1, :1]
        )
        paths = ["xla-default", "lax", "im2col"] if op == "conv" else ["lax", "slices"]
        if op == "conv" and native_conv.supported(wshape, jnp.float32):
            paths.append("dnnl")
        if op == "conv" and wshape[1] <= L.TAPS_MAX_PLANES:  # wider: thousands of taps
            paths.append("taps")
        if op == "conv" and wshape[2:] == (1, 1) and tuple(pad) == (0, 0):
            paths.append("matmul")
        if op == "pool" and L.max_pool2d_path(xshape, wshape, stride, pad) == "tiles":
            paths.append("tiles")
        cands = {}
        for p in paths:
            fwd, fb = _jax_fns(op, p, wshape, stride, pad)
            fwd(x, w).block_until_ready()
            jax.block_until_ready(fb(x, w))
            cands[p] = (
                lambda f=fwd, x=x, w=w: f(x, w).block_until_ready(),
                lambda f=fb, x=x, w=w: jax.block_until_ready(f(x, w)),
            )
        if not args.no_torch:
            import torch

            for cl in (False, True):
                prep, tf, tfb = _torch_fns(op, wshape, stride, pad, cl)
                tx, tw = prep(x, w)
                tag = "torch " + ("cl" if cl else "nchw")
                tf(tx, tw)
                tfb(tx, tw)
                cands[tag] = (lambda f=tf, a=tx, b=tw: f(a, b), lambda f=tfb, a=tx, b=tw: f(a, b))
            torch.set_num_threads(torch.get_num_threads())
        times = {k: ([], []) for k in cands}
        for _ in range(args.windows):
            for k, (f, fb) in cands.items():
                times[k][0].append(_time(f))
                times[k][1].append(_time(fb))
        for k, (tf_, tb_) in times.items():
            choice = ""
            with L.native_allowed():  # as nets' own compiled functions choose
                chosen = L.conv2d_path(xshape, wshape, stride, pad) if op == "conv" else None
            if op == "conv" and k == chosen:
                choice = "  <- chosen"
            if op == "pool" and k == L.max_pool2d_path(xshape, wshape, stride, pad):
                choice = "  <- chosen"
            fwd_ms, fb_ms = statistics.median(tf_), statistics.median(tb_)
            print(f"{name:18} {k:16} {fwd_ms:9.2f} {fb_ms:11.2f}{choice}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
