"""What glibc's huge-page tunable is worth: page faults and time per step with and without it.

    python bench/bench_allocator.py --row resnet18-infer-224 --rounds 6

XLA's CPU runtime allocates a program's temporaries afresh at every execution: one block of
about 100 MB for ResNet-18's inference at batch 8, more for its training step. glibc serves
blocks that large with ``mmap`` and hands them back with ``munmap``, so every step faults
its temporaries in again, 4 KB at a time, each page zeroed by the kernel. From glibc 2.35,
``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (read when a process starts) asks for transparent
huge pages on those blocks, which cuts the faults about a hundredfold.

Because the setting is per process, this script alternates child processes with and without
it, each timing one competitor of a suite row (nets' ``ours`` step, and PyTorch's
channels_last step when PyTorch is installed), and prints per competitor the median ms per
step, page faults and system time per step, and the paired ratio (tunable / default; below 1
means faster with it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trepl import hugepages  # noqa: E402  (the setting th and itorch start under)


def _child(row_name: str, competitor: str, steps: int) -> None:
    """Time one competitor's step in this process and print one JSON line."""
    from bench import project_models
    from bench.run import ROWS, _data

    row = next(r for r in ROWS if r.name == row_name)
    x, y = _data(row)
    if competitor == "ours":
        if row.task == "train":
            step = project_models.make_train(row.net, "fast", x, y, **row.kw)
        else:
            step = project_models.make_infer(row.net, "fast", x)
    else:
        from bench import torch_models

        if row.task == "train":
            step = torch_models.make_train(row.net, True, x, y, **row.kw)
        else:
            step = torch_models.make_infer(row.net, True, x)
    step()
    step()
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "ms": elapsed / steps * 1e3,
                "faults": (after.ru_minflt - before.ru_minflt) / steps,
                "sys_ms": (after.ru_stime - before.ru_stime) / steps * 1e3,
            }
        )
    )


def _run_child(row: str, competitor: str, steps: int, tunable: bool) -> dict:
    env = dict(os.environ)
    # Whatever this process runs under (`th` sets the tunable), each child gets exactly the
    # setting it measures; other tunables pass through.
    current = env.get("GLIBC_TUNABLES", "").split(":")
    others = ":".join(t for t in current if t and not t.startswith(hugepages.TUNABLE))
    env["GLIBC_TUNABLES"] = hugepages.tunables_with_hugepages(others) if tunable else others
    cmd = [sys.executable, str(Path(__file__).resolve()), "--row", row, "--child", competitor]
    cmd += ["--steps", str(steps)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {competitor} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    from bench.run import ROWS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--row", default="resnet18-infer-224", choices=[r.name for r in ROWS])
    ap.add_argument("--rounds", type=int, default=6, help="child processes per setting")
    ap.add_argument("--steps", type=int, default=0, help="timed steps per child (0: by task)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    row = next(r for r in ROWS if r.name == args.row)
    steps = args.steps or (4 if row.task == "train" else 10)
    if args.child:
        _child(args.row, args.child, steps)
        return
    competitors = ["ours"]
    if not args.no_torch:
        try:
            import torch  # noqa: F401

            competitors.append("torch channels_last")
        except ImportError:
            print("PyTorch not installed: nets only")
    results = {(c, t): [] for c in competitors for t in (False, True)}
    for _ in range(args.rounds):
        for c in competitors:
            for t in (False, True):
                results[(c, t)].append(_run_child(args.row, c.split()[0], steps, t))
    print(f"{args.row}: {args.rounds} child processes per setting, {steps} steps each")
    print(f"{'competitor':22} {'setting':9} {'ms/step':>8} {'faults/step':>12} {'sys ms/step':>12}")
    for c in competitors:
        for t in (False, True):
            runs = results[(c, t)]
            med = {k: statistics.median(r[k] for r in runs) for k in ("ms", "faults", "sys_ms")}
            setting = "hugetlb" if t else "default"
            print(
                f"{c:22} {setting:9} {med['ms']:8.1f} {med['faults']:12.0f} {med['sys_ms']:12.1f}"
            )
        pairs = zip(results[(c, True)], results[(c, False)], strict=True)
        ratio = statistics.median(a["ms"] / b["ms"] for a, b in pairs)
        print(f"{c:22} hugetlb/default time, paired median: {ratio:.3f}")


if __name__ == "__main__":
    main()
