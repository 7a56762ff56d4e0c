import io
import json
import math

from nets.engine.log import JSONLog, ProgressBar, TextLog


def test_text_log_lines(tmp_path):
    path = tmp_path / "train.log"
    with TextLog(path) as log:
        log.log({"epoch": 1, "loss": 0.123456, "error": 2.5})
        log.log({"epoch": 2, "loss": 0.05})
    assert path.read_text().splitlines() == [
        "epoch 1 | loss 0.1235 | error 2.5",
        "epoch 2 | loss 0.05",
    ]


def test_json_log_lines_parse_back():
    import numpy as np

    stream = io.StringIO()
    log = JSONLog(stream)
    log.log({"epoch": 1, "loss": np.float32(0.5), "bad": math.nan})
    assert json.loads(stream.getvalue()) == {"epoch": 1, "loss": 0.5, "bad": None}


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_with_rate_eta_and_loss():
    stream = FakeTTY()
    bar = ProgressBar(4, desc="epoch 1", stream=stream, min_interval=0)
    bar.update(1, loss=0.5)
    bar.update(1, loss=0.25)
    line = bar.render()
    assert line.startswith("epoch 1 [") and " 2/4 " in line and "it/s ETA " in line
    assert line.endswith("loss 0.2500")
    bar.close()
    assert stream.getvalue().count("\r") == 3 and stream.getvalue().endswith("\n")


def test_progress_bar_is_quiet_when_not_a_terminal():
    stream = io.StringIO()
    bar = ProgressBar(3, stream=stream)
    bar.update(3, loss=1.0)
    bar.close()
    assert stream.getvalue() == ""


def test_progress_bar_draws_through_a_streams_show_line():
    """th and the itorch kernel give a cell's stderr `show_line(key, text, final)`: the bar is
    on by default there and redraws one line (one notebook display) through it."""
    drawn = []

    class LineStream(io.StringIO):
        def show_line(self, key, text, final):
            drawn.append((key, text, final))

    stream = LineStream()
    bar = ProgressBar(2, "epoch", stream=stream, min_interval=0)
    assert bar.enabled
    bar.update()
    bar.update()
    bar.close()
    assert len({key for key, _, _ in drawn}) == 1
    assert [final for _, _, final in drawn] == [False, False, True]
    assert drawn[-1][1].startswith("epoch [") and "2/2" in drawn[-1][1]
    assert stream.getvalue() == ""  # nothing written as text
