"""The benchmark suite: nets against PyTorch CPU (eager and torch.compile) and hand-written JAX.

    python -m bench                      # every row
    python -m bench --rows lenet         # some rows (see --help for names)
    python -m bench --quick              # fewer windows, for a smoke run

For each row every competitor is built and run once (its compile or warm-up time, reported
apart), warmed up, then timed in interleaved windows. The table shows images/s as median
[min-max] over the windows and, per row, the ratios ours/PyTorch-best and ours/JAX-best
(> 1 means nets is faster); PyTorch-best takes both eager and `torch.compile` (inductor), which
are also reported apart, the latter with its compile time. "ours" is the faster of nets' own
ways to run the row: its compiled step (the pure form under one `nets.nn.compiler.jit`) and,
where measured, Torch's ``forward``; every competitor's line is printed either way. Each row
also shows its fraction of the machine's matmul peak. Results also go to
``bench/results/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"  # noqa: A001

import jax
import numpy as np

from bench import jax_models, project_models
from bench.timing import Measurement, Runner, best, measure

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One line of the table: a network, a task and an input size."""

    name: str
    net: str
    task: str  # "train" or "infer"
    batch: int
    shape: tuple[int, int, int]
    kw: dict = field(default_factory=dict)
    steps_per_window: int = 1
    note: str = ""


ROWS = [
    Row(
        "lenet-train",
        "lenet",
        "train",
        128,
        (1, 28, 28),
        {"pad": 2},
        steps_per_window=10,
        note="seed LeNet-5; conv1 padded by 2 so 28x28 reaches 16x5x5 as 32x32 does",
    ),
    Row(
        "cifar-train",
        "lenet",
        "train",
        128,
        (3, 32, 32),
        {"pad": 0},
        steps_per_window=10,
        note="the seed's CIFAR-10 network (LeNet-5 on 3x32x32), as its StochasticGradient example",
    ),
    Row("resnet18-infer-224", "resnet18", "infer", 8, (3, 224, 224), steps_per_window=2),
    Row("resnet50-infer-224", "resnet50", "infer", 8, (3, 224, 224)),
    Row("resnet18-train-224", "resnet18", "train", 8, (3, 224, 224)),
    Row("resnet18-train-32", "resnet18", "train", 128, (3, 32, 32)),
    Row("alexnet-infer-224", "alexnet", "infer", 4, (3, 224, 224), steps_per_window=2),
]


def _data(row: Row) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((row.batch, *row.shape)).astype(np.float32)
    n_classes = 10 if row.net == "lenet" else 1000
    y = rng.integers(0, n_classes, row.batch).astype(np.int32)
    return x, y


def runners(
    row: Row,
    with_torch: bool,
    stateful: bool,
    engine: bool = False,
    compiled: bool = True,
    mixed: tuple[str, ...] = (),
) -> list[Runner]:
    """Every competitor of a row. "ours" is nets as it runs by default (oneDNN's convolutions
    where they load); "ours xla-conv" the same with XLA's convolutions, for comparison."""
    from nets import native as native_kernels

    native = native_kernels.load()
    x, y = _data(row)
    out: list[Runner] = []
    if row.task == "train" and engine:
        for name, checks in (
            ("", (False, False)),
            (" check_finite", (True, False)),
            (" +check_gradients", (True, True)),
        ):
            out.append(
                Runner(
                    f"ours Engine{name}",
                    "ours-engine",
                    lambda checks=checks: project_models.make_engine_train(
                        row.net, x, y, *checks, **row.kw
                    ),
                )
            )
    for dtype in mixed:
        # reported apart (kind "ours-mixed"): other numerics than the float32 competitors
        if row.task == "train":
            setup = lambda d=dtype: project_models.make_engine_train(  # noqa: E731
                row.net, x, y, True, precision=d, **row.kw
            )
            out.append(Runner(f"ours Engine {dtype}", "ours-mixed", setup))
        else:
            setup = lambda d=dtype: project_models.make_infer(row.net, "fast", x, d)  # noqa: E731
            out.append(Runner(f"ours {dtype}", "ours-mixed", setup))
    if row.task == "train":
        out.append(
            Runner(
                "ours", "ours", lambda: project_models.make_train(row.net, "fast", x, y, **row.kw)
            )
        )
        out.append(
            Runner(
                "ours plain-lax",
                "ours-plain",
                lambda: project_models.make_train(row.net, "plain", x, y, **row.kw),
            )
        )
        if native:
            out.append(
                Runner(
                    "ours xla-conv",
                    "ours-xla",
                    lambda: project_models.make_train(row.net, "xla", x, y, **row.kw),
                )
            )
        if stateful:
            out.append(
                Runner(
                    "ours stateful fwd/bwd",
                    "ours-stateful",
                    lambda: project_models.make_stateful_train(row.net, "fast", x, y, **row.kw),
                )
            )
        for lay in ("NCHW", "NHWC"):
            out.append(
                Runner(
                    f"jax {lay}",
                    "jax",
                    lambda lay=lay: jax_models.make_train(row.net, lay, x, y, **row.kw),
                )
            )
    else:
        out.append(Runner("ours", "ours", lambda: project_models.make_infer(row.net, "fast", x)))
        out.append(
            Runner(
                "ours plain-lax",
                "ours-plain",
                lambda: project_models.make_infer(row.net, "plain", x),
            )
        )
        if native:
            out.append(
                Runner(
                    "ours xla-conv",
                    "ours-xla",
                    lambda: project_models.make_infer(row.net, "xla", x),
                )
            )
        out.append(
            Runner(
                "ours net.forward()",
                "ours-stateful",
                lambda: project_models.make_stateful_infer(row.net, "fast", x),
            )
        )
        for lay in ("NCHW", "NHWC"):
            out.append(
                Runner(f"jax {lay}", "jax", lambda lay=lay: jax_models.make_infer(row.net, lay, x))
            )
    if with_torch:
        out += torch_runners(row, x, y, compiled, mixed)
    return out


