"""The toolbar's stop button interrupts a running cell, and the kernel goes on serving."""

from __future__ import annotations

import time

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from .page import NotebookPage
from .test_notebooks import screenshot_on_exit

INTERRUPT_WITHIN = 15  # seconds from the click to the cell's KeyboardInterrupt


def test_stop_button_interrupts_a_busy_loop(browser, notebook_server, screenshots):
    nb = new_notebook(
        cells=[new_code_cell("while True:\n    pass"), new_code_cell("print('still here', 6 * 7)")],
        metadata={"kernelspec": {"name": "itorch", "display_name": "iTorch", "language": "python"}},
    )
    nbformat.write(nb, notebook_server.root / "busy.ipynb")
    page = NotebookPage(browser, notebook_server.url("notebooks/busy.ipynb"))
    try:
        with screenshot_on_exit(page, screenshots / "busy.png"):
            page.run_cell(0)
            page.wait_for(lambda: page.prompts()[0] == "[*]:", "the loop to start", 20)
            time.sleep(1.0)  # the loop is really spinning in the kernel
            assert page.prompts()[0] == "[*]:" and not page.kernel_idle()
            clicked = time.monotonic()
            page.command("notebook:interrupt-kernel")
            page.wait_for(
                lambda: any("KeyboardInterrupt" in o["text"] for o in page.outputs(0)),
                "the loop to be interrupted",
                INTERRUPT_WITHIN,
            )
            assert time.monotonic() - clicked < INTERRUPT_WITHIN
            page.wait_for(page.kernel_idle, "the kernel to be idle again", 20)
            page.run_cell(1)
            page.wait_for(
                lambda: any("still here 42" in o["text"] for o in page.outputs(1)),
                "the next cell to run",
                20,
            )
            page.wait_for(lambda: page.prompts()[1][1:-2].isdigit(), "the cell's number", 20)
            assert page.prompts()[0][1:-2].isdigit()  # the interrupted cell got its number too
    finally:
        page.save()
        notebook_server.shutdown_kernels()
