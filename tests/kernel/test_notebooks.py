"""Every notebooks/*.ipynb runs without error through the real itorch kernel (nbclient).

Notebooks are stored without outputs; executing them here is what keeps them working.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kernel import kernelspec

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def _execute(path: Path, workdir: Path):
    kernelspec.install(user=True)  # into this test's private Jupyter dir
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="itorch", timeout=300, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def _outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "itorch"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, tmp_path):
    nb = _execute(path, tmp_path)
    outputs = _outputs(nb)
    assert not [out for out in outputs if out.output_type == "error"]
    if path.name == "itorch_tour.ipynb":
        _check_tour(nb, outputs)
    if path.name == "lenet_digits.ipynb":
        _check_lenet(outputs)
    if path.name == "ipython_habits.ipynb":
        _check_habits(outputs)


def _check_habits(outputs):
    shown = [out for out in outputs if out.output_type == "display_data"]
    html = [out.data.get("text/html", "") for out in shown]
    assert "<b>bold from IPython.display</b>" in html
    assert any(out.data.get("text/markdown") == "*markdown* too" for out in shown)
    assert "<i>step 3</i>" in html and "<i>step 0</i>" not in html  # updated in place
    results = [out for out in outputs if out.output_type == "execute_result"]
    assert 'fill="teal"' in results[0].data["image/svg+xml"]
    # the progress bar: one output, holding the last state
    bars = [out for out in shown if "epoch 1 [" in out.data.get("text/plain", "")]
    assert len(bars) == 1 and "20/20" in bars[0].data["text/plain"]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "./\n../\n" in text  # `!ls -a` in the notebook's (empty) folder, TREPL's ls -F
    values = [r.data["text/plain"] for r in results]
    timed = [v for v in values if re.search(r"per call \(median of 7 runs, [\d,]+ calls? each", v)]
    assert len(timed) == 1 and "compiling (1 program)" in timed[0]
    assert "'awaited'" in values
    assert "expected 3 input planes (dim 1 of the input), got 1" in text


def _check_lenet(outputs):
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    errors = [float(e) for e in re.findall(r"# current error = ([0-9.]+)", text)]
    assert len(errors) == 2 and errors[-1] < errors[0]  # Torch's trainer log; it learns
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)%", text).group(1))
    assert accuracy > 50  # 2 epochs on 400 digits: about 70%
    shown = [out for out in outputs if out.output_type == "display_data"]
    assert sum("image/png" in out.data for out in shown) == 2  # samples, misclassified
    assert any(out.data.get("text/html", "").startswith("<iframe srcdoc=") for out in shown)


def _check_tour(nb, outputs):
    shown = [out for out in outputs if out.output_type == "display_data"]
    images = [out for out in shown if "image/png" in out.data]
    assert len(images) == 3
    # the progress window was updated in place: one output holding the last step
    windows = [out for out in shown if "<progress" in out.data.get("text/html", "")]
    assert len(windows) == 1 and "step 5 of 5" in windows[0].data["text/html"]
    assert any("<audio controls>" in out.data.get("text/html", "") for out in shown)
    plots = [out for out in shown if out.data.get("text/html", "").startswith("<iframe srcdoc=")]
    assert len(plots) == 7  # scatter (redrawn in place), line, segment, quiver, quad, hist, groups
    assert "Scatter Plot Demo" in plots[0].data["text/html"]  # the redraws replaced the first
    results = [out for out in outputs if out.output_type == "execute_result"]
    assert [("itorch-array" in r.data["text/html"]) for r in results] == [True, False]
    assert results[1].data["text/html"].startswith('<div class="itorch-module"><pre>nn.Sequential')
