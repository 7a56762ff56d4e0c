"""docs/nn.md's table of every Torch7 nn module is generated from nets.nn and kept in step."""

from pathlib import Path

from nets import nn
from nets.nn import _doc

PAGE = Path(__file__).parents[3] / "docs" / "nn.md"


def test_docs_nn_md_table_is_in_step_with_nets_nn():
    page = PAGE.read_text(encoding="utf-8")
    start, end = page.index(_doc.BEGIN), page.index(_doc.END) + len(_doc.END) + 1
    assert page[start:end] == _doc.section(), (
        "docs/nn.md's table of Torch7 modules is stale: run "
        "`python -m nets.nn._doc --update docs/nn.md`"
    )


def test_here_means_defined_in_that_file_and_absent_means_absent():
    root = Path(nn.__file__).parents[2]
    assert len(_doc.TORCH7_NN) == len(set(_doc.TORCH7_NN)) == 197  # init.lua's requires
    assert set(_doc.ABSENT) <= set(_doc.TORCH7_NN)
    for name in _doc.TORCH7_NN:
        state, where = _doc.status(name)
        if state == "here":
            path = root / where.strip("`")
            assert path.is_file() and f"{name}" in path.read_text(encoding="utf-8"), name
        else:
            assert not hasattr(nn, name), name
    assert _doc.status("MarginCriterion") == ("here", "`nets/nn/criterion_margin.py`")
    assert _doc.status("GPU")[0] == "not here"


def test_update_replaces_the_section_or_appends_it():
    fresh = _doc.update("# title\n")
    assert fresh.startswith("# title\n\n" + _doc.BEGIN) and fresh.endswith(_doc.END + "\n")
    stale = "# title\n\n" + _doc.BEGIN + "\nold rows\n" + _doc.END + "\n\n## after\n"
    assert _doc.update(stale) == "# title\n\n" + _doc.section() + "## after\n"
