"""display.py in-process: collages, html windows, media, HTML reprs; with and without a kernel.

"In a kernel" here means a publisher is registered, exactly what ItorchKernel does; the
publisher records the (msg_type, content) pairs the kernel would send on iopub.
"""

import base64
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kernel import display


@pytest.fixture
def published():
    sent = []
    display.set_publisher(lambda msg_type, content: sent.append((msg_type, content)))
    yield sent
    display.set_publisher(None)


@pytest.fixture
def outdir(tmp_path):
    previous = display._output_dir
    display.set_output_dir(tmp_path / "itorch-out")
    yield tmp_path / "itorch-out"
    display._output_dir = previous


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((3, 5, 7), (5, 7, 3)),  # CHW
        ((5, 7, 3), (5, 7, 3)),  # HWC
        ((5, 7), (5, 7, 1)),  # gray
        ((1, 5, 7), (5, 7, 1)),  # gray CHW
    ],
)
def test_single_image_layouts(shape, expected):
    pixels = display.collage(np.random.rand(*shape), scale=1)
    assert pixels.shape == expected and pixels.dtype == np.uint8


def test_batch_becomes_a_grid_with_padding():
    pixels = display.collage(np.random.rand(5, 3, 4, 6), padding=2, scale=1)
    # 5 images -> 3 columns x 2 rows of 4x6 tiles with 2 px gaps around each
    assert pixels.shape == (2 * (4 + 2) + 2, 3 * (6 + 2) + 2, 3)
    assert display.collage(np.random.rand(5, 3, 4, 6), nrow=5, scale=1).shape[1] == 5 * 8 + 2


def test_conv_filters_as_gray_batch_and_lists_mix():
    assert display.collage(np.random.rand(6, 9, 9), scale=1).shape[2] == 1
    mixed = display.collage([np.random.rand(8, 8), np.random.rand(3, 8, 8)], scale=1)
    assert mixed.shape[2] == 3


def test_normalisation_global_or_each():
    dim, bright = np.zeros((1, 2, 2)), np.ones((1, 2, 2))
    dim[0, 0, 0], bright[0, 0, 0] = 0.5, 2.0
    together = display.collage([dim, bright], padding=0, scale=1, nrow=2)[:, :, 0]
    each = display.collage([dim, bright], padding=0, scale=1, nrow=2, scale_each=True)[:, :, 0]
    assert together.max() == 255 and together[:, :2].max() == 64  # 0.5 of the range 0..2
    assert each[:, :2].max() == 255  # each image stretched to its own range


