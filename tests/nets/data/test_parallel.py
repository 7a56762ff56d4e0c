"""ParallelDatasetIterator: every sample once, read by several processes; errors name the
sample; a real SIGINT stops the script and its workers cleanly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nets import data
from tests.nets.data import parallel_workers as w

ROOT = Path(__file__).resolve().parents[3]


def test_samples_come_from_worker_processes_once_each_epoch():
    with data.ParallelDatasetIterator(w.squares, 2, ordered=True) as it:
        assert len(it) == 10
        for _ in range(2):  # two epochs on the same workers
            samples = list(it)
            assert [int(x[0]) for x, _ in samples] == [i * i for i in range(10)]
        pids = {pid for _, pid in samples}
        assert os.getpid() not in pids and pids <= {p.pid for p in it._workers}
        # perm, transform then filter (in this process), unordered
        it.perm = lambda i: 9 - i
        it.transform = lambda s: int(s[0][0])
        it.filter = lambda v: v % 2 == 0
        assert sorted(it) == [0, 4, 16, 36, 64]
        # an abandoned pass does not leak into the next
        for _ in zip(range(3), it, strict=False):
            pass
        it.transform, it.filter, it.perm = (lambda s: s), (lambda s: True), (lambda i: i)
        it.ordered = True
        assert [int(x[0]) for x, _ in it] == [i * i for i in range(10)]
    assert it._workers == []


def test_worker_errors_name_the_sample_or_the_closure():
    with data.ParallelDatasetIterator(w.failing, 2) as it:
        with pytest.raises(
            RuntimeError, match=r"reading sample 3 failed in a worker:(.|\n)*corrupt"
        ):
            list(it)
    with pytest.raises(RuntimeError, match=r"worker \d failed to build its dataset(.|\n)*archive"):
        data.ParallelDatasetIterator(w.broken, 1)
    with pytest.raises(ValueError, match="nthread should be an integer >= 1"):
        data.ParallelDatasetIterator(w.squares, 0)


def test_sigint_stops_the_script_and_its_workers():
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.nets.data.parallel_workers"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids = [int(p) for p in proc.stdout.readline().split()[1:]]
        assert len(pids) == 2
        assert proc.stdout.readline().strip() == "reading"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "interrupted, workers left: 0" in out
    assert "Traceback" not in err  # no worker printed a KeyboardInterrupt
    assert not [p for p in pids if os.path.exists(f"/proc/{p}")]  # all reaped


def test_workers_quit_when_the_main_process_is_gone():
    # a script that neither uses `with` nor catches Ctrl-C: killed outright, its workers follow
    script = (
        "from nets import data; from tests.nets.data import parallel_workers as w\n"
        "it = data.ParallelDatasetIterator(w.slow, 1)\n"
        "print(it._workers[0].pid, flush=True)\n"
        "for _ in it: pass\n"
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    pid = int(proc.stdout.readline())
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}")
