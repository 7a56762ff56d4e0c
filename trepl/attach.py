"""`th --existing [kernel]`: the terminal front end on a running itorch kernel.

As `jupyter console --existing`, th finds the kernel's connection file (a path, a kernel id, or
by default the most recent one in Jupyter's runtime folder) and talks to the kernel through
jupyter_client's `BlockingKernelClient`: every line runs in the kernel, in the namespace the
notebook uses. `RemoteEvaluator` has the evaluator's interface (execute, complete,
is_complete), so `th`'s prompt, keys and history work unchanged; what the kernel prints, its
values, errors and timing lines come back over iopub. Ctrl-C sends the kernel an
`interrupt_request`. Leaving th leaves the kernel running.
"""

from __future__ import annotations

import sys
from typing import Any

from trepl.app import App, AppConfig, use_color
from trepl.results import Completeness, Completions, ErrorInfo, ExecResult, HelpInfo

READY_TIMEOUT = 10.0  # seconds a kernel has to answer kernel_info before th gives up


class KernelText:
    """A value the kernel printed: th shows its text as it came."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class RemoteEvaluator:
    """The `Evaluator` interface over a kernel client."""

    def __init__(self, client: Any) -> None:
        from trepl.evaluator import Evaluator

        self.client = client
        self.print_level = 3
        self.abandoned_work = False
        self.background = None
        self._syntax = Evaluator(preload=False)  # is_complete is syntax only: answered here
        self._sent: set[str] = set()  # our requests: output of other front ends' is not shown

    def execute(self, code: str, on_stdout=None, on_stderr=None, on_line=None) -> ExecResult:
        kc = self.client
        out = on_stdout or sys.stdout.write
        err = on_stderr or sys.stderr.write
        msg_id = kc.execute(code, allow_stdin=False)
        self._sent.add(msg_id)
        result = ExecResult()
        while True:
            try:
                msg = kc.get_iopub_msg()
            except KeyboardInterrupt:
                kc.control_channel.send(kc.session.msg("interrupt_request", {}))
                continue
            kind, content = msg["msg_type"], msg["content"]
            parent = msg["parent_header"].get("msg_id")
            mine = parent == msg_id
            if parent not in self._sent:  # a notebook's cell, seen on the shared iopub
                continue
            if kind == "stream":
                (out if content["name"] == "stdout" else err)(content["text"])
            elif kind in ("display_data", "update_display_data"):
                text = content.get("data", {}).get("text/plain", "")
                key = content.get("transient", {}).get("display_id")
                if kind == "update_display_data" and key and on_line is not None:
                    on_line(key, text, False)
                elif text:
                    out(text + "\n")
            elif kind == "execute_result" and mine:  # shown in order, before the timing line
                result.value = KernelText(content["data"].get("text/plain", ""))
                out(result.value.text + "\n")
            elif kind == "error" and mine:
                tb = content.get("traceback") or [f"{content['ename']}: {content['evalue']}"]
                result.error = ErrorInfo(content["ename"], content["evalue"], tb)
            elif kind == "status" and mine and content["execution_state"] == "idle":
                break
        reply = self._reply(msg_id)
        for item in reply.get("payload", []):
            if item.get("source") == "page":
                text = item.get("data", {}).get("text/plain", "")
                result.help = HelpInfo(name="", found=True, text=text)
            elif item.get("source") == "ask_exit":
                result.exit_code = 0
        return result

    def _reply(self, msg_id: str) -> dict:
        while True:
            reply = self.client.get_shell_msg(timeout=READY_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    def complete(self, code: str, cursor_pos: int | None = None) -> Completions:
        pos = len(code) if cursor_pos is None else cursor_pos
        msg_id = self.client.complete(code, pos)
        reply = self._reply(msg_id)
        types = [m.get("type", "") for m in reply.get("metadata", {}).get(
            "_jupyter_types_experimental", [])]  # fmt: skip
        return Completions(
            reply.get("matches", []), reply.get("cursor_start", pos), reply.get("cursor_end", pos),
            types,
        )  # fmt: skip

    def is_complete(self, code: str) -> Completeness:
        return self._syntax.is_complete(code)


class RemoteApp(App):
    """th's loop on a kernel: values, errors and timing are shown as the kernel sent them, in
    the order it sent them (the value comes before the kernel's timing line)."""

    def _warm_up(self) -> None:
        """Only the syntax colours: the code runs in the kernel, so JAX is not needed here."""
        if self.config.color:
            from trepl import style

            style.warm_up()

    def show(self, result: ExecResult) -> None:
        if result.help is not None:
            self._write(result.help.text + "\n")
        if result.error is not None:
            self._write_err("\n".join(result.error.traceback) + "\n")


def connect(kernel: str) -> tuple[Any, str]:
    """(a started BlockingKernelClient, its connection file), or SystemExit with one line."""
    from jupyter_client import BlockingKernelClient, find_connection_file

    try:
        path = find_connection_file(kernel or "kernel-*.json")
    except OSError:
        where = "Jupyter's runtime folder"
        raise SystemExit(
            f"th --existing: no running kernel matches {kernel or 'kernel-*.json'!r} (looked in "
            f"{where}); start one (a notebook on the itorch kernel) or name its connection file"
        ) from None
    client = BlockingKernelClient(connection_file=path)
    try:
        client.load_connection_file()
    except (OSError, ValueError, KeyError) as error:
        raise SystemExit(f"th --existing: cannot read connection file {path}: {error}") from None
    client.start_channels()
    try:
        client.wait_for_ready(timeout=READY_TIMEOUT)
    except RuntimeError:
        client.stop_channels()
        raise SystemExit(
            f"th --existing: the kernel of {path} does not answer within {READY_TIMEOUT:.0f} s "
            "(it is not running, or not reachable)"
        ) from None
    return client, path


def main(args: Any) -> int:
    try:
        client, path = connect(args.existing)
    except SystemExit as refusal:
        print(refusal, file=sys.stderr)
        return 2
    color = use_color(sys.stdout, args.no_color or args.colors == "none")
    print(f"th: attached to the kernel of {path} (exit leaves it running)")
    try:
        return RemoteApp(RemoteEvaluator(client), config=AppConfig(color=color, banner=False)).run()
    finally:
        client.stop_channels()
