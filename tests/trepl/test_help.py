"""The banner, the `?` pages and the help signature."""

from trepl import help as help_pages
from trepl.evaluator import Evaluator


def test_banner_spells_th_beside_a_straight_column():
    lines = help_pages.BANNER.splitlines()
    assert len({line.index("|") for line in lines}) == 1
    assert lines[0].split("|")[0].strip() == "__  __"  # the two letters' tops: t and h


def test_string_annotations_show_without_quotes():
    ev = Evaluator()
    ev.execute("def f(kW: 'int', name: 'str' = 'a') -> 'None':\n    pass")  # as under PEP 563
    assert ev.help("f").signature == "(kW: int, name: str = 'a') -> None"


def test_th_and_the_kernel_each_have_their_own_page():
    ev = Evaluator()
    assert "Ctrl-L" in ev.execute("?").help.text
    assert "Ctrl-L" not in help_pages.KERNEL_HELP and "Shift-Tab" in help_pages.KERNEL_HELP
    for page in (help_pages.SELF_HELP, help_pages.KERNEL_HELP):
        assert all(len(line) <= 100 for line in page.splitlines())
