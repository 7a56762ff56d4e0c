"""itorch vs the standard IPython kernel: start time and the `1+1` round trip, in one run.

    python bench/bench_kernel.py                 # 5 rounds of starts, 100 round trips each
    python bench/bench_kernel.py --rounds 3 --trips 50

Both kernels are started through jupyter_client from their kernelspecs (itorch's installed into
a private temporary Jupyter dir, IPython's the native `python3`), alternating kernel by kernel in
each round so a burst of load from another process hits both alike.

- start: from `KernelManager.start_kernel()` to the first `kernel_info_reply` (what a notebook
  waits for before the kernel indicator turns idle).
- 1+1: from sending `execute_request` to receiving the `execute_reply`, then also to the `idle`
  status that ends the request's output (median over the trips, after 5 warm-up trips).

Printed: medians per kernel and the ratios itorch / IPython (below 1 means itorch is faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

KERNELS = ("itorch", "python3")


def _private_jupyter() -> None:
    home = tempfile.mkdtemp(prefix="bench-kernel-")
    for key, sub in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTER_CONFIG_DIR", "config"), ("IPYTHONDIR", "ipython")):  # fmt: skip
        os.environ[key] = os.path.join(home, sub)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    from kernel import kernelspec

    kernelspec.install(user=True)


def _wait_reply(kc, msg_id: str) -> None:
    while kc.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
        pass


def _wait_idle(kc, msg_id: str) -> None:
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return


def one_round(name: str, trips: int) -> tuple[float, list[float], list[float]]:
    """Start kernel `name`; returns (start seconds, reply times, idle times) for `1+1`."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    while True:  # the first kernel_info_reply, as a front end polls for it
        msg_id = kc.kernel_info()
        try:
            reply = kc.get_shell_msg(timeout=0.05)
        except Exception:
            continue
        if reply["msg_type"] == "kernel_info_reply":
            break
    start = time.perf_counter() - t0
    replies, idles = [], []
    try:
        for i in range(trips + 5):
            t = time.perf_counter()
            msg_id = kc.execute("1+1")
            _wait_reply(kc, msg_id)
            t_reply = time.perf_counter() - t
            _wait_idle(kc, msg_id)
            t_idle = time.perf_counter() - t
            if i >= 5:
                replies.append(t_reply)
                idles.append(t_idle)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return start, replies, idles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="kernel starts per kernel")
    parser.add_argument("--trips", type=int, default=100, help="`1+1` round trips per start")
    args = parser.parse_args(argv)
    _private_jupyter()
    starts = {name: [] for name in KERNELS}
    replies = {name: [] for name in KERNELS}
    idles = {name: [] for name in KERNELS}
    for r in range(args.rounds):
        for name in KERNELS if r % 2 == 0 else reversed(KERNELS):
            start, reply, idle = one_round(name, args.trips)
            starts[name].append(start)
            replies[name] += reply
            idles[name] += idle
    med = statistics.median
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.rounds} rounds, "
          f"{args.trips} trips per round")  # fmt: skip
    print(f"{'kernel':<10}{'start (s)':>22}{'1+1 reply (ms)':>18}{'1+1 to idle (ms)':>20}")
    for name in KERNELS:
        spread = f"[{min(starts[name]):.2f}-{max(starts[name]):.2f}]"
        print(f"{name:<10}{med(starts[name]):>9.3f} {spread:>12}"
              f"{med(replies[name]) * 1e3:>18.2f}{med(idles[name]) * 1e3:>20.2f}")  # fmt: skip
    mine, theirs = "itorch", "python3"
    print(
        "ratio itorch/IPython (< 1: itorch faster): "
        f"start {med(starts[mine]) / med(starts[theirs]):.2f}, "
        f"1+1 reply {med(replies[mine]) / med(replies[theirs]):.2f}, "
        f"1+1 to idle {med(idles[mine]) / med(idles[theirs]):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
