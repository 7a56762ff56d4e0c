"""Every shipped notebook, run in headless Chromium through `itorch notebook`: what a person sees.

For each notebook: Run > Run All Cells, then no cell may show an error, every bokeh plot's
scripts must have run and its canvas drawn, every `itorch.image` must be an `<img>` with a
size, and a screenshot is saved (its path is in every failure message).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from .conftest import NOTEBOOKS
from .page import NotebookPage

SHIPPED = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
RUN_TIMEOUT = 240  # seconds for Run All: lenet_digits trains for about 20 s on two cores

# Runs inside a plot's iframe: bokeh's scripts ran (window.Bokeh holds the document), and the
# number of drawn (neither blank nor white) pixels on each canvas, shadow DOMs included.
BOKEH_PROBE = """
function canvases(root) {
  let found = [...root.querySelectorAll('canvas')];
  for (const el of root.querySelectorAll('*'))
    if (el.shadowRoot) found = found.concat(canvases(el.shadowRoot));
  return found;
}
const drawn = canvases(document).map(c => {
  const ctx = c.getContext('2d');
  if (!ctx || !c.width || !c.height) return 0;
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4)
    if (px[i + 3] > 0 && !(px[i] > 245 && px[i + 1] > 245 && px[i + 2] > 245)) n++;
  return n;
});
const docs = window.Bokeh === undefined ? -1 : window.Bokeh.documents.length;
return {docs: docs, drawn: drawn};
"""


@contextlib.contextmanager
def screenshot_on_exit(page: NotebookPage, path: Path):
    """Save the page's screenshot at `path` when the block ends; a failure names the path."""
    try:
        yield
    except (AssertionError, TimeoutError) as error:
        page.show_first_error()
        page.screenshot(path)
        raise AssertionError(f"{error}\nscreenshot: {path}") from error
    page.screenshot(path)


def bokeh_state(page: NotebookPage, frame) -> dict:
    """BOKEH_PROBE's answer for the plot in iframe `frame`."""
    page.driver.switch_to.frame(frame)
    try:
        return page.js(BOKEH_PROBE)
    finally:
        page.driver.switch_to.default_content()


def check_plots(page: NotebookPage) -> int:
    """Every bokeh plot ran its scripts and drew; returns how many there are."""
    frames = page.driver.find_elements("css selector", ".jp-OutputArea-output iframe")
    for k, frame in enumerate(frames):
        state = page.wait_for(
            lambda f=frame: (s := bokeh_state(page, f))["docs"] > 0 and max(s["drawn"]) and s,
            f"plot {k} to draw",
            timeout=20,
        )
        assert max(state["drawn"]) > 100, f"plot {k}: its canvas stayed blank ({state})"
    return len(frames)


def check_images(page: NotebookPage) -> int:
    """Every image output is an `<img>` that decoded to a non-zero size; returns how many."""
    images = [o for o in page.outputs() if o["mime"] == "image/png"]
    for o in images:
        size = page.js(
            "const i = arguments[0].querySelector('img');"
            "return i === null ? null : [i.naturalWidth, i.naturalHeight, i.width, i.height];",
            o["element"],
        )
        assert size is not None, f"cell {o['cell']}: an image output without an <img>"
        assert min(size) > 0, f"cell {o['cell']}: an <img> of size {size}"
    return len(images)


# What each notebook shows (plots, images) when it runs to the end in the browser.
EXPECTED = {
    "itorch_tour.ipynb": (7, 3),
    "lenet_digits.ipynb": (1, 3),  # the live curves: one plot, redrawn each epoch
    "zoo_tour.ipynb": (0, 0),
    "custom_layer.ipynb": (0, 0),
    "ipython_habits.ipynb": (0, 0),  # HTML, Markdown, SVG and a progress bar: no PNG, no plot
    "beyond.ipynb": (0, 1),  # the digit, as a notebook shows itorch.image
}


@pytest.mark.parametrize("name", SHIPPED)
def test_notebook_runs_in_the_browser(browser, notebook_server, screenshots, name):
    page = NotebookPage(browser, notebook_server.url(f"notebooks/notebooks/{name}"))
    try:
        with screenshot_on_exit(page, screenshots / f"{Path(name).stem}.png"):
            page.run_all(RUN_TIMEOUT)
            errors = page.errors()
            assert not errors, f"{name}: error output(s): {errors}"
            prompts = page.prompts()
            assert all(p[1:-2].isdigit() for p in prompts), f"{name}: cells not run: {prompts}"
            plots, images = check_plots(page), check_images(page)
            assert (plots, images) == EXPECTED[name], f"{name}: (plots, images) shown"
            if name == "itorch_tour.ipynb":
                check_window_updated_in_place(page)
    finally:
        page.save()  # leaves the page without a "leave site?" prompt
        notebook_server.shutdown_kernels()


def check_window_updated_in_place(page: NotebookPage) -> None:
    """The tour's `itorch.html(..., window)` loop left one output, showing its last step."""
    windows = [o for o in page.outputs() if "step" in o["text"] and o["mime"] == "text/html"]
    assert len(windows) == 1, [o["text"] for o in windows]
    assert "step 5 of 5" in windows[0]["text"] and "training" not in windows[0]["text"]
    value = page.js("return arguments[0].querySelector('progress').value", windows[0]["element"])
    assert value == 5
