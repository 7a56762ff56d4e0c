"""The kernel's side of background work (`trepl.background`): output goes to the cell that
started it, after that cell has finished.

Text goes out as `stream` messages, and the progress line as one display (`display_data`,
then `update_display_data` with the same `display_id`), all with the starting cell's request
as parent, so the notebook keeps them under that cell. ipykernel's iopub socket queues sends
from any thread onto its IO thread, so the training thread sends directly.
"""

from __future__ import annotations

import uuid
from typing import Any

from trepl.background import BackgroundOutput, ShowLine, Write


def background_output(kernel: Any) -> BackgroundOutput:
    """A `BackgroundOutput` for `kernel` (an `ItorchKernel`)."""

    def opener() -> tuple[Write, ShowLine | None]:
        parent = kernel.get_parent("shell")
        display_id = f"background-{uuid.uuid4().hex[:12]}"
        drawn = False

        def send(msg_type: str, content: dict) -> None:
            kernel.session.send(
                kernel.iopub_socket,
                msg_type,
                content,
                parent=parent,
                ident=kernel._topic(msg_type),
            )

        def write(text: str) -> None:
            send("stream", {"name": "stdout", "text": text})

        def show_line(key: str, text: str, final: bool) -> None:
            nonlocal drawn
            content = {
                "data": {"text/plain": text},
                "metadata": {},
                "transient": {"display_id": display_id},
            }
            send("update_display_data" if drawn else "display_data", content)
            drawn = True

        return write, show_line

    return BackgroundOutput(opener)
