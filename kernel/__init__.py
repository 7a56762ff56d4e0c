"""kernel: the `itorch` Jupyter kernel over `trepl.Evaluator`.

    kernel.kernel      ItorchKernel (ipykernel wrapper kernel) and `launch`
    kernel.itorch      the `itorch` API users call: image, html, audio, video, Plot
    kernel.display     display functions and HTML reprs      kernel.plot   itorch.Plot on bokeh
    kernel.kernelspec  kernel.json and its install           kernel.cli    the `itorch` command

`from kernel import itorch` stays light (no ipykernel import), so `th` and scripts can use it;
`ItorchKernel` is imported from `kernel.kernel` on first access.
"""

from typing import Any

__all__ = ["ItorchKernel"]


def __getattr__(name: str) -> Any:
    # PEP 562: importing ipykernel costs ~0.5 s, so only the kernel process pays for it.
    if name == "ItorchKernel":
        from kernel.kernel import ItorchKernel

        return ItorchKernel
    raise AttributeError(f"module 'kernel' has no attribute {name!r}")
