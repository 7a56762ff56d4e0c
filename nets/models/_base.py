"""What every zoo network shares: the `Model` container and the small layer helpers.

`Model` is an ``nn.Sequential`` that knows its name and the input size it was designed for. Its
``updateOutput`` first infers every layer's output shape in closed form (`nets.summary`), so a
wrong input size fails at once, before any tracing or computing, with the model's name, the
layer that refuses the input and the input sizes the network accepts.
"""

from __future__ import annotations

from typing import Any

from nets import nn
from nets._errors import ModuleError, shape_str
from nets.nn.printing import sequential_repr
from nets.summary import infer_shape

__all__ = ["Model", "conv", "conv_bn", "labelled", "flatten"]


class Model(nn.Sequential):
    """A zoo network: ``nn.Sequential`` plus its name and designed input size.

    Args:
        name: the registry name, used in errors and printing (``'alexnet'``).
        input_size: the (C, H, W) the paper feeds it.
        modules: the stages, in order.
    """

    def __init__(self, name: str, input_size: tuple[int, int, int], *modules: nn.Module) -> None:
        super().__init__(*modules)
        self.model_name = name
        self.input_size = tuple(int(d) for d in input_size)

    def updateOutput(self, input: Any) -> Any:
        shape = getattr(input, "shape", None)
        self.check_input(shape, input)
        if len(shape) == 4:
            return super().updateOutput(input)
        # One image: run it as a batch of one (Concat(1) joins planes of NCHW batches).
        out = super().updateOutput(input[None])
        self.output = [o[0] for o in out] if isinstance(out, list) else out[0]
        return self.output

    def from_torchvision(self, source: Any) -> Model:
        """Load torchvision's weights for this network: a state dict (dict of arrays), or a
        ``.pth`` or ``.safetensors`` file of one (`nets.interop.torchvision`). Returns self."""
        from nets.interop.torchvision import load_torchvision

        return load_torchvision(self, source)

    def check_input(self, shape: tuple[int, ...] | None, input: Any = None) -> tuple:
        """Infer the output shape for `shape` (CHW or NCHW) or raise a ModuleError that names
        the model, the refusing layer and the input sizes this network accepts."""
        if shape is None or len(shape) not in (3, 4):
            raise ModuleError(
                self.model_name,
                f"expected a 3D (C, H, W) image or a 4D (N, C, H, W) batch of size "
                f"{_chw(self.input_size)}, got {shape_str(input) if input is not None else shape}",
            )
        batch = tuple(shape) if len(shape) == 4 else (1, *shape)
        try:
            return infer_shape(self, batch)
        except ModuleError as e:
            raise ModuleError(
                self.model_name,
                f"input of size {_chw(shape[-3:])} does not fit layer {e}; "
                f"{self.model_name} accepts {self.accepted_sizes()}",
            ) from None

    def accepted_sizes(self) -> str:
        """The inputs this network takes, e.g. ``'3x224x224 (H and W each from 224 to 255)'``.

        Found by trying every side from 1 to 1.5 times the paper's (closed-form shapes only; a
        few seconds for the largest networks, once per network: only error messages ask).
        """
        cached = self.__dict__.get("_accepted")
        if cached is not None:
            return cached
        c, h, w = self.input_size
        top = (3 * max(h, w)) // 2
        if h == w:  # every zoo network treats H and W alike and independently
            ok = [s for s in range(1, top + 1) if _fits(self, (c, s, s))]
            where = f"H and W each {_spans(ok, top)}"
        else:
            ok_h = [s for s in range(1, top + 1) if _fits(self, (c, s, w))]
            ok_w = [s for s in range(1, top + 1) if _fits(self, (c, h, s))]
            where = f"H {_spans(ok_h, top)}, W {_spans(ok_w, top)}"
        self._accepted = f"{_chw(self.input_size)} ({where})"
        return self._accepted

    def __repr__(self) -> str:
        return sequential_repr(f"nets.models.{self.model_name}", self.modules)


def _fits(model: Model, shape: tuple) -> bool:
    try:
        infer_shape(model, (1, *shape))
    except ModuleError:
        return False
    return True


def _spans(sizes: list[int], top: int) -> str:
    """``'from 224 to 255'``, ``'at least 32'`` or several ranges joined by ``' or '``."""
    if not sizes:
        return "of no size"
    runs, start = [], sizes[0]
    for a, b in zip(sizes, sizes[1:] + [None], strict=True):
        if b != a + 1:
            runs.append((start, a))
            start = b
    words = []
    for lo, hi in runs:
        if hi == top:
            words.append(f"at least {lo}")
        elif lo == hi:
            words.append(f"exactly {lo}")
        else:
            words.append(f"from {lo} to {hi}")
    return " or ".join(words)


def _chw(shape: tuple) -> str:
    return "x".join(str(d) for d in shape)


def conv(
    nIn: int,
    nOut: int,
    kW: int,
    kH: int | None = None,
    dW: int = 1,
    dH: int | None = None,
    padW: int = 0,
    padH: int | None = None,
    *,
    groups: int = 1,
    bias: bool = True,
) -> nn.SpatialConvolution:
    """nn.SpatialConvolution with square defaults (``kH = kW`` and so on), optionally bias-free.

    A bias before batch normalisation is redundant, so the BN networks (BN-Inception, Inception
    v3/v4, ResNet) have none, as in their authors' releases (fb.resnet.torch sets
    ``conv.bias = nil``).
    """
    kH = kW if kH is None else kH
    dH = dW if dH is None else dH
    padH = padW if padH is None else padH
    m = nn.SpatialConvolution(nIn, nOut, kW, kH, dW, dH, padW, padH, groups=groups)
    return m if bias else m.noBias()


def conv_bn(
    nIn: int,
    nOut: int,
    kW: int,
    kH: int | None = None,
    dW: int = 1,
    dH: int | None = None,
    padW: int = 0,
    padH: int | None = None,
    *,
    eps: float = 1e-5,
    relu: bool = True,
) -> nn.Sequential:
    """conv (no bias) -> SpatialBatchNormalization -> ReLU, the unit of the BN-era networks."""
    seq = nn.Sequential()
    seq.add(conv(nIn, nOut, kW, kH, dW, dH, padW, padH, bias=False))
    seq.add(nn.SpatialBatchNormalization(nOut, eps))
    if relu:
        seq.add(nn.ReLU(True))
    return seq


def labelled(module: nn.Module, label: str, patch: str | None = None) -> nn.Module:
    """Make `module` one row of `nets.summary`'s table, e.g. ``'inception (3a)'``."""
    module.summary_label = label
    if patch is not None:
        module.summary_patch = patch
    return module


def flatten(n: int) -> nn.Reshape:
    """``nn.Reshape(n, true)``: (N, C, H, W) -> (N, n), strictly.

    Not ``nn.View(n)``: a View reads feature maps larger than the classifier expects as more
    samples (a 12x12 map where 6x6 belongs passes as a batch of 4), and without
    ``setNumInputDims`` drops the axis of a batch of one. Reshape in batch mode refuses both.
    """
    return nn.Reshape(n, True)
