"""Driving a real kernel through jupyter_client as a front end does (for the kernel tests)."""

from __future__ import annotations

import os
import time
from pathlib import Path

TIMEOUT = 60


def start_kernel(log_file: Path | None = None):
    """Start an itorch kernel from the installed kernelspec; returns (manager, client).

    With `log_file`, the kernel's stderr (its log) goes there, so tests can read what it logged.
    """
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="itorch")
    extra = {"stderr": open(log_file, "w")} if log_file else {}  # noqa: SIM115 (the kernel owns it)
    km.start_kernel(env=dict(os.environ), **extra)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    return km, kc


def drain(kc) -> None:
    """Drop messages left over on iopub and shell (e.g. wait_for_ready's kernel_info_reply)."""
    for get in (kc.get_iopub_msg, kc.get_shell_msg):
        while True:
            try:
                get(timeout=0.05)
            except Exception:
                break


def reply_to(kc, msg_id: str, timeout: float = TIMEOUT) -> dict:
    """The shell reply to request `msg_id` (skipping replies to anything else)."""
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    return reply


def execute(kc, code: str, timeout: float = TIMEOUT, **kwargs):
    """Run `code`; returns (execute_reply content, [iopub messages of that request]).

    The iopub list runs from after `busy` to before `idle`, in order.
    """
    msg_id = kc.execute(code, **kwargs)
    reply = reply_to(kc, msg_id, timeout)
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
