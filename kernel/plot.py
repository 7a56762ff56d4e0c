"""itorch.Plot: iTorch's chained plotting API, drawn with bokeh.

    plot = Plot().circle(x1, y1, "red", "hi").circle(x2, y2, "blue", "bye").draw()
    plot.title("Scatter Plot Demo").xaxis("length").yaxis("width").legend(True).redraw()
    plot.save("out.html")

Every method returns the Plot, so calls chain as in iTorch. A Plot only records what to draw;
the bokeh figure is built when it is drawn or saved, so a Plot is cheap until shown. The HTML is a
standalone page with bokeh's scripts inline (no CDN), so it works with no internet connection.
In a kernel `draw()` shows the page in the notebook (in an iframe) and `redraw()` replaces it in
place; elsewhere both write an HTML file and print its path.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from pathlib import Path
from typing import Any

from kernel import display

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]  # fmt: skip


def _check_color(color: str, who: str) -> str:
    from bokeh.colors import named

    if isinstance(color, str) and (_HEX.match(color) or hasattr(named, color.lower())):
        return color
    raise ValueError(
        f"{who}: unknown colour {color!r}; expected a CSS colour name (e.g. 'red') or '#rrggbb'"
    )


def _vector(values: Any, name: str, who: str):
    import numpy as np

    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{who}: {name} must be numbers (a list or array), got {type(values).__name__}"
        ) from err
    return arr.reshape(-1)


def _vectors(who: str, **named: Any) -> dict:
    """Flatten each argument to 1-D and check that they all have the same length."""
    arrays = {name: _vector(v, name, who) for name, v in named.items()}
    sizes = {name: a.size for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in sizes.items())
        raise ValueError(f"{who}: the coordinates must have the same length; {detail}")
    return arrays


class Plot:
    """Plot(): an empty plot; add circle/line/segment/quiver/quad/histogram/gscatter/text glyphs.

    Colours are CSS names or '#rrggbb'; `legend` names the glyph in the legend.
    """

    def __init__(self, width: int = 600, height: int = 400) -> None:
        self._layers: list[tuple[str, dict]] = []
        self._title = ""
        self._xlabel = ""
        self._ylabel = ""
        self._legend = True
        self._tooltips: list[tuple[str, str]] | None = None
        self._size = (int(width), int(height))
        self._window_id: str | None = None
        self._path: Path | None = None

    # ------------------------------------------------------------------ glyphs

    def circle(
        self, x: Any, y: Any, color: str = "blue", legend: str | None = None, size: float = 6
    ) -> Plot:
        """Scatter points (x[i], y[i]) as circles."""
        data = _vectors("Plot.circle", x=x, y=y)
        self._add("circle", data, color, legend, "Plot.circle", size=size)
        return self

    def line(
        self, x: Any, y: Any, color: str = "blue", legend: str | None = None, width: float = 2
    ) -> Plot:
        """A polyline through (x[i], y[i])."""
        data = _vectors("Plot.line", x=x, y=y)
        self._add("line", data, color, legend, "Plot.line", width=width)
        return self

    def segment(
        self, x0: Any, y0: Any, x1: Any, y1: Any, color: str = "blue", legend: str | None = None
    ) -> Plot:
        """Line segments from (x0[i], y0[i]) to (x1[i], y1[i])."""
        data = _vectors("Plot.segment", x0=x0, y0=y0, x1=x1, y1=y1)
        self._add("segment", data, color, legend, "Plot.segment")
        return self

    def quad(
        self, x0: Any, y0: Any, x1: Any, y1: Any, color: str = "blue", legend: str | None = None
    ) -> Plot:
        """Filled rectangles with corners (x0[i], y0[i]) and (x1[i], y1[i])."""
        data = _vectors("Plot.quad", x0=x0, y0=y0, x1=x1, y1=y1)
        self._add("quad", data, color, legend, "Plot.quad")
        return self

    def quiver(
        self, u: Any, v: Any, color: str = "blue", legend: str | None = None, scaling: float = 40
    ) -> Plot:
        """Arrows (u[i,j], v[i,j]) drawn at grid point (j, i) of a 2-D vector field.

        Arrows are scaled together so that, at the default `scaling=40`, the longest one spans
        0.9 grid cells; the length grows in proportion to `scaling`.
        """
        import numpy as np

        u = np.asarray(u, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        if u.ndim != 2 or u.shape != v.shape:
            raise ValueError(
                f"Plot.quiver: u and v must be 2-D arrays of the same shape, got "
                f"{tuple(u.shape)} and {tuple(v.shape)}"
            )
        rows, cols = np.indices(u.shape)
        norm = np.hypot(u, v).max()
        factor = (scaling / 40.0) * 0.9 / norm if norm > 0 else 0.0
        x0, y0 = cols.ravel().astype(float), rows.ravel().astype(float)
        x1, y1 = x0 + factor * u.ravel(), y0 + factor * v.ravel()
        angle = np.arctan2(y1 - y0, x1 - x0)
        data = {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "angle": angle}
        self._add("quiver", data, color, legend, "Plot.quiver")
        return self

    def histogram(
        self,
        x: Any,
        bins: int = 10,
        min: float | None = None,
        max: float | None = None,
        color: str = "blue",
        legend: str | None = None,
    ) -> Plot:
        """A histogram of the values in x with `bins` equal bins over [min, max]."""
        import numpy as np

        values = _vector(x, "x", "Plot.histogram")
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"Plot.histogram: bins must be a positive integer, got {bins!r}")
        if values.size == 0:
            raise ValueError("Plot.histogram: x is empty; expected at least one value")
        lo = float(values.min()) if min is None else float(min)
        hi = float(values.max()) if max is None else float(max)
        if hi < lo:
            raise ValueError(f"Plot.histogram: min ({lo}) is larger than max ({hi})")
        counts, edges = np.histogram(values, bins=bins, range=(lo, hi if hi > lo else lo + 1))
        data = {"x0": edges[:-1], "x1": edges[1:], "y0": np.zeros(bins), "y1": counts}
        self._add("quad", data, color, legend, "Plot.histogram")
        return self

    def gscatter(self, x: Any, y: Any, labels: Any, legend: bool = True, size: float = 6) -> Plot:
        """Grouped scatter: points coloured by their label, one legend entry per label."""
        import numpy as np

        data = _vectors("Plot.gscatter", x=x, y=y)
        labels = np.asarray(labels).reshape(-1)
        if labels.size != data["x"].size:
            raise ValueError(
                f"Plot.gscatter: labels has {labels.size} values but x and y have "
                f"{data['x'].size}; expected one label per point"
            )
        for i, group in enumerate(np.unique(labels)):
            mask = labels == group
            name = str(group.item() if hasattr(group, "item") else group) if legend else None
            self._add(
                "circle",
                {"x": data["x"][mask], "y": data["y"][mask]},
                PALETTE[i % len(PALETTE)],
                name,
                "Plot.gscatter",
                size=size,
            )
        return self

    def text(
        self, x: Any, y: Any, text: Any, color: str = "black", legend: str | None = None
    ) -> Plot:
        """Text labels text[i] at (x[i], y[i]) (a single string is used for every point)."""
        data = _vectors("Plot.text", x=x, y=y)
        words = [text] * data["x"].size if isinstance(text, str) else [str(t) for t in text]
        if len(words) != data["x"].size:
            raise ValueError(
                f"Plot.text: got {len(words)} labels for {data['x'].size} points; "
                "expected one label per point or a single string"
            )
        data["text"] = words
        self._add("text", data, color, legend, "Plot.text")
        return self

    def _add(
        self, kind: str, data: dict, color: str, legend: str | None, who: str, **style: Any
    ) -> None:
        style["color"] = _check_color(color, who)
        style["legend"] = None if legend in (None, "") else str(legend)
        self._layers.append((kind, {"data": data, **style}))

    # ------------------------------------------------------------------ decoration

    def title(self, text: str) -> Plot:
        """Set the title."""
        self._title = str(text)
        return self

    def xaxis(self, label: str) -> Plot:
        """Set the x-axis label."""
        self._xlabel = str(label)
        return self

    def yaxis(self, label: str) -> Plot:
        """Set the y-axis label."""
        self._ylabel = str(label)
        return self

    def legend(self, show: bool = True) -> Plot:
        """Show or hide the legend."""
        self._legend = bool(show)
        return self

    def hover_tool(self, tooltips: Any) -> Plot:
        """Show tooltips on hover: a list of (label, field) pairs, e.g. [('x', '$x'), ('y', '$y')].

        Fields are bokeh's: `$x`/`$y` (cursor), `@x`/`@y` (the glyph's data), `$index`.
        """
        pairs = list(tooltips.items()) if isinstance(tooltips, dict) else list(tooltips)
        if not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
            raise ValueError(
                "Plot.hover_tool: expected (label, field) pairs such as [('x', '$x')], "
                f"got {tooltips!r}"
            )
        self._tooltips = [(str(a), str(b)) for a, b in pairs]
        return self

    # ------------------------------------------------------------------ output

    def figure(self):
        """The bokeh figure for what has been recorded so far."""
        from bokeh.models import ColumnDataSource, HoverTool
        from bokeh.plotting import figure

        fig = figure(
            title=self._title or None,
            width=self._size[0],
            height=self._size[1],
            x_axis_label=self._xlabel or None,
            y_axis_label=self._ylabel or None,
            tools="pan,wheel_zoom,box_zoom,reset,save",
        )
        for kind, spec in self._layers:
            source = ColumnDataSource({k: list(v) for k, v in spec["data"].items()})
            color = spec["color"]
            extra = {"legend_label": spec["legend"]} if spec["legend"] else {}
            if kind == "circle":
                fig.scatter(
                    "x", "y", source=source, size=spec["size"], color=color, alpha=0.8, **extra
                )
            elif kind == "line":
                fig.line("x", "y", source=source, line_width=spec["width"], color=color, **extra)
            elif kind == "segment":
                fig.segment(
                    "x0", "y0", "x1", "y1", source=source, color=color, line_width=2, **extra
                )
            elif kind == "quad":
                fig.quad(
                    left="x0",
                    right="x1",
                    bottom="y0",
                    top="y1",
                    source=source,
                    fill_color=color,
                    line_color="white",
                    alpha=0.8,
                    **extra,
                )
            elif kind == "quiver":
                fig.segment(
                    "x0", "y0", "x1", "y1", source=source, color=color, line_width=2, **extra
                )
                fig.scatter(
                    "x1",
                    "y1",
                    source=source,
                    marker="triangle",
                    angle="angle",
                    angle_units="rad",
                    size=7,
                    color=color,
                )
            elif kind == "text":
                fig.text("x", "y", text="text", source=source, text_color=color, **extra)
        if self._tooltips:
            fig.add_tools(HoverTool(tooltips=self._tooltips))
        if fig.legend:
            fig.legend.visible = self._legend
            fig.legend.click_policy = "hide"
        return fig

    def to_html(self) -> str:
        """A standalone HTML page of the plot with bokeh's scripts inline (works offline)."""
        from bokeh.embed import file_html
        from bokeh.resources import INLINE

        return file_html(self.figure(), INLINE, title=self._title or "itorch.Plot")

    toHTML = to_html  # iTorch's name  # noqa: N815

    def save(self, path: str | Path) -> Plot:
        """Write the plot as a standalone HTML file (scripts inline)."""
        path = Path(path).expanduser()
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"Plot.save: expected a path ending in .html, got {str(path)!r}")
        path.write_text(self.to_html(), encoding="utf-8")
        return self

    def _iframe(self) -> str:
        width, height = self._size
        doc = html_lib.escape(self.to_html(), quote=True)
        return (
            f'<iframe srcdoc="{doc}" style="border:0;width:{width + 40}px;'
            f'height:{height + 40}px" title="{html_lib.escape(self._title or "itorch.Plot")}">'
            "</iframe>"
        )

    def draw(self) -> Plot:
        """Show the plot: in the notebook (in a kernel) or in a new HTML file (path printed)."""
        if not self._layers:
            raise ValueError("Plot.draw: nothing to draw; add a glyph first (e.g. .line(x, y))")
        if display.in_kernel():
            self._window_id = f"itorch-plot-{uuid.uuid4().hex[:12]}"
            display.publish(self._bundle(), display_id=self._window_id)
        else:
            self._path = display.output_dir() / f"plot-{uuid.uuid4().hex[:8]}.html"
            self.save(self._path)
            print(f"itorch.Plot: wrote {self._path}")
        return self

    def redraw(self) -> Plot:
        """Replace the drawn plot with its current state (draws it if it was never drawn)."""
        if display.in_kernel() and self._window_id is not None:
            display.publish(self._bundle(), display_id=self._window_id, update=True)
        elif not display.in_kernel() and self._path is not None:
            self.save(self._path)
            print(f"itorch.Plot: updated {self._path}")
        else:
            self.draw()
        return self

    def _bundle(self) -> dict[str, str]:
        return {"text/html": self._iframe(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        kinds = ", ".join(kind for kind, _ in self._layers) or "empty"
        title = f" {self._title!r}" if self._title else ""
        return f"<itorch.Plot{title}: {kinds}>"
