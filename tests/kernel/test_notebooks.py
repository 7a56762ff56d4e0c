"""Every notebooks/*.ipynb runs without error through the real itorch kernel (nbclient).

Notebooks are stored without outputs; executing them here is what keeps them working.
"""

import re
from pathlib import Path

import nbformat
import numpy as np
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
    checks = {
        "itorch_tour.ipynb": lambda: _check_tour(nb, outputs),
        "lenet_digits.ipynb": lambda: _check_lenet(outputs),
        "zoo_tour.ipynb": lambda: _check_zoo(nb, outputs),
        "custom_layer.ipynb": lambda: _check_custom_layer(outputs),
        "ipython_habits.ipynb": lambda: _check_habits(outputs),
        "beyond.ipynb": lambda: (_check_sessions(outputs), _check_beyond(outputs)),
    }
    checks[path.name]()  # every notebook says what it shows


def _text(outputs):
    return "".join(out.get("text", "") for out in outputs if out.output_type == "stream")


def _check_sessions(outputs):
    values = [out.data["text/plain"] for out in outputs if out.output_type == "execute_result"]
    text = _text(outputs)
    replays = [v for v in values if v.startswith("replay:")]
    assert replays[0].endswith("re-run in a fresh namespace; every output is the same")
    assert replays[1].startswith("replay: input 3 of 3 gives another output")
    hunts = [v for v in values if v.startswith("nan_hunt:")]
    assert "the first non-finite output is that of (2) nn.MulConstant" in hunts[0]
    assert "parameter 0.weight is itself non-finite" in hunts[1]
    saved = next(v for v in values if v.startswith("saved run1.session"))
    assert "not saved: square: code (a function)" in saved
    assert "{'lr': 0.1, 'sizes': (4, 2)} (2, 3) True" in text  # restored, same outputs
    paused = int(re.search(r"paused at step (\d+)", text)[1])
    stopped = re.search(r"<background training, stopped: epoch \d+/200, step (\d+)", text)
    assert paused >= 20 and int(stopped[1]) >= paused
    assert "total 45" in text  # the little notebook, run by th as a script


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
    text = _text(outputs)
    assert "./\n../\n" in text  # `!ls -a` in the notebook's (empty) folder, TREPL's ls -F
    values = [r.data["text/plain"] for r in results]
    timed = [v for v in values if re.search(r"per call \(median of 7 runs, [\d,]+ calls? each", v)]
    assert len(timed) == 1 and "compiling (1 program)" in timed[0]
    assert "'awaited'" in values
    assert "expected 3 input planes (dim 1 of the input), got 1" in text


def _check_lenet(outputs):
    text = _text(outputs)
    found = re.search(
        r"test accuracy: ([0-9.]+)% after (\d+) epochs, training wall time ([0-9.]+) s", text
    )
    accuracy, epochs, wall = float(found[1]), int(found[2]), float(found[3])
    assert accuracy >= 97 and wall < 60, (accuracy, wall)  # the notebook's promise
    shown = [out for out in outputs if out.output_type == "display_data"]
    plots = [out for out in shown if out.data.get("text/html", "").startswith("<iframe srcdoc=")]
    # drawn once per epoch, each replacing the last: one plot, the final epoch's
    assert len(plots) == 1 and f"epoch {epochs}:" in plots[0].data["text/plain"]
    tables = [out.data["text/html"] for out in shown if "<table" in out.data.get("text/html", "")]
    counts = np.array([int(n) for n in re.findall(r">(\d+)</td>", tables[0])]).reshape(10, 10)
    right, total = map(int, re.search(r"(\d+) of (\d+) right", text).groups())
    assert counts.sum() == total == 360 and np.trace(counts) == right
    assert abs(right / total * 100 - accuracy) < 0.05 + 1e-9  # the same net, printed to 0.1%
    assert sum("image/png" in out.data for out in shown) == 3  # digits, filters, misclassified


def _check_zoo(nb, outputs):
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert not re.search(r"\b[A-Za-z]\w*\._\w", code)  # public API only: no module._private
    reproduced, checked = map(
        int, re.search(r"(\d+) of (\d+) published figures", _text(outputs)).groups()
    )
    assert checked >= 20 and reproduced == checked
    tables = [o for o in outputs if "<table" in o.get("data", {}).get("text/html", "")]
    assert len(tables) == 2 and "16.4%" in tables[0].data["text/html"]


def _check_custom_layer(outputs):
    text = _text(outputs)
    errors = [float(e) for e in re.findall(r"(?:input|weight) ([0-9.]+e[-+]\d+)", text)]
    assert len(errors) == 4 and max(errors) < 1e-5  # both versions pass Torch's checker
    assert float(re.search(r"largest error: weight ([0-9.]+)\n", text)[1]) > 0.1  # the slip
    assert float(re.search(r"test accuracy: ([0-9.]+)%", text)[1]) > 90


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


def _check_beyond(outputs):
    text = _text(outputs)
    assert "recompiled forward: input (32,8) -> (31,8)\n" in text
    assert "recompiled forward: input float32 -> bfloat16\n" in text
    values = [out.data["text/plain"] for out in outputs if out.output_type == "execute_result"]
    page = next(v for v in values if v.startswith("jax.Array of size 1000, float32"))
    assert "NaN 0  Inf 0" in page and re.search(r"\|[ ▁-█]{16}\|", page)
    assert any(v.endswith("] NaN! Inf!") for v in values)  # log of 0 and of -1
    table = text[text.index("big ") - 200 :]  # the who() table of the ledger section
    arrays = [line.split()[0] for line in table.split("\n") if "jax.Array" in line]
    shown = [name for name in arrays if name in ("big", "x", "w", "small")]
    assert shown == ["big", "x", "w", "small"]  # by bytes: 256 KiB, 3.9 KiB, 128 B, 64 B
    count = int(re.search(r"recompilations this session: (\d+) \(recompiles\(\) lists", table)[1])
    assert count == text[: text.index("recompilations this session")].count("recompiled ")
    assert "released 256.0 KiB of 256.0 KiB in arrays" in text
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 1
    rows = [line for line in text.split("\n") if "▀" in line]
    assert len(rows) == 14 and all(row.count("▀") == 28 for row in rows)
