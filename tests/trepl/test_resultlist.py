"""`_RESULTS` stays within its count and byte bounds, and never holds itself."""

import numpy as np
import pytest

from trepl import printer
from trepl.evaluator import Evaluator
from trepl.resultlist import DEFAULT_BYTES, DEFAULT_COUNT, ResultList


def test_oldest_results_go_beyond_the_count():
    results = ResultList(max_count=3)
    for i in range(5):
        results.append(i)
    assert results == [2, 3, 4]


def test_oldest_arrays_go_beyond_the_bytes_but_the_latest_stays():
    results = ResultList(max_bytes=1000)
    results.append(np.zeros(100))  # 800 B
    results.append("small")
    results.append(np.zeros(50))  # 400 B: 1200 B in all, so the first array goes
    assert [type(v).__name__ for v in results] == ["str", "ndarray"]
    assert results.total_bytes == 400
    results.append(np.zeros(1000))  # 8000 B alone: kept, as the latest
    assert len(results) == 1 and results.total_bytes == 8000


def test_arrays_inside_containers_count():
    results = ResultList(max_bytes=1000)
    results.append({"w": np.zeros(100), "b": [np.zeros(100)]})
    assert results.total_bytes == 1600


def test_evaluator_defaults_and_setresults():
    ev = Evaluator()
    results = ev.namespace["_RESULTS"]
    assert (results.max_count, results.max_bytes) == (DEFAULT_COUNT, DEFAULT_BYTES)
    for i in range(5):
        ev.execute(f"{i}")
    ev.execute("setresults(2)")
    assert ev.execute("_RESULTS").value == [3, 4]
    assert ev.execute("setresults(nbytes=0)").error.evalue == (
        "setresults: nbytes must be a positive int, got 0"
    )


def test_results_typed_alone_does_not_hold_itself():
    ev = Evaluator()
    ev.execute("1")
    ev.execute("2")
    result = ev.execute("_RESULTS")
    assert printer.render(result.value) == "[1, 2]"
    assert ev.namespace["_LAST"] is ev.namespace["_RESULTS"]
    assert printer.render(ev.execute("_RESULTS").value) == "[1, 2]"


def test_module_trees_inside_a_list_keep_their_indentation():
    ev = Evaluator()
    ev.execute("net = nn.Sequential().add(nn.Linear(4, 2)).add(nn.ReLU())")
    text = printer.render(ev.execute("[net, 1]").value)
    assert text.splitlines() == [
        "[",
        "  nn.Sequential {",
        "    [input -> (0) -> (1) -> output]",
        "    (0): nn.Linear(4 -> 2)",
        "    (1): nn.ReLU",
        "  },",
        "  1,",
        "]",
    ]


@pytest.mark.parametrize("bad", ["0", "'x'"])
def test_setresults_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="setresults: count must be a positive int"):
        ResultList().set_limits(count=eval(bad))
