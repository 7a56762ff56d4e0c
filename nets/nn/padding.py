"""Edge padding layers (torch/nn doc/convolution.md): SpatialReflectionPadding,
SpatialReplicationPadding and VolumetricReplicationPadding. (SpatialZeroPadding, the
zero-filled one, is in `simple`.)"""

from __future__ import annotations

from typing import Any

from .._errors import ModuleError, shape_str
from .._shape import check_output_size, int_arg, spatial_batch, unbatch, volumetric_batch
from . import functional as F  # noqa: N812
from .module import Module, _type_name


class _EdgePadding(Module):
    """Torch7's four amounts, each defaulting to ``pad_l``; a negative amount crops."""

    def __init__(
        self,
        pad_l: int,
        pad_r: int | None = None,
        pad_t: int | None = None,
        pad_b: int | None = None,
    ) -> None:
        super().__init__()
        meaning = "the columns or rows added on the {} (negative crops)"
        self.pad_l = int_arg(self, "pad_l", meaning.format("left"), pad_l, None)
        pad_r, pad_t, pad_b = (self.pad_l if v is None else v for v in (pad_r, pad_t, pad_b))
        self.pad_r = int_arg(self, "pad_r", meaning.format("right"), pad_r, None)
        self.pad_t = int_arg(self, "pad_t", meaning.format("top"), pad_t, None)
        self.pad_b = int_arg(self, "pad_b", meaning.format("bottom"), pad_b, None)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = inShape[-2] + self.pad_t + self.pad_b
        w = inShape[-1] + self.pad_l + self.pad_r
        return (*inShape[:-2], h, w)

    def _batch(self, input: Any) -> tuple[Any, bool]:
        x, batched = spatial_batch(self, input)
        check_output_size(self, x, x.shape[1], self.outputShape(x.shape)[2:])
        return x, batched

    def _pads(self) -> tuple[int, int, int, int]:
        return self.pad_l, self.pad_r, self.pad_t, self.pad_b

    def __repr__(self) -> str:
        return f"{_type_name(self)}(l={self.pad_l}, r={self.pad_r}, t={self.pad_t}, b={self.pad_b})"


class SpatialReflectionPadding(_EdgePadding):
    """nn.SpatialReflectionPadding(pad_l, [pad_r=pad_l], [pad_t=pad_l], [pad_b=pad_l])

    Pads each plane of a CHW sample or NCHW batch with its mirror image at the edges, the edge
    itself not repeated: a row ``[a b c d]`` padded by 2 on the left starts ``[c b a b ...``.
    A negative amount crops that side. Each amount must be smaller than the plane's size along
    its axis (a mirror cannot reach further).
    """

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        h, w = x.shape[2:]
        for name, pad, size, axis in (
            ("pad_l", self.pad_l, w, "width"),
            ("pad_r", self.pad_r, w, "width"),
            ("pad_t", self.pad_t, h, "height"),
            ("pad_b", self.pad_b, h, "height"),
        ):
            if pad >= size:
                raise ModuleError(
                    self._describe(),
                    f"expected {name} ({pad}) to be smaller than the input's {axis} ({size}), "
                    f"the most a reflection can reach; got input of shape {shape_str(input)}",
                )
        self.output = unbatch(F.reflection_pad2d(x, *self._pads()), batched)
        return self.output


class SpatialReplicationPadding(_EdgePadding):
    """nn.SpatialReplicationPadding(pad_l, [pad_r=pad_l], [pad_t=pad_l], [pad_b=pad_l])

    Pads each plane of a CHW sample or NCHW batch by repeating its edge rows and columns
    outwards (the corners repeat the corner value); a negative amount crops that side.
    """

    def updateOutput(self, input: Any) -> Any:
        x, batched = self._batch(input)
        self.output = unbatch(F.replication_pad2d(x, *self._pads()), batched)
        return self.output


class VolumetricReplicationPadding(Module):
    """nn.VolumetricReplicationPadding(pleft, [pright], [ptop], [pbottom], [pfront], [pback])

    Pads each volume of a CTHW sample or NCTHW batch by repeating its edges outwards: left and
    right along W, top and bottom along H, front and back along T; each amount defaults to
    `pleft`, and a negative amount crops that side.
    """

    def __init__(
        self,
        pleft: int,
        pright: int | None = None,
        ptop: int | None = None,
        pbottom: int | None = None,
        pfront: int | None = None,
        pback: int | None = None,
    ) -> None:
        super().__init__()
        meaning = "the amount added on the {} (negative crops)"
        self.pleft = int_arg(self, "pleft", meaning.format("left"), pleft, None)
        rest = {"pright": pright, "ptop": ptop, "pbottom": pbottom, "pfront": pfront}
        rest["pback"] = pback
        for name, value in rest.items():
            value = self.pleft if value is None else value
            setattr(self, name, int_arg(self, name, meaning.format(name[1:]), value, None))

    def _pads(self) -> tuple[int, int, int, int, int, int]:
        return self.pleft, self.pright, self.ptop, self.pbottom, self.pfront, self.pback

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        t = inShape[-3] + self.pfront + self.pback
        h = inShape[-2] + self.ptop + self.pbottom
        w = inShape[-1] + self.pleft + self.pright
        return (*inShape[:-3], t, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input)
        check_output_size(self, x, x.shape[1], self.outputShape(x.shape)[2:])
        self.output = unbatch(F.replication_pad3d(x, self._pads()), batched)
        return self.output

    def __repr__(self) -> str:
        return (
            f"{_type_name(self)}(left={self.pleft}, right={self.pright}, top={self.ptop}, "
            f"bottom={self.pbottom}, front={self.pfront}, back={self.pback})"
        )
