"""Rich display: the `itorch` functions (image, html, audio, video) and HTML reprs of values.

Inside an itorch kernel the functions publish Jupyter `display_data` (and `update_display_data`
for `html(s, window_id)`) through the publisher the kernel registers with `set_publisher`. In `th`
or a plain script there is no publisher: `image` and `html` write a file under `output_dir()` and
print its path, so the same code runs everywhere (iTorch's functions failed outside a notebook).
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import mimetypes
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (msg_type, content) -> None; set by the kernel for the duration of the process.
Publisher = Callable[[str, dict], None]
_publisher: Publisher | None = None
_output_dir: Path | None = None
_counter = 0

AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".wav": "audio/wav",
    ".aac": "audio/aac",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
}
VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".ogv": "video/ogg",
    ".webm": "video/webm",
    ".mpeg": "video/mpeg",
    ".mpg": "video/mpeg",
}
MAX_EMBED_BYTES = 50 * 2**20  # audio/video are embedded in the notebook; keep it openable


def set_publisher(publisher: Publisher | None) -> None:
    """Route display messages to `publisher(msg_type, content)` (None: write files instead)."""
    global _publisher
    _publisher = publisher


def in_kernel() -> bool:
    """True when a kernel has registered a publisher (displays go to the notebook)."""
    return _publisher is not None


def output_dir() -> Path:
    """Where `image`/`html`/`Plot.draw` write files outside a kernel (one temp dir per process)."""
    global _output_dir
    if _output_dir is None:
        _output_dir = Path(tempfile.mkdtemp(prefix="itorch-"))
    return _output_dir


def set_output_dir(path: str | Path) -> Path:
    """Write files from `image`/`html`/`Plot.draw` into `path` (created if needed)."""
    global _output_dir
    _output_dir = Path(path)
    _output_dir.mkdir(parents=True, exist_ok=True)
    return _output_dir


def _next_file(prefix: str, suffix: str) -> Path:
    global _counter
    _counter += 1
    return output_dir() / f"{prefix}-{_counter}{suffix}"


def publish(
    data: dict[str, Any],
    metadata: dict | None = None,
    display_id: str | None = None,
    update: bool = False,
) -> None:
    """Send one `display_data` (or `update_display_data`) message through the kernel."""
    if _publisher is None:
        raise RuntimeError("itorch: no kernel is running in this process, so nothing can be shown")
    content: dict[str, Any] = {"data": data, "metadata": metadata or {}, "transient": {}}
    if display_id is not None:
        content["transient"] = {"display_id": display_id}
    _publisher("update_display_data" if update else "display_data", content)


def clear_output(wait: bool = False) -> None:
    """Clear the current cell's output (in a kernel; a no-op elsewhere)."""
    if _publisher is not None:
        _publisher("clear_output", {"wait": wait})


# --------------------------------------------------------------------------------------------
# images


def _as_numpy(x: Any, who: str):
    import numpy as np

    try:
        return np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{who}: expected an array of numbers, got {type(x).__name__}") from err


def _to_hwc(img, who: str):
    """One image (HW, CHW or HWC with 1, 3 or 4 channels) as an HxWxC float array."""
    import numpy as np

    if img.ndim == 2:
        return img[:, :, None]
    if img.ndim == 3:
        chw = img.shape[0] in (1, 3, 4)
        hwc = img.shape[-1] in (1, 3, 4)
        if chw:  # Torch's CHW wins when both readings are possible (e.g. 3x4x3)
            return np.transpose(img, (1, 2, 0))
        if hwc:
            return img
    raise ValueError(
        f"{who}: expected an image of shape HxW, CxHxW or HxWxC with C in (1, 3, 4), "
        f"got shape {tuple(img.shape)}"
    )


def _split_images(x: Any, who: str) -> list:
    """A list/tuple of images, a batch (N,C,H,W / N,H,W,C / N,H,W) or one image -> list of HWC."""
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"{who}: got an empty list; expected at least one image")
        return [_to_hwc(_as_numpy(item, who), who) for item in x]
    arr = _as_numpy(x, who)
    if arr.ndim == 4:
        return [_to_hwc(item, who) for item in arr]
    if arr.ndim == 3 and arr.shape[0] not in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        return [item[:, :, None] for item in arr]  # N gray HxW images (e.g. conv filters)
    if arr.ndim in (2, 3):
        return [_to_hwc(arr, who)]
    raise ValueError(
        f"{who}: expected one image (2-D or 3-D), a batch (4-D) or a list of images, "
        f"got shape {tuple(arr.shape)}"
    )


