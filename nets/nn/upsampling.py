"""Upsampling layers (torch/nn doc/convolution.md): SpatialUpSamplingNearest and
SpatialUpSamplingBilinear."""

from __future__ import annotations

from typing import Any

from .._errors import ModuleError
from .._shape import int_arg, spatial_batch, unbatch
from . import functional as F  # noqa: N812
from .module import Module


class SpatialUpSamplingNearest(Module):
    """nn.SpatialUpSamplingNearest(scale)

    Enlarges each plane of a CHW sample or NCHW batch ``scale`` times in height and width by
    repeating every pixel: ``out[c, y, x] = in[c, y // scale, x // scale]``.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale_factor = int_arg(self, "scale", "the integer upsampling factor", scale)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        return (*inShape[:-2], inShape[-2] * self.scale_factor, inShape[-1] * self.scale_factor)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        self.output = unbatch(F.upsample_nearest2d(x, self.scale_factor), batched)
        return self.output


class SpatialUpSamplingBilinear(Module):
    """nn.SpatialUpSamplingBilinear(scale_factor) or
    nn.SpatialUpSamplingBilinear({'oheight': oH, 'owidth': oW})

    Bilinear interpolation of each plane of a CHW sample or NCHW batch to ``(H*scale_factor,
    W*scale_factor)``, or to the given size, the corners aligned as in Torch7: output row ``o``
    reads input row ``o*(H-1)/(oH-1)``, between its two neighbours. Torch7's table argument is
    a dict here; ``owidth=``/``oheight=`` keywords do the same.
    """

    def __init__(
        self, params: Any = None, *, owidth: int | None = None, oheight: int | None = None
    ) -> None:
        super().__init__()
        if isinstance(params, dict):
            unknown = set(params) - {"owidth", "oheight"}
            if unknown:
                raise ModuleError(
                    "nn.SpatialUpSamplingBilinear",
                    f"expected a table with keys 'owidth' and 'oheight', got keys {sorted(params)}",
                )
            owidth, oheight = params.get("owidth"), params.get("oheight")
            params = None
        self.scale_factor = self.owidth = self.oheight = None
        if params is not None:
            if owidth is not None or oheight is not None:
                raise ModuleError(
                    "nn.SpatialUpSamplingBilinear",
                    "expected either a scale factor or an output size, got both",
                )
            self.scale_factor = int_arg(
                self, "scale_factor", "the integer upsampling factor", params
            )
        else:
            self.owidth = int_arg(self, "owidth", "the output width", owidth)
            self.oheight = int_arg(self, "oheight", "the output height", oheight)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        if self.scale_factor is None:
            return (*inShape[:-2], self.oheight, self.owidth)
        return (*inShape[:-2], inShape[-2] * self.scale_factor, inShape[-1] * self.scale_factor)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        y = F.upsample_bilinear2d(x, self.outputShape(x.shape)[2:])
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        if self.scale_factor is not None:
            return f"nn.SpatialUpSamplingBilinear({self.scale_factor})"
        return f"nn.SpatialUpSamplingBilinear({self.oheight}, {self.owidth})"
