"""`th` against `ipython`, measured in the same run, in a pseudo-terminal.

    python bench/bench_shell.py [--runs 5]

Measures, for both shells:
  1. launch to first prompt (spawn in a pty, until the prompt is drawn);
  2. round trip of a trivial command (`1+1` typed, until the answer and the next prompt);
  3. completion latency of `nn.Spa<TAB>` once warm (typed, until the completed text is drawn);
  4. the same completion in-process (Evaluator.complete vs IPython's shell.complete).
Both run with a private HOME/IPYTHONDIR and PROMPT_TOOLKIT_NO_CPR=1 (no terminal answers cursor
position requests here; both shells use prompt_toolkit, so both are treated alike). The console
scripts are run directly from the interpreter's bin directory, not through pyenv shims.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

import pexpect

BIN = os.path.dirname(sys.executable)
SHELLS = {
    # name: (command, prompt regex, setup line that makes `nn` available)
    "th": (os.path.join(BIN, "th"), r"th>", None),
    "ipython": (
        os.path.join(BIN, "ipython"),
        r"In \[(?:\x1b\[[0-9;]*m)*\d+(?:\x1b\[[0-9;]*m)*\]:",
        "from nets import nn",
    ),
}


def _env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=home,
        IPYTHONDIR=os.path.join(home, ".ipython"),
        TREPL_HISTORY=os.path.join(home, ".trepl_history"),
        PROMPT_TOOLKIT_NO_CPR="1",
        TERM="xterm",
        NO_COLOR="1",
        JAX_PLATFORMS="cpu",
    )
    return env


def _spawn(name: str, home: str) -> tuple[pexpect.spawn, float]:
    command, prompt, _ = SHELLS[name]
    start = time.perf_counter()
    child = pexpect.spawn(
        command, [], env=_env(home), encoding="utf-8", timeout=60, dimensions=(40, 120)
    )
    child.expect(prompt)
    elapsed = time.perf_counter() - start
    child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
    return child, elapsed


def _close(child: pexpect.spawn) -> None:
    child.terminate(force=True)


def launch_times(name: str, runs: int, home: str) -> list[float]:
    times = []
    for _ in range(runs):
        child, elapsed = _spawn(name, home)
        times.append(elapsed)
        _close(child)
    return times


def _drain(child: pexpect.spawn) -> None:
    """Let the screen settle and forget what was drawn, so old text cannot match."""
    try:
        while True:
            child.read_nonblocking(100_000, timeout=0.3)
    except pexpect.TIMEOUT:
        pass


def _answer_pattern(name: str) -> str:
    # th prints the value, then its timing line; ipython prints Out[n]: value.
    ansi = r"(?:\x1b\[[0-9;]*m)*"
    if name == "th":
        return r"(?<![\d.])2\r\n *\[\d"
    return rf"Out\[{ansi}\d+{ansi}\]:(?: |{ansi})*2"


def _completion_drawn(prefix: str) -> str:
    """What appears on screen once Tab has completed: the inserted common part, or a menu entry.

    Terminals are redrawn by difference, so only the inserted characters are written.
    """
    import os.path

    from trepl.evaluator import Evaluator

    matches = Evaluator().complete(f"nn.{prefix}").matches
    if not matches:
        raise SystemExit(f"no completion for nn.{prefix}: nothing to measure")
    common = os.path.commonprefix(matches)[len(prefix) :]
    options = ([common] if common else []) + matches
    return "|".join(re.escape(option) for option in options)


def round_trips_and_completion(name: str, runs: int, home: str, prefix: str) -> tuple:
    _, prompt, setup = SHELLS[name]
    child, _ = _spawn(name, home)
    if setup:
        child.sendline(setup)
        child.expect(prompt)
    # Warm up: first use of nn imports nets and JAX; first Tab loads the completer.
    child.sendline("nn")
    child.expect(prompt)
    time.sleep(2.0)
    trips = []
    for _ in range(runs):
        _drain(child)
        start = time.perf_counter()
        child.sendline("1+1")
        child.expect(_answer_pattern(name))
        child.expect(prompt)
        trips.append(time.perf_counter() - start)
    target = _completion_drawn(prefix)
    completions = []
    for i in range(runs + 1):
        _drain(child)
        child.send(f"nn.{prefix}")
        child.expect(re.escape(f"nn.{prefix}"))  # the echo, never a menu entry
        start = time.perf_counter()
        child.send("\t")
        child.expect(target)
        if i:  # the first one warms up
            completions.append(time.perf_counter() - start)
        # Close the menu and empty the line in both shells: Ctrl-C (th: a fresh prompt; ipython:
        # closes the menu), then Ctrl-E Ctrl-U (end of line, kill to its start).
        child.sendcontrol("c")
        time.sleep(0.2)
        child.sendcontrol("e")
        child.sendcontrol("u")
    _close(child)
    return trips, completions


def in_process_completion(prefix: str, runs: int) -> tuple[list[float], list[float]]:
    from IPython.core.interactiveshell import InteractiveShell

    from trepl.evaluator import Evaluator

    ev = Evaluator()
    code = f"nn.{prefix}"
    ev.complete(code)
    th_times = []
    for _ in range(runs):
        start = time.perf_counter()
        found = ev.complete(code)
        th_times.append(time.perf_counter() - start)
    assert found.matches, f"th found no completion for {code!r}"
    shell = InteractiveShell.instance()
    shell.run_cell("from nets import nn")
    shell.complete(code)
    ip_times = []
    for _ in range(runs):
        start = time.perf_counter()
        shell.complete(code)
        ip_times.append(time.perf_counter() - start)
    return th_times, ip_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions per measure")
    args = parser.parse_args()
    from nets import nn

    prefix = "Spa" if hasattr(nn, "SpatialConvolution") else "Seq"
    if prefix != "Spa":
        print("note: nets.nn has no Spatial* layers yet; completing nn.Seq instead")
    rows = []
    with tempfile.TemporaryDirectory() as home:
        launch = {name: launch_times(name, args.runs, home) for name in SHELLS}
        trips, tabs = {}, {}
        for name in SHELLS:
            trips[name], tabs[name] = round_trips_and_completion(name, args.runs, home, prefix)
    proc_th, proc_ip = in_process_completion(prefix, 50)
    med = statistics.median
    rows.append(("launch to first prompt (s)", med(launch["th"]), med(launch["ipython"])))
    rows.append(("round trip `1+1` (ms)", med(trips["th"]) * 1e3, med(trips["ipython"]) * 1e3))
    rows.append(
        (f"nn.{prefix}<TAB> in pty, warm (ms)", med(tabs["th"]) * 1e3, med(tabs["ipython"]) * 1e3)
    )
    rows.append(
        (f"complete('nn.{prefix}') in-process (ms)", med(proc_th) * 1e3, med(proc_ip) * 1e3)
    )
    print(f"{'measure (median)':42} {'th':>10} {'ipython':>10} {'th/ipython':>11}")
    for label, th_value, ip_value in rows:
        print(f"{label:42} {th_value:10.3f} {ip_value:10.3f} {th_value / ip_value:11.2f}")
    print(f"runs: {args.runs} per measure (in-process: 50); python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