def _normalise(images: list, scale_each: bool) -> list:
    """Map values to [0, 1]: over all images at once (Torch's default) or each on its own."""
    import numpy as np

    def stretch(a, lo, hi):
        return np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo)

    if scale_each:
        return [stretch(a, float(a.min()), float(a.max())) for a in images]
    lo = min(float(a.min()) for a in images)
    hi = max(float(a.max()) for a in images)
    return [stretch(a, lo, hi) for a in images]


def collage(
    x: Any,
    nrow: int | None = None,
    padding: int = 2,
    scale: int | None = None,
    scale_each: bool = False,
    who: str = "itorch.image",
):
    """Tile one or many images into one uint8 HxWx(1|3|4) array (Torch's image.toDisplayTensor).

    Args:
        x: an image, a batch or a list of images (CHW or HWC; HW for gray).
        nrow: images per row (default: about a square grid).
        padding: pixels between tiles.
        scale: integer zoom (nearest neighbour); None zooms small images up to about 64 px.
        scale_each: normalise each image on its own instead of over the whole set.
    """
    import numpy as np

    images = _split_images(x, who)
    channels = {a.shape[2] for a in images}
    if len(channels) > 1:
        # mix of gray and colour: show all as colour
        images = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a[:, :, :3] for a in images]
    if any(not np.isfinite(a).all() for a in images):
        raise ValueError(f"{who}: the images contain NaN or infinity; nothing sensible to show")
    images = _normalise(images, scale_each)
    h = max(a.shape[0] for a in images)
    w = max(a.shape[1] for a in images)
    if scale is None:
        scale = max(1, min(8, 64 // max(h, w)))
    if scale < 1 or int(scale) != scale:
        raise ValueError(f"{who}: scale must be a positive integer zoom factor, got {scale!r}")
    scale = int(scale)
    n = len(images)
    ncol = nrow or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncol))
    c = images[0].shape[2]
    th, tw = h * scale, w * scale
    grid = np.zeros((nrows * (th + padding) + padding, ncol * (tw + padding) + padding, c))
    for i, img in enumerate(images):
        img = np.kron(img, np.ones((scale, scale, 1)))
        r, col = divmod(i, ncol)
        y, xx = padding + r * (th + padding), padding + col * (tw + padding)
        grid[y : y + img.shape[0], xx : xx + img.shape[1]] = img
    if n == 1:
        grid = grid[padding:-padding, padding:-padding]
    return (grid * 255 + 0.5).clip(0, 255).astype(np.uint8)


