"""Kernel test set-up: a private Jupyter home with the itorch kernelspec installed, real kernels.

Kernels take a second or more to start, so each test module shares one (`kernel_client`,
module-scoped) and the helpers here drive it through jupyter_client exactly as a front end does.
The session-wide autouse fixture in tests/conftest.py gives each *test* a private HOME; a
module-scoped kernel needs its own, made here before the kernel starts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

TIMEOUT = 60


@pytest.fixture(scope="module")
def jupyter_home(tmp_path_factory):
    """A private HOME / JUPYTER_* for the module, with the itorch kernelspec installed (--user)."""
    from kernel import kernelspec

    home = tmp_path_factory.mktemp("kernel-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", str(home))
    patch.setenv("JUPYTER_DATA_DIR", str(home / ".local/share/jupyter"))
    patch.setenv("JUPYTER_CONFIG_DIR", str(home / ".jupyter"))
    patch.setenv("JUPYTER_RUNTIME_DIR", str(home / ".local/share/jupyter/runtime"))
    patch.setenv("IPYTHONDIR", str(home / ".ipython"))
    patch.setenv("TREPL_HISTORY", str(home / ".trepl_history"))
    patch.setenv("JAX_PLATFORMS", "cpu")
    installed = kernelspec.install(user=True)
    assert Path(installed).is_relative_to(home), installed
    yield home
    patch.undo()


def start_kernel(**env_extra: str):
    """Start an itorch kernel from the installed kernelspec; returns (manager, client)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="itorch")
    env = {**os.environ, **env_extra}
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    return km, kc


@pytest.fixture(scope="module")
def kernel(jupyter_home):
    """(manager, client) of one running itorch kernel shared by a test module."""
    km, kc = start_kernel()
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=False)


@pytest.fixture
def kc(kernel):
    """The module's kernel client, with stale iopub messages drained."""
    client = kernel[1]
    drain(client)
    return client


def drain(kc) -> None:
    while True:
        try:
            kc.get_iopub_msg(timeout=0.05)
        except Exception:
            return


def execute(kc, code: str, timeout: float = TIMEOUT, **kwargs):
    """Run `code`; returns (execute_reply content, [iopub messages of that request]).

    The iopub list runs from after `busy` to before `idle`, in order.
    """
    msg_id = kc.execute(code, **kwargs)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    outputs = collect_iopub(kc, msg_id, timeout)
    return reply["content"], outputs


def collect_iopub(kc, msg_id: str, timeout: float = TIMEOUT) -> list[dict]:
    outputs = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
        if msg["msg_type"] not in ("status", "execute_input"):
            outputs.append(msg)
    raise TimeoutError(f"no idle status for {msg_id} within {timeout}s")


def stream_text(outputs: list[dict], name: str = "stdout") -> str:
    return "".join(
        m["content"]["text"]
        for m in outputs
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    )


def of_type(outputs: list[dict], msg_type: str) -> list[dict]:
    return [m for m in outputs if m["msg_type"] == msg_type]