def torch_runners(
    row: Row, x: np.ndarray, y: np.ndarray, compiled: bool, mixed: tuple[str, ...] = ()
) -> list[Runner]:
    """PyTorch eager in NCHW and channels_last, at its default thread count and at one thread;
    with `compiled`, also `torch.compile` (inductor) in both layouts at the default count; for
    each dtype in `mixed`, eager under `torch.autocast` (reported apart, as "torch-mixed")."""
    from bench import torch_models

    default = torch_models.default_threads()
    variants = [
        (cl, t, False, None) for cl in (False, True) for t in sorted({default, 1}, reverse=True)
    ]
    if compiled:
        variants += [(cl, default, True, None) for cl in (False, True)]
    variants += [(True, default, False, dtype) for dtype in mixed]
    out = []
    for cl, threads, comp, cast in variants:
        layout = "channels_last" if cl else "NCHW"
        name = f"torch{'.compile' if comp else ''} {layout} {threads}t"
        if cast:
            name = f"torch autocast {cast} {layout} {threads}t"
        if row.task == "train":
            setup = lambda cl=cl, comp=comp, cast=cast: torch_models.make_train(  # noqa: E731
                row.net, cl, x, y, compile=comp, autocast=cast, **row.kw
            )
        else:
            setup = lambda cl=cl, comp=comp, cast=cast: torch_models.make_infer(  # noqa: E731
                row.net, cl, x, compile=comp, autocast=cast
            )
        kind = "torch-mixed" if cast else "torch-compiled" if comp else "torch"
        out.append(Runner(name, kind, setup, before=torch_models.threads(threads)))
    return out


def matmul_peak() -> dict:
    """The machine's fp32 matrix-multiply rate (GFLOP/s): best of XLA's and PyTorch's."""
    n = 2048
    a = jax.numpy.ones((n, n), jax.numpy.float32)
    mm = jax.jit(lambda a, b: a @ b)
    mm(a, a).block_until_ready()
    best_s = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        mm(a, a).block_until_ready()
        best_s = min(best_s, time.perf_counter() - start)
    peak = {"xla": 2 * n**3 / best_s / 1e9}
    try:
        from bench import torch_models

        peak["torch"] = torch_models.matmul_gflops(n)
    except ImportError:
        pass
    peak["best"] = max(peak.values())
    return peak


def _fmt(m: Measurement) -> str:
    if m.error:
        return f"{m.name:24} failed: {m.error[:80]}"
    spread = f"[{m.low:.1f}-{m.high:.1f}]"
    return f"{m.name:24} {m.median:9.1f} {spread:>17} {m.compile_s:8.1f}s"


