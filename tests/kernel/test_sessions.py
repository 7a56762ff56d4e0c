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