def test_small_images_are_zoomed_by_default():
    assert display.collage(np.random.rand(8, 8)).shape == (64, 64, 1)
    assert display.collage(np.random.rand(8, 8), scale=2).shape == (16, 16, 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            np.zeros((2, 3, 4, 5, 6)),
            r"expected one image \(2-D or 3-D\).*got shape \(2, 3, 4, 5, 6\)",
        ),
        (np.zeros(7), r"got shape \(7,\)"),
        ([], "got an empty list"),
        ("cat.png", "expected an array of numbers, got str"),
        (np.full((4, 4), np.nan), "NaN or infinity"),
    ],
)
def test_bad_images_are_named(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        display.collage(value)


def test_bad_scale():
    with pytest.raises(ValueError, match="scale must be a positive integer zoom factor, got 0.5"):
        display.collage(np.zeros((4, 4)), scale=0.5)


def test_image_in_kernel_publishes_png(published):
    assert display.image(np.random.rand(3, 16, 16), scale=1) is None
    [(msg_type, content)] = published
    assert msg_type == "display_data"
    png = Image.open(io.BytesIO(base64.b64decode(content["data"]["image/png"])))
    assert png.size == (16, 16) and png.mode == "RGB"
    assert content["metadata"]["image/png"] == {"width": 16, "height": 16}


def test_image_outside_kernel_writes_a_file(outdir, capsys):
    display.image(np.random.rand(2, 8, 8))
    printed = capsys.readouterr().out.strip()
    path = Path(printed.removeprefix("itorch.image: wrote "))
    assert path.parent == outdir and Image.open(path).format == "PNG"


def test_html_window_updates_in_place(published):
    window = display.html("<p>one</p>")
    again = display.html("<p>two</p>", window)
    assert again == window
    (first_type, first), (second_type, second) = published
    assert (first_type, second_type) == ("display_data", "update_display_data")
    assert first["transient"]["display_id"] == second["transient"]["display_id"] == window
    assert second["data"]["text/html"] == "<p>two</p>"


def test_html_outside_kernel_rewrites_one_file(outdir, capsys):
    window = display.html("<p>one</p>")
    display.html("<p>two</p>", window)
    files = list(outdir.glob("*.html"))
    assert len(files) == 1 and files[0].read_text() == "<p>two</p>"
    assert capsys.readouterr().out.count(str(files[0])) == 2


def test_html_rejects_non_strings():
    with pytest.raises(TypeError, match="expected an HTML string, got int"):
        display.html(3)


def test_audio_and_video_embed_the_file(tmp_path, published):
    clip = tmp_path / "beep.wav"
    clip.write_bytes(b"RIFF0000WAVEfmt ")
    display.audio(clip)
    display.video(_touch(tmp_path / "clip.mp4", b"\x00\x00\x00\x18ftypmp42"))
    audio_html = published[0][1]["data"]["text/html"]
    assert audio_html.startswith("<audio controls>")
    assert base64.b64encode(clip.read_bytes()).decode() in audio_html
    assert 'type="audio/wav"' in audio_html
    assert published[1][1]["data"]["text/html"].startswith("<video controls>")


def _touch(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_media_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="itorch.audio: no such file: .*missing.mp3"):
        display.audio(tmp_path / "missing.mp3")
    with pytest.raises(ValueError, match=r"cannot play 'notes.txt'; expected one of \.aac"):
        display.audio(_touch(tmp_path / "notes.txt", b"x"))


def test_media_outside_kernel_prints_path(tmp_path, capsys):
    display.video(_touch(tmp_path / "clip.webm", b"x"))
    assert f"itorch.video: {tmp_path / 'clip.webm'} (video/webm" in capsys.readouterr().out


def test_clear_output(published):
    display.clear_output(wait=True)
    assert published == [("clear_output", {"wait": True})]


def test_array_html_repr_table_and_footer():
    markup = display.html_repr(np.arange(12.0).reshape(3, 4))
    assert markup.count("<tr>") == 3 and "<td>11.</td>" in markup  # numpy's format, as th
    assert "[numpy.ndarray of size 3x4, float64, 96 B]" in markup
    big = display.html_repr(np.zeros((50, 50)))
    assert "&hellip;" in big and "&vellip;" in big
    assert "showing [0, :, :]" in display.html_repr(np.zeros((2, 3, 4)))
    assert display.html_repr("text") is None


def test_jax_array_and_module_html_repr():
    import jax.numpy as jnp

    assert "[jax.Array of size 2, float32, 8 B]" in display.html_repr(jnp.ones(2))
    scalar = display.html_repr(jnp.float32(3) * jnp.ones(()))
    assert "<td>3.</td>" in scalar and "[jax.Array of size (), float32, 4 B]" in scalar
    from nets import nn

    model = nn.Sequential().add(nn.Linear(3, 2)).add(nn.Tanh())
    markup = display.html_repr(model)
    assert markup.startswith('<div class="itorch-module"><pre>nn.Sequential')
    assert "<td><b>8</b></td>" in markup  # 3*2 weights + 2 biases


def test_mime_bundle_uses_repr_hooks():
    class Rich:
        def _repr_html_(self):
            return "<i>rich</i>"

        def _repr_png_(self):
            return b"\x89PNG"

    bundle = display.mime_bundle(Rich(), "Rich()")
    assert bundle == {
        "text/html": "<i>rich</i>",
        "image/png": base64.b64encode(b"\x89PNG").decode(),
        "text/plain": "Rich()",
    }
    assert display.mime_bundle(Rich, "Rich") == {"text/plain": "Rich"}  # the class, not a view


def test_publish_without_kernel_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no kernel is running in this process"):
        display.publish({"text/plain": "x"})


def test_itorch_in_a_plain_script(tmp_path):
    """`from kernel import itorch` works in scripts: files are written and paths printed."""
    script = (
        "import numpy as np\n"
        "from kernel import itorch\n"
        f"itorch.set_output_dir({str(tmp_path)!r})\n"
        "itorch.image(np.random.rand(3, 8, 8))\n"
        "itorch.Plot().line([1, 2], [3, 4]).draw()\n"
        "import sys; assert 'ipykernel' not in sys.modules, 'itorch must stay light'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"itorch.image: wrote {tmp_path / 'image-1.png'}"
    assert lines[1].startswith(f"itorch.Plot: wrote {tmp_path}/plot-")
    assert Path(lines[1].split("wrote ")[1]).read_text().startswith("<!DOCTYPE html>")


def test_plot_is_reachable_from_the_display_module():
    from kernel.plot import Plot

    assert display.Plot is Plot
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        display.nope  # noqa: B018


def test_matplotlib_figure_is_a_png():
    """Only where matplotlib is installed (it is optional: nothing in trepl needs it)."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [1, 0])
    data = display.mime_bundle(figure, "<Figure>")
    assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("signature", ["self, include, exclude", "self"])
def test_mimebundle_hook_is_called_as_ipython_calls_it(signature):
    namespace: dict = {}
    exec(
        f"class Chart:\n    def _repr_mimebundle_({signature}):\n"
        "        return {'application/json': {'x': 1}}",
        namespace,
    )
    data = display.mime_bundle(namespace["Chart"](), "<Chart>")
    assert data["application/json"] == {"x": 1} and data["text/plain"] == "<Chart>"
