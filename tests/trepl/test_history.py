"""trepl.history: a history file that cannot be written warns once; history goes on in memory."""

import os

import pytest

from trepl import history


def _read_only(tmp_path):
    if os.geteuid() == 0:  # root writes through file modes; /proc/version refuses even root
        return "/proc/version"
    path = tmp_path / "h"
    path.write_text("")
    path.chmod(0o444)
    return str(path)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: str(tmp), "it is a directory"),
        (lambda tmp: str(tmp / "no" / "h"), "does not exist"),
        (_read_only, "Error"),
    ],
    ids=["directory", "missing folder", "read-only file"],
)
def test_problem_names_the_reason(tmp_path, make, reason):
    assert reason in history.problem(make(tmp_path))


def test_a_writable_file_has_no_problem_and_keeps_lines(tmp_path):
    path = str(tmp_path / "h")
    assert history.problem(path) is None
    warnings = []
    first = history.SafeFileHistory(path, warnings.append)
    first.append_string("x = 1")
    assert list(history.SafeFileHistory(path, warnings.append).load_history_strings()) == ["x = 1"]
    assert warnings == []


def test_a_write_that_fails_later_warns_once(tmp_path):
    path = tmp_path / "h"
    warnings = []
    kept = history.SafeFileHistory(str(path), warnings.append)
    kept.append_string("a = 1")
    path.unlink()
    path.mkdir()  # the file became a directory during the session
    kept.append_string("b = 2")
    kept.append_string("c = 3")
    assert len(warnings) == 1 and "cannot write the history file" in warnings[0]
    assert kept.get_strings() == ["a = 1", "b = 2", "c = 3"]  # every command kept, in memory


def test_unreadable_history_loads_empty(tmp_path):
    warnings = []
    kept = history.SafeFileHistory(str(tmp_path), warnings.append, writable=False)
    assert list(kept.load_history_strings()) == []
    assert warnings == []  # already warned at start (writable=False): no second line
