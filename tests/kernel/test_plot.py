"""plot.py: every Plot kind builds the right bokeh glyphs; offline HTML; draw/redraw; bad input."""

import re

import numpy as np
import pytest
from bokeh.models import GlyphRenderer, HoverTool

from kernel import display
from kernel.plot import Plot


def _glyphs(plot: Plot) -> list[str]:
    fig = plot.figure()
    return [type(r.glyph).__name__ for r in fig.renderers if isinstance(r, GlyphRenderer)]


def test_each_kind_draws_its_glyph():
    x = np.arange(5.0)
    u = np.ones((3, 4))
    plot = (
        Plot()
        .circle(x, x**2, "red", "points")
        .line(x, x, "blue", "line")
        .segment(x, x, x + 1, x + 1, "green", "segments")
        .quad(x, x, x + 0.5, x + 0.5, "#aa00ff", "boxes")
        .quiver(u, -u, "black", "field")
        .histogram(np.random.randn(200), 10, color="orange", legend="hist")
        .gscatter(x, x, ["a", "b", "a", "c", "b"])
        .text([0, 1], [0, 1], ["p", "q"])
    )
    assert _glyphs(plot) == [
        "Scatter", "Line", "Segment", "Quad", "Segment", "Scatter", "Quad",
        "Scatter", "Scatter", "Scatter", "Text",
    ]  # fmt: skip
    fig = plot.figure()
    labels = [item.label.value for item in fig.legend[0].items]
    assert labels[:6] == ["points", "line", "segments", "boxes", "field", "hist"]
    assert labels[6:] == ["a", "b", "c"]  # one entry per gscatter group


def test_histogram_counts_match_numpy():
    values = np.random.RandomState(0).randn(500)
    plot = Plot().histogram(values, 7, -2, 2)
    source = plot.figure().renderers[0].data_source.data
    counts, edges = np.histogram(values, bins=7, range=(-2, 2))
    assert list(source["y1"]) == list(counts)
    np.testing.assert_allclose(source["x0"], edges[:-1])


def test_quiver_longest_arrow_is_scaled():
    u = np.array([[3.0, 0.0]])
    v = np.array([[4.0, 1.0]])
    data = Plot().quiver(u, v, scaling=40).figure().renderers[0].data_source.data
    lengths = np.hypot(np.subtract(data["x1"], data["x0"]), np.subtract(data["y1"], data["y0"]))
    np.testing.assert_allclose(lengths, [0.9, 0.18])


def test_title_axes_legend_hover():
    plot = Plot().line([1, 2], [3, 4], "red", "l").title("T").xaxis("X").yaxis("Y").legend(False)
    fig = plot.hover_tool([("x", "$x"), ("y", "@y")]).figure()
    assert fig.title.text == "T"
    assert fig.xaxis[0].axis_label == "X" and fig.yaxis[0].axis_label == "Y"
    assert fig.legend[0].visible is False
    [hover] = [t for t in fig.tools if isinstance(t, HoverTool)]
    assert hover.tooltips == [("x", "$x"), ("y", "@y")]


def test_html_is_standalone_and_offline(tmp_path):
    plot = Plot().circle([1, 2], [3, 4]).title("offline")
    page = plot.to_html()
    assert page.startswith("<!DOCTYPE html>") and "<title>offline</title>" in page
    assert not re.search(r"<script[^>]*\bsrc=", page), "scripts must be inline"
    assert "cdn.bokeh.org" not in page
    assert "Bokeh" in page and len(page) > 500_000  # bokeh's JS is in the page
    out = tmp_path / "out.html"
    assert plot.save(out) is plot
    saved = out.read_text()
    assert saved.startswith("<!DOCTYPE html>") and "<title>offline</title>" in saved


def test_draw_and_redraw_in_a_kernel():
    sent = []
    display.set_publisher(lambda msg_type, content: sent.append((msg_type, content)))
    try:
        plot = Plot().circle([1], [1]).draw()
        plot.circle([2], [2], "green").redraw()
    finally:
        display.set_publisher(None)
    (first_type, first), (second_type, second) = sent
    assert (first_type, second_type) == ("display_data", "update_display_data")
    assert first["transient"] == second["transient"]
    assert first["data"]["text/html"].startswith("<iframe srcdoc=")
    assert second["data"]["text/plain"] == "<itorch.Plot: circle, circle>"


def test_redraw_before_draw_draws(tmp_path, capsys):
    display.set_output_dir(tmp_path)
    Plot().line([0, 1], [0, 1]).redraw()
    assert "itorch.Plot: wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Plot().circle([1, 2], [1]),
            "Plot.circle: the coordinates must have the same length; x has 2, y has 1",
        ),
        (lambda: Plot().line([1], [1], "bleu"), "Plot.line: unknown colour 'bleu'"),
        (lambda: Plot().segment([1], [1], ["a"], [2]), "Plot.segment: x1 must be numbers"),
        (lambda: Plot().quiver(np.ones(3), np.ones(3)), "u and v must be 2-D arrays of the same"),
        (lambda: Plot().histogram([1, 2], bins=0), "bins must be a positive integer, got 0"),
        (lambda: Plot().histogram([1, 2], min=3, max=1), r"min \(3.0\) is larger than max"),
        (lambda: Plot().gscatter([1, 2], [1, 2], [0]), "labels has 1 values but x and y have 2"),
        (lambda: Plot().text([1, 2], [1, 2], ["a"]), "got 1 labels for 2 points"),
        (lambda: Plot().hover_tool(["x"]), r"expected \(label, field\) pairs"),
        (lambda: Plot().draw(), "nothing to draw; add a glyph first"),
        (lambda: Plot().line([1], [1]).save("plot.png"), "expected a path ending in .html"),
    ],
)
def test_bad_input_is_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
