"""Convolution layers (torch/nn doc/convolution.md): SpatialConvolution (with groups),
SpatialConvolutionMap, the connection tables ``nn.tables.full/oneToOne/random``,
SpatialDilatedConvolution, SpatialFullConvolution, TemporalConvolution, VolumetricConvolution;
VolumetricDilatedConvolution, VolumetricFullConvolution, SpatialDepthWiseConvolution,
SpatialConvolutionLocal, TemporalRowConvolution and SpatialFullConvolutionMap."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import (
    check_frames,
    check_output_size,
    conv_output_size,
    frames_batch,
    int_arg,
    spatial_batch,
    unbatch,
    volumetric_batch,
)
from . import functional as F  # noqa: N812
from . import lowering
from .module import Module


def _window_args(module: Module, kW: Any, kH: Any, dW: Any, dH: Any) -> None:
    """Refuse a kernel or stride that is not a positive integer (Torch7's meanings)."""
    int_arg(module, "kW", "the kernel width", kW)
    int_arg(module, "kH", "the kernel height", kH)
    int_arg(module, "dW", "the step of the window along the width", dW)
    int_arg(module, "dH", "the step of the window along the height", dH)


class SpatialConvolution(Module):
    """nn.SpatialConvolution(nInputPlane, nOutputPlane, kW, kH, [dW], [dH], [padW], [padH])

    2-D convolution (cross-correlation, as Torch7) of a CHW sample or an NCHW batch.

    Args:
        nInputPlane: number of input planes C.
        nOutputPlane: number of output planes.
        kW, kH: kernel width and height.
        dW, dH: strides (default 1).
        padW, padH: zeros added on each side (default 0; ``padH`` defaults to ``padW``).
        groups: splits input and output planes into groups convolved separately (AlexNet's
            two towers); not in Torch7, default 1.

    Output size: ``oH = floor((H + 2*padH - kH) / dH) + 1``, ``oW`` likewise. Parameters
    ``weight (nOutputPlane, nInputPlane/groups, kH, kW)`` and ``bias (nOutputPlane,)`` start
    uniform in ``[-1/sqrt(fanIn), 1/sqrt(fanIn)]`` with ``fanIn = kW*kH*nInputPlane/groups``.

    Example:
        >>> from nets import nn
        >>> nn.SpatialConvolution(3, 6, 5, 5).forward(jnp.ones((2, 3, 32, 32))).shape
        (2, 6, 28, 28)
    """

    conv_weights = ("weight",)

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kW: int,
        kH: int,
        dW: int = 1,
        dH: int = 1,
        padW: int = 0,
        padH: int | None = None,
        groups: int = 1,
    ) -> None:
        super().__init__()
        nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        nOutputPlane = int_arg(self, "nOutputPlane", "the number of output planes", nOutputPlane)
        _window_args(self, kW, kH, dW, dH)
        padW = int_arg(self, "padW", "the zeros added on the left and right", padW, 0)
        if padH is not None:
            int_arg(self, "padH", "the zeros added on the top and bottom", padH, 0)
        groups = int_arg(self, "groups", "the number of plane groups", groups)
        if nInputPlane % groups or nOutputPlane % groups:
            raise ValueError(
                f"nn.SpatialConvolution: nInputPlane ({nInputPlane}) and nOutputPlane "
                f"({nOutputPlane}) must both be divisible by groups ({groups})"
            )
        self.nInputPlane, self.nOutputPlane = int(nInputPlane), int(nOutputPlane)
        self.kW, self.kH, self.dW, self.dH = int(kW), int(kH), int(dW), int(dH)
        self.padW = int(padW)
        self.padH = self.padW if padH is None else int(padH)
        self.groups = int(groups)
        shape = (nOutputPlane, nInputPlane // groups, kH, kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((nOutputPlane,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> SpatialConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*kH*nInputPlane/groups)`` by default.

        A given ``stdv`` is multiplied by ``sqrt(3)``, as in Torch7.
        """
        fan_in = self.kW * self.kH * self.nInputPlane // self.groups
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def noBias(self) -> SpatialConvolution:
        """Remove the bias (Torch7; e.g. before batch normalisation); returns self."""
        self.unregister("bias")
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = conv_output_size(inShape[-2], self.kH, self.dH, self.padH)
        w = conv_output_size(inShape[-1], self.kW, self.dW, self.padW)
        return (*inShape[:-3], self.nOutputPlane, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = lowering.conv2d(
            x,
            self.weight,
            self.bias,
            stride=(self.dH, self.dW),
            padding=(self.padH, self.padW),
            groups=self.groups,
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = f"nn.SpatialConvolution({self.nInputPlane} -> {self.nOutputPlane}, {self.kW}x{self.kH}"
        if self.dW != 1 or self.dH != 1 or self.padW != 0 or self.padH != 0:
            s += f", {self.dW},{self.dH}"
        if self.padW != 0 or self.padH != 0:
            s += f", {self.padW},{self.padH}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + (")" if self.bias is not None else ") without bias")


class SpatialConvolutionMap(Module):
    """nn.SpatialConvolutionMap(connTable, kW, kH, [dW=1], [dH=1]).

    A convolution where output plane ``o`` sums the kernels of the table rows ``[i, o]`` applied
    to input plane ``i`` (LeNet-5's C3 layer). ``connTable`` is an (nConn, 2) integer array of
    0-based ``[inputPlane, outputPlane]`` rows, e.g. from ``nn.tables.full(nin, nout)``,
    ``nn.tables.oneToOne(n)`` or ``nn.tables.random(nin, nout, nto)``. No padding.

    Parameters: ``weight (nConn, kH, kW)``, ``bias (nOutputPlane,)``; each starts uniform in
    ``[-1/sqrt(kW*kH*k), 1/sqrt(kW*kH*k)]`` with ``k`` the number of inputs of its output plane.
    """

    def __init__(self, connTable: Any, kW: int, kH: int, dW: int = 1, dH: int = 1) -> None:
        super().__init__()
        table = np.asarray(connTable)
        if table.ndim != 2 or table.shape[1] != 2 or table.shape[0] == 0:
            raise ValueError(
                f"nn.SpatialConvolutionMap: expected a connection table of shape (nConn, 2), "
                f"got shape {table.shape}"
            )
        if not np.all(np.equal(np.mod(table, 1), 0)) or table.min() < 0:
            raise ValueError(
                "nn.SpatialConvolutionMap: the connection table must hold non-negative integer "
                "plane indices (0-based)"
            )
        _window_args(self, kW, kH, dW, dH)
        self.connections = tuple((int(i), int(o)) for i, o in table)
        self.nInputPlane = int(table[:, 0].max()) + 1
        self.nOutputPlane = int(table[:, 1].max()) + 1
        self.kW, self.kH, self.dW, self.dH = int(kW), int(kH), int(dW), int(dH)
        self.register_parameter("weight", np.zeros((len(table), kH, kW), np.float32))
        self.register_parameter("bias", np.zeros((self.nOutputPlane,), np.float32))
        self.reset()

    @property
    def connTable(self) -> np.ndarray:
        """The (nConn, 2) int32 table of 0-based ``[inputPlane, outputPlane]`` rows. It is a
        hyper-parameter (``connections``, a tuple of pairs): it fixes the layer's structure."""
        return np.array(self.connections, np.int32).reshape(-1, 2)

    @connTable.setter
    def connTable(self, table: Any) -> None:
        self.connections = tuple((int(i), int(o)) for i, o in np.asarray(table).reshape(-1, 2))

    def reset(self, stdv: float | None = None) -> SpatialConvolutionMap:
        """Torch7's per-plane fan-in initialisation (or uniform ``stdv*sqrt(3)`` if given)."""
        n_conn = len(self.connections)
        if stdv is not None or _random.is_shape_only():
            stdv = 1.0 if stdv is None else stdv
            stdv = stdv * math.sqrt(3)
            self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
            return self
        table = self.connTable
        fan = np.bincount(table[:, 1], minlength=self.nOutputPlane)
        gen = _random.generator()
        area = self.kW * self.kH
        weight = np.empty((n_conn, self.kH, self.kW), np.float32)
        for k in range(n_conn):
            s = 1 / math.sqrt(area * fan[table[k, 1]])
            weight[k] = gen.uniform(-s, s, (self.kH, self.kW))
        bias = np.zeros(self.nOutputPlane, np.float32)
        for o in range(self.nOutputPlane):
            if fan[o]:
                s = 1 / math.sqrt(area * fan[o])
                bias[o] = gen.uniform(-s, s)
        self.weight = jnp.asarray(weight)
        self.bias = jnp.asarray(bias)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = conv_output_size(inShape[-2], self.kH, self.dH)
        w = conv_output_size(inShape[-1], self.kW, self.dW)
        return (*inShape[:-3], self.nOutputPlane, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = F.conv2d_map(x, self.weight, self.bias, self.connTable, stride=(self.dH, self.dW))
        self.output = unbatch(y, batched)
        return self.output


class _Tables:
    """Connection tables for SpatialConvolutionMap, as (nConn, 2) arrays of 0-based
    ``[inputPlane, outputPlane]`` rows (Torch7's ``nn.tables``)."""

    @staticmethod
    def full(nin: int, nout: int) -> np.ndarray:
        """Every input plane to every output plane (rows ordered by output, then input)."""
        return np.array([[i, o] for o in range(nout) for i in range(nin)], np.int32)

    @staticmethod
    def oneToOne(nfeat: int) -> np.ndarray:
        """Input plane i to output plane i."""
        return np.array([[i, i] for i in range(nfeat)], np.int32)

    @staticmethod
    def random(nin: int, nout: int, nto: int) -> np.ndarray:
        """Each output plane gets ``nto`` distinct random input planes (nets.manual_seed stream).

        Inputs are dealt from random permutations in chunks of ``nto``, so they are used
        evenly, as Torch7's ``nn.tables.random`` does.
        """
        if not 0 < nto <= nin:
            raise ValueError(f"nn.tables.random: expected 0 < nto <= nin ({nin}), got {nto}")
        gen = _random.generator()
        chunks = nin // nto
        perm, used = gen.permutation(nin), 0
        rows = []
        for o in range(nout):
            rows.extend([int(i), o] for i in perm[used * nto : (used + 1) * nto])
            used += 1
            if used == chunks:
                perm, used = gen.permutation(nin), 0
        return np.array(rows, np.int32)

    def __repr__(self) -> str:
        return "nn.tables"


tables = _Tables()


class SpatialDilatedConvolution(SpatialConvolution):
    """nn.SpatialDilatedConvolution(nInputPlane, nOutputPlane, kW, kH, [dW=1], [dH=1],
    [padW=0], [padH=padW], [dilationW=1], [dilationH=1])

    A SpatialConvolution whose kernel taps are ``dilationW``/``dilationH`` apart (atrous
    convolution): ``out[o, y, x] = bias[o] + sum weight[o, i, kh, kw] *
    xpad[i, y*dH + kh*dilationH, x*dW + kw*dilationW]``. Output size
    ``oH = floor((H + 2*padH - (dilationH*(kH-1) + 1)) / dH) + 1``, ``oW`` likewise. Weight,
    bias and their initialisation are SpatialConvolution's.
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kW: int,
        kH: int,
        dW: int = 1,
        dH: int = 1,
        padW: int = 0,
        padH: int | None = None,
        dilationW: int = 1,
        dilationH: int = 1,
    ) -> None:
        super().__init__(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
        self.dilationW = int_arg(
            self, "dilationW", "the spacing of the kernel's columns", dilationW
        )
        self.dilationH = int_arg(self, "dilationH", "the spacing of the kernel's rows", dilationH)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = conv_output_size(inShape[-2], self.dilationH * (self.kH - 1) + 1, self.dH, self.padH)
        w = conv_output_size(inShape[-1], self.dilationW * (self.kW - 1) + 1, self.dW, self.padW)
        return (*inShape[:-3], self.nOutputPlane, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = F.conv_nd(
            x,
            self.weight,
            self.bias,
            stride=(self.dH, self.dW),
            padding=(self.padH, self.padW),
            dilation=(self.dilationH, self.dilationW),
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = f"nn.SpatialDilatedConvolution({self.nInputPlane} -> {self.nOutputPlane}, "
        s += f"{self.kW}x{self.kH}"
        if self.dW != 1 or self.dH != 1 or self.padW != 0 or self.padH != 0:
            s += f", {self.dW},{self.dH}"
        if self.padW != 0 or self.padH != 0:
            s += f", {self.padW},{self.padH}"
        s += f", {self.dilationW},{self.dilationH}"
        return s + (")" if self.bias is not None else ") without bias")


class SpatialFullConvolution(Module):
    """nn.SpatialFullConvolution(nInputPlane, nOutputPlane, kW, kH, [dW=1], [dH=1], [padW=0],
    [padH=0], [adjW=0], [adjH=0])

    The transposed convolution ("deconvolution"): the gradient of a SpatialConvolution with
    respect to its input, used to upsample. Each input pixel adds its kernel, scaled, into the
    output at ``(y*dH - padH, x*dW - padW)``. Output size
    ``oH = (H - 1)*dH - 2*padH + kH + adjH``, ``oW`` likewise; ``adjW < dW`` and ``adjH < dH``
    pick among the output sizes that a stride-d convolution maps to H. Given a table
    ``{input, target}`` (a list), the adj comes from the target's last two sizes instead, as
    Torch7's ``calculateAdj`` (the target's gradient is zero).

    Parameters: ``weight (nInputPlane, nOutputPlane, kH, kW)`` (Torch7's layout, input planes
    first) and ``bias (nOutputPlane,)``, uniform in ``[-1/sqrt(kW*kH*nInputPlane), ...]``.
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kW: int,
        kH: int,
        dW: int = 1,
        dH: int = 1,
        padW: int = 0,
        padH: int = 0,
        adjW: int = 0,
        adjH: int = 0,
    ) -> None:
        super().__init__()
        nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        nOutputPlane = int_arg(self, "nOutputPlane", "the number of output planes", nOutputPlane)
        _window_args(self, kW, kH, dW, dH)
        self.nInputPlane, self.nOutputPlane = nInputPlane, nOutputPlane
        self.kW, self.kH, self.dW, self.dH = int(kW), int(kH), int(dW), int(dH)
        self.padW = int_arg(self, "padW", "the input padding on the left and right", padW, 0)
        self.padH = int_arg(self, "padH", "the input padding on the top and bottom", padH, 0)
        self.adjW = int_arg(self, "adjW", "extra output columns on the right", adjW, 0)
        self.adjH = int_arg(self, "adjH", "extra output rows at the bottom", adjH, 0)
        if self.adjW > self.dW - 1 or self.adjH > self.dH - 1:
            raise ModuleError(
                "nn.SpatialFullConvolution",
                f"expected adjW < dW and adjH < dH, got adjW={self.adjW} with dW={self.dW}, "
                f"adjH={self.adjH} with dH={self.dH}",
            )
        shape = (nInputPlane, nOutputPlane, self.kH, self.kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((nOutputPlane,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> SpatialFullConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*kH*nInputPlane)`` by default (a
        given ``stdv`` times ``sqrt(3)``), as Torch7."""
        fan_in = self.kW * self.kH * self.nInputPlane
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def noBias(self) -> SpatialFullConvolution:
        """Remove the bias (Torch7); returns self."""
        self.unregister("bias")
        return self

    def outputShape(
        self, inShape: tuple[int, ...], adj: tuple[int, int] | None = None
    ) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing; `adj` is
        (adjH, adjW), the layer's own by default."""
        adj_h, adj_w = (self.adjH, self.adjW) if adj is None else adj
        h = (inShape[-2] - 1) * self.dH - 2 * self.padH + self.kH + adj_h
        w = (inShape[-1] - 1) * self.dW - 2 * self.padW + self.kW + adj_w
        return (*inShape[:-3], self.nOutputPlane, h, w)

    def _target_adj(self, target: Any) -> tuple[int, int]:
        """Torch7's ``calculateAdj``: the adj that brings the output nearest the size of
        `target`'s last two dimensions, ``(size + 2*pad - k) % stride``."""
        if getattr(target, "ndim", 0) < 2:
            raise ModuleError(
                self._describe(),
                f"expected the second input (the target of the output's size) to have at "
                f"least 2 dimensions, got {shape_str(target)}",
            )
        t_h, t_w = target.shape[-2:]
        return (
            (t_h + 2 * self.padH - self.kH) % self.dH,
            (t_w + 2 * self.padW - self.kW) % self.dW,
        )

    def updateOutput(self, input: Any) -> Any:
        adj = None
        if isinstance(input, (list, tuple)):
            if len(input) != 2:
                raise ModuleError(
                    self._describe(),
                    f"expected an array or a table {{input, target}}, got a table of "
                    f"{len(input)} entries",
                )
            input, target = input
            adj = self._target_adj(target)
        x, batched = spatial_batch(self, input, self.nInputPlane)
        out_shape = self.outputShape(x.shape, adj)
        check_output_size(self, x, self.nOutputPlane, out_shape[2:])
        y = F.full_conv2d(
            x,
            self.weight,
            self.bias,
            stride=(self.dH, self.dW),
            padding=(self.padH, self.padW),
            adj=(self.adjH, self.adjW) if adj is None else adj,
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = f"nn.SpatialFullConvolution({self.nInputPlane} -> {self.nOutputPlane}, "
        s += f"{self.kW}x{self.kH}"
        if self.dW != 1 or self.dH != 1 or self.padW != 0 or self.padH != 0:
            s += f", {self.dW},{self.dH}"
        if self.padW != 0 or self.padH != 0:
            s += f", {self.padW},{self.padH}"
        if self.adjW != 0 or self.adjH != 0:
            s += f", {self.adjW},{self.adjH}"
        return s + (")" if self.bias is not None else ") without bias")


class TemporalConvolution(Module):
    """nn.TemporalConvolution(inputFrameSize, outputFrameSize, kW, [dW=1])

    1-D convolution over a sequence of frames: input ``(nInputFrame, inputFrameSize)`` or a
    batch ``(N, nInputFrame, inputFrameSize)``; output frame ``t`` is
    ``bias + weight @ concat(x[t*dW], ..., x[t*dW + kW - 1])``, and there are
    ``floor((nInputFrame - kW) / dW) + 1`` of them.

    Parameters (Torch7's layout): ``weight (outputFrameSize, kW*inputFrameSize)``, its column
    ``k*inputFrameSize + i`` meeting feature i of the k-th frame of the window, and
    ``bias (outputFrameSize,)``, uniform in ``[-1/sqrt(kW*inputFrameSize), ...]``.
    """

    def __init__(self, inputFrameSize: int, outputFrameSize: int, kW: int, dW: int = 1) -> None:
        super().__init__()
        self.inputFrameSize = int_arg(
            self, "inputFrameSize", "the size of each input frame", inputFrameSize
        )
        self.outputFrameSize = int_arg(
            self, "outputFrameSize", "the size of each output frame", outputFrameSize
        )
        self.kW = int_arg(self, "kW", "the number of frames in the kernel", kW)
        self.dW = int_arg(self, "dW", "the step of the kernel in frames", dW)
        shape = (self.outputFrameSize, self.inputFrameSize * self.kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((self.outputFrameSize,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> TemporalConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*inputFrameSize)`` by default (a
        given ``stdv`` times ``sqrt(3)``), as Torch7."""
        fan_in = self.kW * self.inputFrameSize
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape, without computing."""
        frames = conv_output_size(inShape[-2], self.kW, self.dW)
        return (*inShape[:-2], frames, self.outputFrameSize)

    def updateOutput(self, input: Any) -> Any:
        x, batched = frames_batch(self, input, self.inputFrameSize)
        check_frames(self, input, self.kW)
        y = F.temporal_conv(x, self.weight, self.bias, self.kW, self.dW)
        self.output = unbatch(y, batched)
        return self.output


class VolumetricConvolution(Module):
    """nn.VolumetricConvolution(nInputPlane, nOutputPlane, kT, kW, kH, [dT=1], [dW=1], [dH=1],
    [padT=0], [padW=padT], [padH=padW])

    3-D convolution (cross-correlation) of a CTHW sample or an NCTHW batch (T: time or depth).
    Output size ``oT = floor((T + 2*padT - kT) / dT) + 1``, ``oH``, ``oW`` likewise.
    Parameters ``weight (nOutputPlane, nInputPlane, kT, kH, kW)`` and ``bias (nOutputPlane,)``,
    uniform in ``[-1/sqrt(kT*kW*kH*nInputPlane), ...]``.
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kT: int,
        kW: int,
        kH: int,
        dT: int = 1,
        dW: int = 1,
        dH: int = 1,
        padT: int = 0,
        padW: int | None = None,
        padH: int | None = None,
    ) -> None:
        super().__init__()
        nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        nOutputPlane = int_arg(self, "nOutputPlane", "the number of output planes", nOutputPlane)
        self.nInputPlane, self.nOutputPlane = nInputPlane, nOutputPlane
        self.kT = int_arg(self, "kT", "the kernel depth (time)", kT)
        _window_args(self, kW, kH, dW, dH)
        self.kW, self.kH = int(kW), int(kH)
        self.dT = int_arg(self, "dT", "the step of the window along the time", dT)
        self.dW, self.dH = int(dW), int(dH)
        self.padT = int_arg(self, "padT", "the zeros added before and after in time", padT, 0)
        padW = self.padT if padW is None else padW
        self.padW = int_arg(self, "padW", "the zeros added on the left and right", padW, 0)
        padH = self.padW if padH is None else padH
        self.padH = int_arg(self, "padH", "the zeros added on the top and bottom", padH, 0)
        shape = (nOutputPlane, nInputPlane, self.kT, self.kH, self.kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((nOutputPlane,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> VolumetricConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kT*kW*kH*nInputPlane)`` by default (a
        given ``stdv`` times ``sqrt(3)``), as Torch7."""
        fan_in = self.kT * self.kW * self.kH * self.nInputPlane
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def noBias(self) -> VolumetricConvolution:
        """Remove the bias (Torch7); returns self."""
        self.unregister("bias")
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        t = conv_output_size(inShape[-3], self.kT, self.dT, self.padT)
        h = conv_output_size(inShape[-2], self.kH, self.dH, self.padH)
        w = conv_output_size(inShape[-1], self.kW, self.dW, self.padW)
        return (*inShape[:-4], self.nOutputPlane, t, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = F.conv_nd(
            x,
            self.weight,
            self.bias,
            stride=(self.dT, self.dH, self.dW),
            padding=(self.padT, self.padH, self.padW),
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = f"nn.VolumetricConvolution({self.nInputPlane} -> {self.nOutputPlane}, "
        s += f"{self.kT}x{self.kW}x{self.kH}"
        pads = self.padT != 0 or self.padW != 0 or self.padH != 0
        if self.dT != 1 or self.dW != 1 or self.dH != 1 or pads:
            s += f", {self.dT},{self.dW},{self.dH}"
        if pads:
            s += f", {self.padT},{self.padW},{self.padH}"
        return s + (")" if self.bias is not None else ") without bias")


# ---- more Torch7 convolution layers (issue 19)


def _conv_repr(head: str, strides: tuple, pads: tuple, tail: str = "") -> str:
    """Torch7's ``(nIn -> nOut, kxk[, strides][, pads][tail])``: strides shown when any
    stride or pad differs from the default."""
    s = head
    if any(d != 1 for d in strides) or any(pads):
        s += ", " + ",".join(map(str, strides))
    if any(pads):
        s += ", " + ",".join(map(str, pads))
    return s + tail


class VolumetricDilatedConvolution(VolumetricConvolution):
    """nn.VolumetricDilatedConvolution(nInputPlane, nOutputPlane, kT, kW, kH, [dT=1], [dW=1],
    [dH=1], [padT=0], [padW=0], [padH=0], [dilationT=1], [dilationW=1], [dilationH=1])

    VolumetricConvolution whose kernel taps are ``dilation`` apart: output size
    ``floor((T + 2*padT - dilationT*(kT-1) - 1) / dT) + 1`` (likewise H, W).
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kT: int,
        kW: int,
        kH: int,
        dT: int = 1,
        dW: int = 1,
        dH: int = 1,
        padT: int = 0,
        padW: int = 0,
        padH: int = 0,
        dilationT: int = 1,
        dilationW: int = 1,
        dilationH: int = 1,
    ) -> None:
        super().__init__(nInputPlane, nOutputPlane, kT, kW, kH, dT, dW, dH, padT, padW, padH)
        self.dilationT = int_arg(self, "dilationT", "the spacing of the taps in time", dilationT)
        self.dilationW = int_arg(self, "dilationW", "the spacing of the taps in width", dilationW)
        self.dilationH = int_arg(self, "dilationH", "the spacing of the taps in height", dilationH)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        sizes = zip(
            inShape[-3:],
            (self.kT, self.kH, self.kW),
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            (self.dilationT, self.dilationH, self.dilationW),
            strict=True,
        )
        out = (conv_output_size(n, r * (k - 1) + 1, d, p) for n, k, d, p, r in sizes)
        return (*inShape[:-4], self.nOutputPlane, *out)

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = F.conv_nd(
            x,
            self.weight,
            self.bias,
            stride=(self.dT, self.dH, self.dW),
            padding=(self.padT, self.padH, self.padW),
            dilation=(self.dilationT, self.dilationH, self.dilationW),
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = _conv_repr(
            f"nn.VolumetricDilatedConvolution({self.nInputPlane} -> {self.nOutputPlane}, "
            f"{self.kT}x{self.kW}x{self.kH}",
            (self.dT, self.dW, self.dH),
            (self.padT, self.padW, self.padH),
            f", {self.dilationT},{self.dilationW},{self.dilationH}",
        )
        return s + (")" if self.bias is not None else ") without bias")


class VolumetricFullConvolution(Module):
    """nn.VolumetricFullConvolution(nInputPlane, nOutputPlane, kT, kW, kH, [dT=1], [dW=1],
    [dH=1], [padT=0], [padW=0], [padH=0], [adjT=0], [adjW=0], [adjH=0])

    The transpose of VolumetricConvolution (SpatialFullConvolution in 3-D) of a CTHW sample or
    NCTHW batch: output size ``(T - 1)*dT - 2*padT + kT + adjT`` (likewise H, W), each adj
    smaller than its stride. ``weight (nInputPlane, nOutputPlane, kT, kH, kW)`` and ``bias``
    start uniform in ``[-1/sqrt(kT*kW*kH*nInputPlane), ...]``.
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kT: int,
        kW: int,
        kH: int,
        dT: int = 1,
        dW: int = 1,
        dH: int = 1,
        padT: int = 0,
        padW: int = 0,
        padH: int = 0,
        adjT: int = 0,
        adjW: int = 0,
        adjH: int = 0,
    ) -> None:
        super().__init__()
        self.nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        self.nOutputPlane = int_arg(
            self, "nOutputPlane", "the number of output planes", nOutputPlane
        )
        self.kT = int_arg(self, "kT", "the kernel depth (time)", kT)
        _window_args(self, kW, kH, dW, dH)
        self.kW, self.kH, self.dW, self.dH = int(kW), int(kH), int(dW), int(dH)
        self.dT = int_arg(self, "dT", "the step along the time", dT)
        self.padT = int_arg(self, "padT", "the padding in time", padT, 0)
        self.padW = int_arg(self, "padW", "the padding in width", padW, 0)
        self.padH = int_arg(self, "padH", "the padding in height", padH, 0)
        self.adjT = int_arg(self, "adjT", "extra output frames at the end", adjT, 0)
        self.adjW = int_arg(self, "adjW", "extra output columns on the right", adjW, 0)
        self.adjH = int_arg(self, "adjH", "extra output rows at the bottom", adjH, 0)
        if self.adjT >= self.dT or self.adjW >= self.dW or self.adjH >= self.dH:
            raise ModuleError(
                "nn.VolumetricFullConvolution",
                f"expected adjT < dT, adjW < dW and adjH < dH, got adj {self.adjT},{self.adjW},"
                f"{self.adjH} with strides {self.dT},{self.dW},{self.dH}",
            )
        shape = (self.nInputPlane, self.nOutputPlane, self.kT, self.kH, self.kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((self.nOutputPlane,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> VolumetricFullConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kT*kW*kH*nInputPlane)`` by default."""
        fan_in = self.kT * self.kW * self.kH * self.nInputPlane
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def noBias(self) -> VolumetricFullConvolution:
        """Remove the bias; returns self."""
        self.unregister("bias")
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CTHW or NCTHW), without computing."""
        sizes = zip(
            inShape[-3:],
            (self.kT, self.kH, self.kW),
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            (self.adjT, self.adjH, self.adjW),
            strict=True,
        )
        out = ((n - 1) * d - 2 * p + k + a for n, k, d, p, a in sizes)
        return (*inShape[:-4], self.nOutputPlane, *out)

    def updateOutput(self, input: Any) -> Any:
        x, batched = volumetric_batch(self, input, self.nInputPlane)
        check_output_size(self, x, self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = F.full_conv_nd(
            x,
            self.weight,
            self.bias,
            (self.dT, self.dH, self.dW),
            (self.padT, self.padH, self.padW),
            (self.adjT, self.adjH, self.adjW),
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        adj = (self.adjT, self.adjW, self.adjH)
        return _conv_repr(
            f"nn.VolumetricFullConvolution({self.nInputPlane} -> {self.nOutputPlane}, "
            f"{self.kT}x{self.kW}x{self.kH}",
            (self.dT, self.dW, self.dH),
            (self.padT, self.padW, self.padH),
            (", " + ",".join(map(str, adj)) if any(adj) else "") + ")",
        )


class SpatialDepthWiseConvolution(Module):
    """nn.SpatialDepthWiseConvolution(nInputPlane, nOutputPlane, kW, kH, [dW=1], [dH=1],
    [padW=0], [padH=padW])

    Each input plane ``i`` convolved with its own `nOutputPlane` kernels: ``nInputPlane *
    nOutputPlane`` output planes, plane ``i*nOutputPlane + o`` from ``weight[o, i]`` and
    ``bias[o, i]``. ``weight (nOutputPlane, nInputPlane, kH, kW)`` (Torch7 stores it flat as
    (nOutputPlane, nInputPlane*kH*kW) until the first forward) and ``bias (nOutputPlane,
    nInputPlane)`` start uniform in ``[-1/sqrt(kW*kH*nInputPlane), ...]``.
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        kW: int,
        kH: int,
        dW: int = 1,
        dH: int = 1,
        padW: int = 0,
        padH: int | None = None,
    ) -> None:
        super().__init__()
        self.nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        self.nOutputPlane = int_arg(
            self, "nOutputPlane", "the kernels per input plane", nOutputPlane
        )
        _window_args(self, kW, kH, dW, dH)
        self.kW, self.kH, self.dW, self.dH = int(kW), int(kH), int(dW), int(dH)
        self.padW = int_arg(self, "padW", "the zeros added on the left and right", padW, 0)
        padH = self.padW if padH is None else padH
        self.padH = int_arg(self, "padH", "the zeros added on the top and bottom", padH, 0)
        shape = (self.nOutputPlane, self.nInputPlane, self.kH, self.kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((self.nOutputPlane, self.nInputPlane), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> SpatialDepthWiseConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*kH*nInputPlane)`` by default."""
        fan_in = self.kW * self.kH * self.nInputPlane
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def noBias(self) -> SpatialDepthWiseConvolution:
        """Remove the bias; returns self."""
        self.unregister("bias")
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = conv_output_size(inShape[-2], self.kH, self.dH, self.padH)
        w = conv_output_size(inShape[-1], self.kW, self.dW, self.padW)
        return (*inShape[:-3], self.nInputPlane * self.nOutputPlane, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        check_output_size(self, x, x.shape[1] * self.nOutputPlane, self.outputShape(x.shape)[2:])
        y = F.depthwise_conv2d(
            x, self.weight, self.bias, (self.dH, self.dW), (self.padH, self.padW)
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = _conv_repr(
            f"nn.SpatialDepthWiseConvolution({self.nInputPlane} -> {self.nOutputPlane}, "
            f"{self.kW}x{self.kH}",
            (self.dW, self.dH),
            (self.padW, self.padH),
        )
        return s + (")" if self.bias is not None else ") without bias")


class SpatialConvolutionLocal(Module):
    """nn.SpatialConvolutionLocal(nInputPlane, nOutputPlane, iW, iH, kW, kH, [dW=1], [dH=1],
    [padW=0], [padH=padW])

    A locally connected layer: a convolution of an ``(nInputPlane, iH, iW)`` sample (or an
    NCHW batch of them) whose kernel differs at every output position, ``out[o, p, q] =
    bias[o, p, q] + sum weight[p, q, o, i, kh, kw] * xpad[i, p*dH + kh, q*dW + kw]``.
    ``weight (oH, oW, nOutputPlane, nInputPlane, kH, kW)`` and ``bias (nOutputPlane, oH, oW)``
    start uniform in ``[-1/sqrt(kW*kH*nInputPlane), ...]``.
    """

    def __init__(
        self,
        nInputPlane: int,
        nOutputPlane: int,
        iW: int,
        iH: int,
        kW: int,
        kH: int,
        dW: int = 1,
        dH: int = 1,
        padW: int = 0,
        padH: int | None = None,
    ) -> None:
        super().__init__()
        self.nInputPlane = int_arg(self, "nInputPlane", "the number of input planes", nInputPlane)
        self.nOutputPlane = int_arg(
            self, "nOutputPlane", "the number of output planes", nOutputPlane
        )
        self.iW = int_arg(self, "iW", "the input width", iW)
        self.iH = int_arg(self, "iH", "the input height", iH)
        _window_args(self, kW, kH, dW, dH)
        self.kW, self.kH, self.dW, self.dH = int(kW), int(kH), int(dW), int(dH)
        self.padW = int_arg(self, "padW", "the zeros added on the left and right", padW, 0)
        padH = self.padW if padH is None else padH
        self.padH = int_arg(self, "padH", "the zeros added on the top and bottom", padH, 0)
        self.oW = conv_output_size(self.iW, self.kW, self.dW, self.padW)
        self.oH = conv_output_size(self.iH, self.kH, self.dH, self.padH)
        if self.oW < 1 or self.oH < 1:
            raise ModuleError(
                "nn.SpatialConvolutionLocal",
                f"illegal configuration: output width or height less than 1 (got {self.oW}x"
                f"{self.oH} from a {self.iW}x{self.iH} input and a {self.kW}x{self.kH} kernel)",
            )
        shape = (self.oH, self.oW, self.nOutputPlane, self.nInputPlane, self.kH, self.kW)
        self.register_parameter("weight", np.zeros(shape, np.float32))
        self.register_parameter("bias", np.zeros((self.nOutputPlane, self.oH, self.oW), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> SpatialConvolutionLocal:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*kH*nInputPlane)`` by default."""
        fan_in = self.kW * self.kH * self.nInputPlane
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        return (*inShape[:-3], self.nOutputPlane, self.oH, self.oW)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        if x.shape[2:] != (self.iH, self.iW):
            raise ModuleError(
                self._describe(),
                f"given input size {shape_str(input)} inconsistent with the expected sample size "
                f"({self.nInputPlane}, {self.iH}, {self.iW})",
            )
        y = F.local_conv2d(
            x,
            self.weight,
            self.bias,
            (self.dH, self.dW),
            (self.padH, self.padW),
            (self.oH, self.oW),
        )
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        return _conv_repr(
            f"nn.SpatialConvolutionLocal({self.nInputPlane} -> {self.nOutputPlane}, "
            f"{self.iW}x{self.iH}, {self.kW}x{self.kH}",
            (self.dW, self.dH),
            (self.padW, self.padH),
            ")",
        )


class TemporalRowConvolution(Module):
    """nn.TemporalRowConvolution(inputFrameSize, kW, [dW=1], [featFirst=False])

    Each feature row of a ``(nInputFrame, inputFrameSize)`` sequence (or an (N, ...) batch)
    convolved over time with its own kernel: ``out[t, f] = bias[f] + sum_k weight[f, 0, k] *
    x[t*dW + k, f]``; ``floor((nInputFrame - kW) / dW) + 1`` output frames. With `featFirst`
    the input and output are laid out ``(inputFrameSize, nInputFrame)``. ``weight
    (inputFrameSize, 1, kW)`` and ``bias`` start uniform in ``[-1/sqrt(kW*inputFrameSize),
    ...]``.
    """

    def __init__(self, inputFrameSize: int, kW: int, dW: int = 1, featFirst: bool = False) -> None:
        super().__init__()
        self.inputFrameSize = int_arg(
            self, "inputFrameSize", "the size of each input frame", inputFrameSize
        )
        self.kW = int_arg(self, "kW", "the number of frames in each window", kW)
        self.dW = int_arg(self, "dW", "the step of the window in frames", dW)
        self.featFirst = bool(featFirst)
        self.register_parameter("weight", np.zeros((self.inputFrameSize, 1, self.kW), np.float32))
        self.register_parameter("bias", np.zeros((self.inputFrameSize,), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> TemporalRowConvolution:
        """Uniform in ``[-stdv, stdv]``, ``stdv = 1/sqrt(kW*inputFrameSize)`` by default."""
        fan_in = self.kW * self.inputFrameSize
        stdv = stdv * math.sqrt(3) if stdv is not None else 1 / math.sqrt(fan_in)
        self.weight = _random.uniform(-stdv, stdv, self.weight.shape)
        if self.bias is not None:
            self.bias = _random.uniform(-stdv, stdv, self.bias.shape)
        return self

    def noBias(self) -> TemporalRowConvolution:
        """Remove the bias; returns self."""
        self.unregister("bias")
        return self

    def updateOutput(self, input: Any) -> Any:
        x = input
        if self.featFirst and getattr(input, "ndim", None) in (2, 3):
            x = jnp.swapaxes(input, -1, -2)
        x, batched = frames_batch(self, x, self.inputFrameSize)
        check_frames(self, x, self.kW)
        y = F.temporal_row_conv(jnp.swapaxes(x, 1, 2), self.weight, self.bias, self.kW, self.dW, 0)
        y = y if self.featFirst else jnp.swapaxes(y, 1, 2)
        self.output = unbatch(y, batched)
        return self.output

    def __repr__(self) -> str:
        s = f"nn.TemporalRowConvolution({self.inputFrameSize}, {self.kW}"
        if self.dW != 1:
            s += f", {self.dW}"
        return s + (")" if self.bias is not None else ") without bias")


class SpatialFullConvolutionMap(SpatialConvolutionMap):
    """nn.SpatialFullConvolutionMap(connTable, kW, kH, [dW=1], [dH=1])

    The transposed (full) convolution of SpatialConvolutionMap: each input pixel of plane ``i``
    scatters ``weight[k]`` into output plane ``o`` for the table rows ``k = [i, o]``; output
    size ``((H - 1)*dH + kH, (W - 1)*dW + kW)``, no padding. The table, parameters and their
    start are SpatialConvolutionMap's. A CHW sample (Torch7) or an NCHW batch.
    """

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input shape (CHW or NCHW), without computing."""
        h = (inShape[-2] - 1) * self.dH + self.kH
        w = (inShape[-1] - 1) * self.dW + self.kW
        return (*inShape[:-3], self.nOutputPlane, h, w)

    def updateOutput(self, input: Any) -> Any:
        x, batched = spatial_batch(self, input, self.nInputPlane)
        y = F.full_conv2d_map(x, self.weight, self.bias, self.connTable, (self.dH, self.dW))
        self.output = unbatch(y, batched)
        return self.output
