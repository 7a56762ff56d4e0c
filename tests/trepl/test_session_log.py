"""The session log the evaluator keeps (export, snapshot and replay read it), and replay()."""

from trepl.evaluator import Evaluator


def test_each_cell_is_recorded_with_what_it_showed():
    ev = Evaluator()
    ev.execute("print('hi'); x = 3")
    ev.execute("x * 2")
    ev.execute("x * 2;")  # a value hidden by `;`: nothing shown
    ev.execute("1 / 0")
    ev.execute("")  # empty: not a cell
    ev.execute("y = 1", record=False)  # a front end's silent request
    entries = ev.log.entries
    assert [e.source for e in entries] == ["print('hi'); x = 3", "x * 2", "x * 2;", "1 / 0"]
    assert [e.count for e in entries] == [1, 2, 3, 4]
    assert entries[0].output() == "hi\n" and entries[1].output() == "6\n"
    assert entries[2].value is None and entries[2].output() == ""
    assert entries[3].error == ["ZeroDivisionError", "division by zero"]
    assert entries[3].traceback[-1] == "ZeroDivisionError: division by zero"


def test_replay_finds_the_first_output_that_differs_and_skips_itself():
    ev = Evaluator()
    ev.execute("import itertools; counter = itertools.count()")
    ev.execute("values = [1, 2]; sum(values)")
    assert repr(ev.execute("replay()").value).endswith("every output is the same")
    ev.execute("import os; os.urandom(4).hex()")
    ev.execute("len(values)")
    report = ev.execute("replay()").value
    assert (report.total, report.index) == (4, 2)  # the two replay() calls are left out
    assert report.source == "import os; os.urandom(4).hex()" and report.then != report.now
    assert "input 3 of 4 gives another output (1 after it not re-run)" in repr(report)
    assert "no seed in this session" in repr(report)


def test_a_seed_is_recorded_with_the_cell_that_set_it():
    ev = Evaluator()
    ev.execute("nets.manual_seed(11)")
    ev.execute("float(nn.Linear(2, 1).weight.sum())")
    assert ev.log.entries[0].seed == 11 and ev.log.entries[1].seed is None
    report = ev.execute("replay()").value
    assert report.same and report.seeded
