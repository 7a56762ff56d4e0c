"""Two processes on localhost through jax.distributed, against one process with the same batches."""

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import nets
from nets.engine import CoordinatorTimeoutError, initialize
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "train_distributed.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env() -> dict:
    env = dict(os.environ)
    env.update(JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env.pop("NETS_COORDINATOR", None)
    return env


def test_two_processes_match_one_process(tmp_path):
    port = free_port()
    args = [
        sys.executable,
        str(EXAMPLE),
        "--coordinator",
        f"127.0.0.1:{port}",
        "--num-processes",
        "2",
        "--epochs",
        "1",
        "--timeout",
        "120",
    ]
    procs = [
        subprocess.Popen(
            [
                *args,
                "--process-id",
                str(rank),
                *(["--save", str(tmp_path / "two.nets")] if rank == 0 else []),
            ],
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(2)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert "2 process(es), 4 devices" in outputs[0]

    # the same global batches in this one process (4 simulated devices)
    spec = importlib.util.spec_from_file_location("train_distributed", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--epochs", "1", "--save", str(tmp_path / "one.nets")])
    one = nets.load(tmp_path / "one.nets").split()[0]
    two = nets.load(tmp_path / "two.nets").split()[0]
    # one epoch of 1437 // 64 SGD steps, each along the path: Linear 64 + bias, tanh, Linear
    # 64 + bias, log-softmax over 10, the mean over 64; backward: Linear(64, 10)'s input gradient
    # over 10, the weight gradients' sums over the batch of 64; the momentum and weight updates
    step = path_terms(65, ELEMENTWISE, 65, 10 + 2 * ELEMENTWISE, 64, 10, 64, 2)
    for k in one:
        assert_close(two[k], one[k], terms=(1437 // 64) * step, err_msg=k)


def test_unreachable_coordinator_times_out_clearly():
    with pytest.raises(
        CoordinatorTimeoutError,
        match=r"no coordinator answered at "
        r"127.0.0.1:\d+ within 1 s \(process 1 of 2\); check that process 0",
    ):
        initialize(f"127.0.0.1:{free_port()}", 2, 1, timeout=1)


def test_missing_settings_name_the_environment_variable(monkeypatch):
    monkeypatch.delenv("NETS_COORDINATOR", raising=False)
    with pytest.raises(ValueError, match=r"coordinator not given and \$NETS_COORDINATOR not set"):
        initialize(num_processes=2, process_id=1)