def run(args: argparse.Namespace) -> dict:
    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed (pip install 'trepl[bench]'): running without it.")
            with_torch = False
    peak = matmul_peak()
    parts = ", ".join(f"{k} {v:.1f}" for k, v in peak.items() if k != "best")
    print(f"fp32 matmul peak: {peak['best']:.1f} GFLOP/s ({parts})")
    from nets import native as native_kernels

    print(f"nets' convolutions: {native_kernels.status()}")
    # Every competitor shares this process's allocator settings; `th` and the itorch kernel
    # add glibc's huge-page tunable (trepl.hugepages, bench/bench_allocator.py).
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    print(f"GLIBC_TUNABLES: {tunables or '(not set: glibc defaults)'}")
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "jax": jax.__version__,
            "backend": jax.default_backend(),
            "loadavg": os.getloadavg(),
            "glibc_tunables": tunables,
        },
        "peak_gflops": peak,
        "rows": [],
    }
    selected = [r for r in ROWS if not args.rows or r.name in args.rows or r.net in args.rows]
    for row in selected:
        x, _ = _data(row)
        fwd = jax_models.forward_flops(row.net, x, **row.kw)
        flops = fwd * (3 if row.task == "train" else 1)  # backward ~ 2x forward
        print(
            f"\n== {row.name}: batch {row.batch}, input {row.shape}, {flops / 1e9:.2f} GFLOP/step"
        )
        if row.note:
            print(f"   ({row.note})")
        print(f"{'competitor':24} {'images/s':>9} {'[min-max]':>17} {'compile':>9}")
        ms = measure(
            runners(
                row,
                with_torch,
                stateful=(row.net == "lenet"),
                engine=args.engine,
                compiled=not args.no_compile,
                mixed=tuple(args.mixed or ()),
            ),
            row.batch,
            windows=args.windows,
            steps_per_window=max(1, row.steps_per_window // (2 if args.quick else 1)),
            warmup=1 if args.quick else 2,
        )
        for m in ms:
            print(_fmt(m))
        # nets' own ways to run the row: its compiled step, and Torch's `forward` (which, in
        # evaluate mode, reuses HWIO copies of the convolution weights; nets.nn.weight_layout).
        ours = best(ms, "ours", "ours-stateful")
        eager_best, compiled_best = best(ms, "torch"), best(ms, "torch-compiled")
        torch_best, jax_best = best(ms, "torch", "torch-compiled"), best(ms, "jax")
        entry = {
            "row": row.name,
            "net": row.net,
            "task": row.task,
            "batch": row.batch,
            "input": row.shape,
            "note": row.note,
            "gflop_per_step": flops / 1e9,
            "competitors": [m.as_dict() for m in ms],
        }
        if ours:
            gflops = ours.median / row.batch * flops / 1e9
            entry["ours_gflops"] = gflops
            entry["ours_fraction_of_peak"] = gflops / peak["best"]
            entry["ours_best"] = ours.name
            line = (
                f"-> ours ({ours.name}) {gflops:.1f} GFLOP/s = "
                f"{gflops / peak['best']:.0%} of matmul peak"
            )
            for key, label, other in (
                ("pytorch", "PyTorch best", torch_best),
                ("eager", "PyTorch eager", eager_best),
                ("compiled", "torch.compile", compiled_best),
                ("jax", "JAX best", jax_best),
            ):
                if other:
                    ratio = ours.median / other.median
                    entry[f"ratio_vs_{key}"] = ratio
                    entry[f"{key}_best"] = other.name
                    line += f"; ours/{label} ({other.name}) = {ratio:.2f}"
            print(line)
        mixed_ours, mixed_torch = best(ms, "ours-mixed"), best(ms, "torch-mixed")
        if mixed_ours and mixed_torch:
            ratio = mixed_ours.median / mixed_torch.median
            entry["ratio_mixed_vs_torch_autocast"] = ratio
            names = f"ours ({mixed_ours.name}) / ({mixed_torch.name})"
            print(f"-> mixed precision: {names} = {ratio:.2f}")
        report["rows"].append(entry)
        sys.stdout.flush()
    _summary(report)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / (args.out or f"{report['when'].replace(':', '')}.json")
    path.write_text(json.dumps(report, indent=1))
    print(f"\nresults: {path}")
    return report


def _summary(report: dict) -> None:
    cols = (("pytorch", "vs PyTorch"), ("eager", "vs eager"), ("compiled", "vs compile"))
    cols += (("jax", "vs JAX"),)
    head = "".join(f"{label:>11}" for _, label in cols)
    print(f"\n{'row':22} {'ours img/s':>11}{head} {'% peak':>7}")
    for e in report["rows"]:
        name = e.get("ours_best")
        ours = next((c for c in e["competitors"] if c["name"] == name), None)
        if ours is None:
            continue
        keys = [f"ratio_vs_{c}" for c, _ in cols]
        ratios = "".join(f"{(f'{e[k]:.2f}' if e.get(k) else '-'):>11}" for k in keys)
        print(
            f"{e['row']:22} {ours['median']:11.1f}{ratios} {e.get('ours_fraction_of_peak', 0):7.0%}"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    names = sorted({r.name for r in ROWS} | {r.net for r in ROWS})
    ap.add_argument(
        "--rows", nargs="*", help=f"rows or nets to run (default all): {', '.join(names)}"
    )
    ap.add_argument(
        "--windows", type=int, default=5, help="timed windows per competitor (default 5)"
    )
    ap.add_argument("--quick", action="store_true", help="halve steps per window, one warm-up step")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch competitor")
    ap.add_argument(
        "--no-compile",
        action="store_true",
        help="skip torch.compile (PyTorch eager only): its compile takes minutes on ResNets",
    )
    ap.add_argument(
        "--engine",
        action="store_true",
        help="also time the Engine's training step without and with its per-step finite checks",
    )
    ap.add_argument(
        "--mixed",
        nargs="*",
        choices=("bfloat16", "float16"),
        help="also time nets in mixed precision: the Engine's step with Engine(precision=...) "
        "for training rows, net.bfloat16()/half() for inference (reported apart)",
    )
    ap.add_argument("--out", help="file name under bench/results/ (default: a timestamp)")
    args = ap.parse_args(argv)
    unknown = [r for r in args.rows or [] if r not in names]
    if unknown:
        ap.error(f"unknown rows {unknown}; expected some of {names}")
    run(args)


if __name__ == "__main__":
    main()
