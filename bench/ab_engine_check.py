"""The Engine's per-step finite check, on against off, each in its own process, alternating.

    python bench/ab_engine_check.py [--pairs 10] [--row lenet-train]

Competitors that share a process can slow each other, and a check that costs a few percent is
inside one process's window-to-window noise; so each measurement here is a fresh process
(the Engine's compiled LeNet or ResNet step, `bench.project_models.make_engine_train`, 20
warm-up steps, then the median of 15 windows of 20 steps), on and off alternating.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one(row_name: str, on: bool) -> float:
    sys.path.insert(0, str(ROOT))
    from bench import project_models, run

    row = next(r for r in run.ROWS if r.name == row_name)
    x, y = run._data(row)
    step = project_models.make_engine_train(row.net, x, y, on, **row.kw)
    for _ in range(20):
        step()
    rates = []
    for _ in range(15):
        start = time.perf_counter()
        for _ in range(20):
            step()
        rates.append(20 * row.batch / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--row", default="lenet-train")
    ap.add_argument("--one", choices=("on", "off"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(_one(args.row, args.one == "on"))
        return
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for i in range(args.pairs):
        for side in ("on", "off") if i % 2 == 0 else ("off", "on"):
            out = subprocess.run(
                [sys.executable, __file__, "--row", args.row, "--one", side],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rates[side].append(float(out.split()[-1]))
            print(f"{side:3} {rates[side][-1]:10.1f} images/s", flush=True)
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"{args.row}: check_finite on {on:.1f}, off {off:.1f} images/s; on/off = {on / off:.3f}")


if __name__ == "__main__":
    main()
