"""Upsampling layers (torch/nn doc/convolution.md): SpatialUpSamplingNearest,
SpatialUpSamplingBilinear, UpSampling (2-D and 3-D) and PixelShuffle."""

from __future__ import annotations

from typing import Any

from .._errors import ModuleError, shape_str
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


class UpSampling(Module):
    """nn.UpSampling(scale_factor, [mode='nearest']) or
    nn.UpSampling({'oheight': oH, 'owidth': oW, ['odepth': oD]}, 'linear')

    Upsamples an NCHW batch (bilinear) or an NCDHW batch (trilinear): ``mode='nearest'``
    repeats each element `scale_factor` times along every spatial axis; ``'linear'`` (or
    ``'bilinear'``/``'trilinear'``) interpolates with corners aligned to ``size * scale_factor``
    or to the given output sizes (a size table needs linear mode, as in Torch7; any other mode
    string means nearest, as in Torch7).
    """

    def __init__(self, params: Any, mode: str | None = None) -> None:
        super().__init__()
        self.mode = "linear" if mode in ("linear", "bilinear", "trilinear") else "nearest"
        self.scale_factor = self.odepth = self.oheight = self.owidth = None
        if isinstance(params, dict):
            if self.mode == "nearest":
                raise ModuleError("nn.UpSampling", "nearest upsampling requires a scale_factor")
            unknown = set(params) - {"odepth", "oheight", "owidth"}
            if unknown or "oheight" not in params or "owidth" not in params:
                raise ModuleError(
                    "nn.UpSampling",
                    "expected a table with keys 'oheight', 'owidth' and optionally 'odepth', "
                    f"got keys {sorted(params)}",
                )
            self.oheight = int_arg(self, "oheight", "the output height", params["oheight"])
            self.owidth = int_arg(self, "owidth", "the output width", params["owidth"])
            if params.get("odepth") is not None:
                self.odepth = int_arg(self, "odepth", "the output depth", params["odepth"])
        else:
            self.scale_factor = int_arg(self, "scale_factor", "the upsampling factor", params)

    def updateOutput(self, input: Any) -> Any:
        ndim = getattr(input, "ndim", None)
        if ndim not in (4, 5):
            raise ModuleError(
                self._describe(),
                f"expected a 4D (N, C, H, W) or a 5D (N, C, D, H, W) batch, got {shape_str(input)}",
            )
        if self.scale_factor is not None:
            out = tuple(s * self.scale_factor for s in input.shape[2:])
        elif ndim == 5 and self.odepth is None:
            raise ModuleError(
                self._describe(), "expected an odepth for a volumetric (5D) input, got none"
            )
        else:
            out = ((self.odepth,) if ndim == 5 else ()) + (self.oheight, self.owidth)
        if self.mode == "nearest":
            self.output = F.upsample_nearest_nd(input, self.scale_factor)
        else:
            self.output = F.upsample_linear_nd(input, out)
        return self.output

    def __repr__(self) -> str:
        if self.scale_factor is not None:
            return f"nn.UpSampling({self.scale_factor}x, {self.mode})"
        depth = f"{self.odepth}x" if self.odepth is not None else ""
        return f"nn.UpSampling({depth}{self.oheight}x{self.owidth}, {self.mode})"


class PixelShuffle(Module):
    """nn.PixelShuffle(upscaleFactor): ``(C r^2, H, W) -> (C, H r, W r)`` for a CHW sample or an
    NCHW batch, ``out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]`` (sub-pixel
    convolution's rearrangement, Shi et al., 2016)."""

    def __init__(self, upscaleFactor: int) -> None:
        super().__init__()
        self.upscaleFactor = int_arg(self, "upscaleFactor", "the upscaling factor", upscaleFactor)
        self.upscaleFactorSquared = self.upscaleFactor**2

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input)
        if x.shape[1] % self.upscaleFactorSquared:
            raise ModuleError(
                self._describe(),
                f"expected a number of planes divisible by upscaleFactor^2 = "
                f"{self.upscaleFactorSquared}, got {shape_str(input)}",
            )
        self.output = unbatch(F.pixel_shuffle(x, self.upscaleFactor), batched)
        return self.output
