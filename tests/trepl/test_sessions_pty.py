"""Issue 22's terminal features through the real `th` in a pseudo-terminal: training in the
background with the prompt answering, --seed and replay(), --export, and running a notebook."""

import json
import sys

import nbformat
import pexpect
import pytest

from .test_pty import PROMPT, leave, run, spawn_th

pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

SETUP = (
    "from nets import data; from nets.engine import Engine; import time; "
    "rng = np.random.default_rng(0); xs = rng.normal(size=(32, 4)).astype(np.float32); "
    "ys = (xs[:, 0] > 0).astype(np.int32); "
    "it = data.DatasetIterator(data.TensorDataset(xs, ys), 8, prefetch=0); "
    "net = nn.Sequential().add(nn.Linear(4, 2)).add(nn.LogSoftMax()); "
    "engine = Engine(hooks={'onUpdate': lambda s: time.sleep(0.1)})"
)


def test_background_training_prints_above_a_prompt_that_answers(tmp_path):
    child = spawn_th(TREPL_HISTORY=str(tmp_path / "history"))
    run(child, SETUP)
    run(child, "training = engine.train(net, it, nn.ClassNLLCriterion(), maxepoch=5, "
               "background=True)")  # fmt: skip
    # while it trains (20 steps of 100 ms at least) the prompt runs commands
    printed = run(child, "training.running, 6 * 7")
    assert "(True, 42)" in printed
    # the meters come above the prompt as the epochs go by, and the end of the run
    child.expect(r"epoch 2/5 \[[=> ]+\] \d+/4 .*loss \d\.\d{4}")
    child.expect(r"\[background training done: epoch 5/5, 20 steps, loss \d\.\d{4}\]")
    printed = run(child, "training.running, training.state['t']")
    assert "(False, 20)" in printed
    # pause/resume/stop act at step boundaries; the model is usable while paused
    run(child, "training = engine.train(net, it, nn.ClassNLLCriterion(), maxepoch=10**6, "
               "background=True)")  # fmt: skip
    printed = run(child, "engine.pause(); t = training.state['t']; time.sleep(0.3); "
                         "(training.is_paused, training.state['t'] == t, "
                         "bool(jnp.isfinite(net.forward(xs)).all()))")  # fmt: skip
    assert "(True, True, True)" in printed
    run(child, "engine.resume(); time.sleep(0.4)")
    printed = run(child, "state = engine.stop(); state['interrupted'], state['t'] > t")
    assert "(True, True)" in printed
    # an error in the thread shows once, at the next command
    run(child, "bad = xs.copy(); bad[3, 2] = np.nan; failing = Engine(progress=False).train("
               "net, data.DatasetIterator(data.TensorDataset(bad, ys), 8, prefetch=0), "
               "nn.ClassNLLCriterion(), background=True)")  # fmt: skip
    run(child, "while failing.running: time.sleep(0.05)")
    child.sendline("1 + 1")
    child.expect(r"background training failed at epoch 1, step 1: TrainingError: .*"
                 r"the input holds nan at \[3, 2\]")  # fmt: skip
    child.expect(r"\r\n2\r\n")
    child.expect(PROMPT)
    assert "background training failed" not in run(child, "2 + 2")
    assert leave(child) == 0


def test_seed_replay_and_export(tmp_path):
    notebook = tmp_path / "history.ipynb"
    child = spawn_th("--seed", "7", "--export", str(notebook),
                     TREPL_HISTORY=str(tmp_path / "history"))  # fmt: skip
    run(child, "a = np.random.rand(3)")
    first = run(child, "float(a.sum())")
    run(child, "w = nn.Linear(2, 2).weight")
    run(child, "print('hello'); float(w.sum())")
    printed = run(child, "replay()")
    assert "replay: 5 input(s) re-run in a fresh namespace; every output is the same" in printed
    run(child, "import time; stamp = time.perf_counter_ns()")
    run(child, "stamp")
    printed = run(child, "replay()")
    assert "replay: input 7 of 7 gives another output (0 after it not re-run):" in printed
    assert ">>> stamp" in printed and "then: " in printed and "now:  " in printed
    assert leave(child) == 0
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert sources[0] == "nets.manual_seed(7); np.random.seed(7)"
    assert sources[1:3] == ["a = np.random.rand(3)", "float(a.sum())"]
    outputs = nb.cells[2].outputs
    assert outputs[0].output_type == "execute_result"
    assert outputs[0].data["text/plain"] in first
    hello = nb.cells[4].outputs
    assert hello[0].output_type == "stream" and hello[0].text == "hello\n"
    assert nb.metadata.kernelspec.name == "itorch"


def test_a_notebook_runs_as_a_script(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# not run"),
            nbformat.v4.new_code_cell("x = [0.0, 1.0, 2.0, 3.0]\nprint('sum', sum(x))"),
            nbformat.v4.new_code_cell("x * 2"),  # a value: not printed in a script
            nbformat.v4.new_code_cell("$ echo from the shell"),
            nbformat.v4.new_code_cell("print('last', len(x))"),
        ]
    )
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    child = pexpect.spawn(sys.executable, ["-m", "trepl", str(path)], encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    out = child.before.replace("\r\n", "\n")
    assert child.exitstatus == 0, out
    assert out.splitlines() == ["sum 6.0", "from the shell", "last 4"]

    failing = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("print('first')"),
            nbformat.v4.new_markdown_cell("text"),
            nbformat.v4.new_code_cell("n = 2"),
            nbformat.v4.new_code_cell("n / 0"),
            nbformat.v4.new_code_cell("print('never')"),
        ]
    )
    nbformat.write(failing, path)
    child = pexpect.spawn(sys.executable, ["-m", "trepl", str(path)], encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert f"th: {path}, code cell 3 failed:" in child.before
    assert "ZeroDivisionError: division by zero" in child.before
    assert child.before.startswith("first") and "never" not in child.before

    path.write_text(json.dumps({"cells": "no"}))
    child = pexpect.spawn(sys.executable, ["-m", "trepl", str(path)], encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert f"th: {path} is not a valid notebook" in child.before