def png_bytes(pixels) -> bytes:
    """Encode a uint8 HxWxC array (C in 1, 3, 4) as PNG."""
    from PIL import Image

    mode = {1: "L", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def image(
    x: Any,
    nrow: int | None = None,
    padding: int = 2,
    scale: int | None = None,
    scale_each: bool = False,
) -> None:
    """itorch.image(img | batch | list, [nrow], [padding], [scale], [scale_each]).

    Shows one image, a batch or a list of images as one PNG collage, values normalised to the
    displayable range. In a kernel it appears in the notebook; on a terminal it is drawn in
    place (kitty or iTerm2 graphics, else Unicode half blocks: `kernel.terminal_image`);
    elsewhere it is written to a PNG file whose path is printed.

    Example:
        >>> itorch.image(model.modules[0].weight)          # doctest: +SKIP
    """
    pixels = collage(x, nrow=nrow, padding=padding, scale=scale, scale_each=scale_each)
    png = png_bytes(pixels)
    if _publisher is None:
        from kernel import terminal_image

        # Half blocks show two pixels a character: small images at their own size, unzoomed.
        cells = pixels if scale else collage(x, nrow, padding, 1, scale_each)
        if terminal_image.draw(png, cells, sys.stdout):
            return None
        path = _next_file("image", ".png")
        path.write_bytes(png)
        print(f"itorch.image: wrote {path}")
        return None
    height, width = pixels.shape[:2]
    publish(
        {
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": f"<itorch.image {width}x{height} PNG>",
        },
        metadata={"image/png": {"width": width, "height": height}},
    )
    return None


# --------------------------------------------------------------------------------------------
# html, audio, video

_windows: set[str] = set()


def html(source: str, window_id: str | None = None) -> str:
    """[window_id] = itorch.html(html_string, [window_id]).

    Shows raw HTML and returns a window id; passing that id back replaces the content in place
    (a Jupyter display id). Outside a kernel the HTML goes to a file (one per window) whose path
    is printed.
    """
    if not isinstance(source, str):
        raise TypeError(f"itorch.html: expected an HTML string, got {type(source).__name__}")
    if window_id is not None and not isinstance(window_id, str):
        raise TypeError(
            f"itorch.html: window_id must be a string from an earlier call, "
            f"got {type(window_id).__name__}"
        )
    update = window_id is not None and window_id in _windows
    window_id = window_id or f"itorch-{uuid.uuid4().hex[:12]}"
    _windows.add(window_id)
    if _publisher is None:
        path = output_dir() / f"{window_id}.html"
        path.write_text(source, encoding="utf-8")
        print(f"itorch.html: wrote {path}")
        return window_id
    publish(
        {"text/html": source, "text/plain": f"<itorch.html {window_id}>"},
        display_id=window_id,
        update=update,
    )
    return window_id


def _media(path: str | Path, kinds: dict[str, str], tag: str, who: str) -> None:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{who}: no such file: {str(path)!r}")
    mime = kinds.get(path.suffix.lower())
    if mime is None:
        raise ValueError(
            f"{who}: cannot play {path.name!r}; expected one of {', '.join(sorted(kinds))}"
        )
    size = path.stat().st_size
    if size > MAX_EMBED_BYTES:
        raise ValueError(
            f"{who}: {path.name!r} is {size / 2**20:.0f} MiB; files up to "
            f"{MAX_EMBED_BYTES // 2**20} MiB are embedded in the notebook"
        )
    if _publisher is None:
        print(f"{who}: {path.resolve()} ({mime}; open it in a player)")
        return None
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    markup = (
        f'<{tag} controls><source src="data:{mime};base64,{payload}" type="{mime}">'
        f"Your browser cannot play {html_lib.escape(path.name)}.</{tag}>"
    )
    publish({"text/html": markup, "text/plain": f"<{who} {path.name}>"})
    return None


def audio(path: str | Path) -> None:
    """itorch.audio(path): an audio player for an mp3/ogg/wav/aac/m4a/flac file."""
    return _media(path, AUDIO_TYPES, "audio", "itorch.audio")


def video(path: str | Path) -> None:
    """itorch.video(path): a video player for an mp4/ogv/webm/mpeg file."""
    return _media(path, VIDEO_TYPES, "video", "itorch.video")


def guess_mime(path: str | Path) -> str | None:
    """The MIME type of a media file by its extension (None when unknown)."""
    return {**AUDIO_TYPES, **VIDEO_TYPES}.get(Path(path).suffix.lower()) or mimetypes.guess_type(
        str(path)
    )[0]


# --------------------------------------------------------------------------------------------
# HTML reprs for execute_result

MAX_TABLE_ROWS = 12
MAX_TABLE_COLS = 12


def _is_array(value: Any) -> bool:
    if "numpy" in sys.modules:
        import numpy as np

        if isinstance(value, np.ndarray):
            return True
    if "jax" in sys.modules:
        import jax

        return isinstance(value, jax.Array)
    return False


def _is_module(value: Any) -> bool:
    if "nets.nn" not in sys.modules:
        return False
    from nets import nn

    return isinstance(value, nn.Module)


def _cell_texts(block: Any) -> list[list[str]]:
    """The text of each element of a 2-D block, as `th` prints it (numpy's uniform format)."""
    import numpy as np

    if block.dtype.kind in "biufc" and block.size:
        text = np.array2string(block, max_line_width=sys.maxsize, threshold=sys.maxsize)
        rows = [line.strip().strip("[]").split() for line in text.split("\n")]
        if [len(r) for r in rows] == [block.shape[1]] * block.shape[0]:
            return rows
    return [[str(v) for v in row] for row in block.tolist()]


def array_html(value: Any) -> str:
    """The same as `th` prints, as a table: a corner of the values, then `th`'s footer."""
    import numpy as np

    from trepl.printer import array_footer

    arr = np.asarray(value)
    footer = array_footer(value)[1:-1]
    if arr.ndim > 2:
        # the first 2-D slice, named like Torch's `(1,1,.,.)` headings
        index = (0,) * (arr.ndim - 2)
        footer += f"; showing [{', '.join(map(str, index))}, :, :]"
        arr = arr[index]
    table = np.atleast_2d(arr)
    texts = _cell_texts(table[:MAX_TABLE_ROWS, :MAX_TABLE_COLS])
    rows = []
    for text_row in texts:
        cells = "".join(f"<td>{html_lib.escape(t)}</td>" for t in text_row)
        if table.shape[1] > MAX_TABLE_COLS:
            cells += "<td>&hellip;</td>"
        rows.append(f"<tr>{cells}</tr>")
    if table.shape[0] > MAX_TABLE_ROWS:
        rows.append("<tr><td>&vellip;</td></tr>")
    return (
        '<div class="itorch-array"><table style="font-family:monospace">'
        + "".join(rows)
        + f'</table><div style="color:#666;font-size:smaller">[{footer}]</div></div>'
    )


def module_html(module: Any) -> str:
    """The Torch-style module tree, plus a table of its parameters (name, shape, count)."""
    rows = []
    total = 0
    try:
        named = list(_named_parameters(module))
    except Exception:  # a half-built user module: still show its tree
        named = []
    for name, shape, count in named:
        total += count
        rows.append(f"<tr><td>{html_lib.escape(name)}</td><td>{shape}</td><td>{count:,}</td></tr>")
    table = ""
    if rows:
        table = (
            '<table style="font-family:monospace"><tr><th>parameter</th><th>shape</th>'
            f"<th>count</th></tr>{''.join(rows)}<tr><td><b>total</b></td><td></td>"
            f"<td><b>{total:,}</b></td></tr></table>"
        )
    return f'<div class="itorch-module"><pre>{html_lib.escape(repr(module))}</pre>{table}</div>'


def _named_parameters(module: Any):
    """(name, shape, count) for each parameter array the module exposes."""
    import numpy as np

    split = getattr(module, "split", None)  # nets.nn.Module: flat {path: array} dicts
    if callable(split):
        items = list(split()[0].items())
    else:
        params = module.parameters()
        weights = params[0] if isinstance(params, tuple) else params
        items = [(f"[{i}]", p) for i, p in enumerate(weights or [])]
    for name, p in items:
        shape = tuple(np.shape(p))
        yield str(name), shape, int(np.prod(shape))


def html_repr(value: Any) -> str | None:
    """The HTML view of arrays and nets modules (None for other values)."""
    if _is_array(value):
        return array_html(value)
    if _is_module(value):
        return module_html(value)
    return None


_REPR_METHODS = {
    "text/html": "_repr_html_",
    "image/png": "_repr_png_",
    "image/svg+xml": "_repr_svg_",
    "text/markdown": "_repr_markdown_",
    "text/latex": "_repr_latex_",
}


def mime_bundle(value: Any, text: str) -> dict[str, Any]:
    """The execute_result data for `value`: `text` as text/plain plus any richer views."""
    data: dict[str, Any] = {}
    rich = getattr(value, "_repr_mimebundle_", None)
    if callable(rich) and not isinstance(value, type):
        try:
            try:
                bundle = rich(include=None, exclude=None)  # as IPython calls it
            except TypeError:
                bundle = rich()
            data.update(bundle[0] if isinstance(bundle, tuple) else bundle)
        except Exception:  # a broken repr hook must not lose the text view
            pass
    for mime, method in _REPR_METHODS.items():
        hook = getattr(value, method, None)
        if mime in data or not callable(hook) or isinstance(value, type):
            continue
        try:
            shown = hook()
        except Exception:
            continue
        if shown is None:
            continue
        if isinstance(shown, bytes):
            shown = base64.b64encode(shown).decode("ascii")
        data[mime] = shown
    if "image/png" not in data:
        png = _figure_png(value)
        if png is not None:
            data["image/png"] = base64.b64encode(png).decode("ascii")
    if "text/html" not in data:
        markup = html_repr(value)
        if markup is not None:
            data["text/html"] = markup
    data["text/plain"] = text
    return data


# --------------------------------------------------------------------------------------------
# display(): any object with a rich view, as every Jupyter kernel shows it


class DisplayHandle:
    """What `display(obj, display_id=True)` returns: `handle.update(obj)` redraws in place."""

    def __init__(self, display_id: str) -> None:
        self.display_id = display_id

    def __repr__(self) -> str:
        return f"<DisplayHandle display_id={self.display_id}>"

    def display(self, obj: Any, **kwargs: Any) -> None:
        """Show `obj` as a new output that carries this handle's id."""
        display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj: Any, **kwargs: Any) -> None:
        """Replace what this handle's outputs show by `obj`."""
        display(obj, display_id=self.display_id, update=True, **kwargs)


