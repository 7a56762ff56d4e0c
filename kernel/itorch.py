"""The `itorch` module: what `itorch.<name>` means in a kernel cell, in `th` and in scripts.

from kernel import itorch
itorch.image(batch); wid = itorch.html("<b>0%</b>"); itorch.html("<b>100%</b>", wid)
itorch.Plot().line(x, y, "red", "loss").title("training").draw()
"""

from kernel.display import audio as audio
from kernel.display import clear_output as clear_output
from kernel.display import display as display
from kernel.display import html as html
from kernel.display import image as image
from kernel.display import in_kernel as in_kernel
from kernel.display import output_dir as output_dir
from kernel.display import set_output_dir as set_output_dir
from kernel.display import video as video
from kernel.plot import Plot as Plot

__all__ = [
    "Plot",
    "audio",
    "clear_output",
    "display",
    "html",
    "image",
    "in_kernel",
    "output_dir",
    "set_output_dir",
    "video",
]
