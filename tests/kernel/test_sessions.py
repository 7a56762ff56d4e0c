"""The kernel side of issue 22's session features, through jupyter_client: training in the
background updates one display under the cell that started it, and `th --existing` attaches
the terminal to the running kernel (one namespace for both)."""

import time

from .jupyter_helpers import TIMEOUT, execute, of_type, reply_to

SETUP = """
from nets import data
from nets.engine import Engine
import time as _time
rng = np.random.default_rng(0)
xs = rng.normal(size=(32, 4)).astype(np.float32)
ys = (xs[:, 0] > 0).astype(np.int32)
it = data.DatasetIterator(data.TensorDataset(xs, ys), 8, prefetch=0)
net = nn.Sequential().add(nn.Linear(4, 2)).add(nn.LogSoftMax())
engine = Engine(hooks={"onUpdate": lambda s: _time.sleep(0.05)})
"""


def _iopub_of(kc, msg_id, until, timeout=TIMEOUT):
    """iopub messages whose parent is `msg_id`, read (past its idle) until `until(messages)`."""
    found = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(found):
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            found.append(msg)
    return found


def test_background_training_updates_one_display_under_its_cell(kc):
    content, _ = execute(kc, SETUP)
    assert content["status"] == "ok", content
    start = time.monotonic()
    msg_id = kc.execute("training = engine.train(net, it, nn.ClassNLLCriterion(), maxepoch=4, "
                        "background=True)")  # fmt: skip
    assert reply_to(kc, msg_id)["content"]["status"] == "ok"
    assert time.monotonic() - start < 5  # 16 steps of 50 ms each, at least, run after this
    # the kernel answers while the training runs
    content, outputs = execute(kc, "training.running, 6 * 7")
    assert content["status"] == "ok"
    assert "(True, 42)" in of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]

    def finished(messages):
        return any("background training done" in m["content"].get("text", "") for m in messages)

    messages = _iopub_of(kc, msg_id, finished)
    displays = [m for m in messages if m["msg_type"] in ("display_data", "update_display_data")]
    assert displays[0]["msg_type"] == "display_data"
    assert len(displays) >= 4 and all(m["msg_type"] == "update_display_data" for m in displays[1:])
    ids = {m["content"]["transient"]["display_id"] for m in displays}
    assert len(ids) == 1  # one display, updated in place
    last = displays[-1]["content"]["data"]["text/plain"]
    assert "epoch 4/4 [" in last and "4/4" in last and "loss " in last
    content, outputs = execute(kc, "training.state['epoch'], training.state['t']")
    assert "(4, 16)" in of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]


def test_background_error_surfaces_once_at_the_next_cell(kc):
    code = (
        "bad = xs.copy(); bad[3, 2] = np.nan\n"
        "failing = Engine().train(net, data.DatasetIterator(data.TensorDataset(bad, ys), 8, "
        "prefetch=0), nn.ClassNLLCriterion(), background=True)\n"
        "while failing.running: _time.sleep(0.02)"
    )
    content, _ = execute(kc, code)
    assert content["status"] == "ok", content
    _, outputs = execute(kc, "1 + 1")
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert text.count("background training failed at epoch 1, step 1: TrainingError") == 1
    assert "the input holds nan at [3, 2]" in text
    _, outputs = execute(kc, "2 + 2")
    assert "background training failed" not in str(outputs)


def _th(*args):
    import os
    import sys

    import pexpect

    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", NO_COLOR="1")
    return pexpect.spawn(
        sys.executable, ["-m", "trepl", *args], env=env, encoding="utf-8", timeout=60,
        dimensions=(30, 100),
    )  # fmt: skip


def test_th_existing_shares_the_kernels_namespace(kernel, kc):
    km = kernel[0]
    child = _th("--existing", km.connection_file)
    child.expect("th: attached to the kernel of")
    child.expect("th>")
    child.sendline("shared = 41; print('from th')")
    child.expect(r"from th\r\n")
    child.expect("th>")
    _, outputs = execute(kc, "shared + 1")
    assert "42" in of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]
    execute(kc, "from_notebook = jnp.arange(3.0)")
    child.sendline("from_notebook * 2")
    child.expect(r"\[0\. 2\. 4\.\]")
    child.expect(r"\[jax.Array of size 3, float32, 12 B\]")
    child.expect(r"\[\d+\.\d{4}s")  # the kernel's timing line
    child.expect("th>")
    child.sendline("undefined_name")
    child.expect("NameError")
    child.expect("th>")
    child.sendcontrol("d")
    child.expect("Do you really want to exit")
    child.sendline("y")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 0
    _, outputs = execute(kc, "shared")  # the kernel runs on, with what th defined
    assert "41" in of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]


def pexpect_eof():
    import pexpect

    return pexpect.EOF


def test_th_existing_refuses_a_kernel_that_is_not_there(tmp_path):
    child = _th("--existing", "no-such-kernel-0000")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 2
    assert "th --existing: no running kernel matches 'no-such-kernel-0000'" in child.before
    stale = tmp_path / "kernel-stale.json"
    stale.write_text(
        '{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5, '
        '"ip": "127.0.0.1", "key": "k", "transport": "tcp", "signature_scheme": "hmac-sha256"}'
    )
    child = _th("--existing", str(stale))
    child.expect(pexpect_eof(), timeout=60)
    child.close()
    assert child.exitstatus == 2
    assert f"the kernel of {stale} does not answer" in child.before