def _text(value: Any) -> str:
    from trepl.printer import render

    return render(value, color=False, width=80)


def display(
    *objs: Any,
    metadata: dict | None = None,
    display_id: str | bool | None = None,
    update: bool = False,
    raw: bool = False,
    clear: bool = False,
    **_ignored: Any,
) -> DisplayHandle | None:
    """display(obj, ...): show each object with its richest view, as Jupyter's display() does.

    Objects with `_repr_html_`, `_repr_png_`, `_repr_svg_`, `_repr_markdown_`, `_repr_latex_`
    or `_repr_mimebundle_` (IPython's HTML, Image, Markdown..., pandas frames), arrays, modules
    and matplotlib figures render in the notebook; the text view is `th`'s. `display_id=True`
    returns a handle whose `update(obj)` redraws the same output. Outside a kernel, the text
    view is printed. IPython's own `display` is this function in an itorch kernel.
    """
    if display_id is True:
        display_id = uuid.uuid4().hex
    if clear:
        clear_output(wait=True)
    for obj in objs:
        if _publisher is None:
            print(_text(obj))
            continue
        data = obj if raw else mime_bundle(obj, _text(obj))
        publish(data, metadata=metadata, display_id=display_id or None, update=update)
    return DisplayHandle(display_id) if display_id else None


def update_display(obj: Any, *, display_id: str, **kwargs: Any) -> None:
    """update_display(obj, display_id=...): redraw the output `display` made with that id."""
    display(obj, display_id=display_id, update=True, **kwargs)


def adopt_ipython_display() -> None:
    """Make IPython's `display`, `update_display` and `clear_output` this module's.

    IPython's versions print `<IPython.core.display.HTML object>` unless an IPython shell
    object runs the process, and the itorch kernel runs none (ipykernel has already imported
    IPython, so this costs nothing). Only the module attributes are replaced: code that does
    `from IPython.display import display` in a cell gets ours.
    """
    for name in ("IPython.core.display_functions", "IPython.core.display", "IPython.display"):
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, ours in (
            ("display", display),
            ("update_display", update_display),
            ("clear_output", clear_output),
        ):
            if hasattr(module, attr):
                setattr(module, attr, ours)


def _figure_png(value: Any) -> bytes | None:
    """A matplotlib figure as PNG (matplotlib is optional: only when it is loaded)."""
    figure = sys.modules.get("matplotlib.figure")
    if figure is None or not isinstance(value, figure.Figure):
        return None
    buffer = io.BytesIO()
    value.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def __getattr__(name: str) -> Any:
    # PEP 562: `kernel.display.Plot`, so code that binds this module as `itorch` still has Plot
    # (kernel.itorch is the full API; plot.py imports this module, hence the late import).
    if name == "Plot":
        from kernel.plot import Plot

        return Plot
    raise AttributeError(f"module 'kernel.display' has no attribute {name!r}")
