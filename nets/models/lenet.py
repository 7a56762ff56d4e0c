"""LeNet-5: the seed's modern variant and LeCun et al. 1998's original.

Paper: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning Applied to Document
Recognition", Proc. IEEE 1998, http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from nets import nn
from nets._errors import ModuleError, shape_str

from ._base import Model, flatten, labelled
from ._registry import ModelMeta, register, valid_choice

__all__ = ["lenet5", "C3_TABLE", "RBFOutput"]

# Table I of the paper: the input planes (of S2's 6) each C3 output plane (of 16) sees.
C3_TABLE: list[tuple[int, ...]] = [
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
]  # fmt: skip


def c3_connection_table() -> np.ndarray:
    """Table I as a SpatialConvolutionMap table: (60, 2) rows of 0-based [input, output]."""
    return np.array([[i, o] for o, ins in enumerate(C3_TABLE) for i in ins], np.int32)


class RBFOutput(nn.Module):
    """RBFOutput(nInput, nClass): LeNet-5's Euclidean radial-basis output layer.

    ``y_i = -sum_j (x_j - w_ij)^2``: the paper's output is the squared distance to a fixed
    +1/-1 code per class (its "penalty"); the sign is flipped here so that, as for every other
    zoo network, the largest output is the predicted class and LogSoftMax/ClassNLL apply. The
    codes are *not trained* (the paper sets them by hand), so they are a buffer, and the
    trainable parameters stay the paper's 60,000. The paper drew them as 7x12 bitmaps of the
    characters; those bitmaps are not reproduced here: the codes are a fixed pseudo-random +1/-1
    pattern (NumPy seed 1998), which plays the same role of well-separated targets.
    """

    summary_depth = 1  # a weight layer for nets.summary's depth column

    def __init__(self, nInput: int = 84, nClass: int = 10) -> None:
        super().__init__()
        codes = np.where(np.random.default_rng(1998).random((nClass, nInput)) < 0.5, -1.0, 1.0)
        self.register_buffer("centres", jnp.asarray(codes, jnp.float32))
        self.nInput, self.nClass = int(nInput), int(nClass)

    def outputShape(self, inShape: tuple[int, ...]) -> tuple[int, ...]:
        """(N, nClass) for (N, nInput)."""
        if len(inShape) not in (1, 2) or inShape[-1] != self.nInput:
            raise ModuleError(
                self._describe(),
                f"expected input of size {self.nInput} in the last dimension, got {inShape}",
            )
        return (*inShape[:-1], self.nClass)

    def multAdds(self, outShape: tuple[int, ...]) -> int:
        """One squared difference per (input, class) pair: the paper's 840 connections."""
        return self.nInput * self.nClass

    def updateOutput(self, input: Any) -> Any:
        if getattr(input, "ndim", None) not in (1, 2) or input.shape[-1] != self.nInput:
            raise ModuleError(
                self._describe(),
                f"expected input of size {self.nInput} in the last dimension, "
                f"got {shape_str(input)}",
            )
        centres = jnp.reshape(self.centres, (1,) * (input.ndim - 1) + self.centres.shape)
        diff = input[..., None, :] - centres  # (N, nClass, nInput)
        self.output = -jnp.sum(diff * diff, axis=-1)
        return self.output

    def __repr__(self) -> str:
        return f"RBFOutput({self.nInput} -> {self.nClass})"


def _scaled_tanh() -> nn.Sequential:
    """The paper's squashing function ``f(a) = 1.7159 tanh(2a/3)`` (its Appendix A)."""
    return nn.Sequential(nn.MulConstant(2 / 3), nn.Tanh(), nn.MulConstant(1.7159))


_MODERN = ModelMeta(
    paper="Gradient-Based Learning Applied to Document Recognition (LeCun et al.), "
    "as the seed's Torch7 example modernises it",
    year=1998,
    url="http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf",
    input_size=(3, 32, 32),
    layers=5,
    params="62,006",
    params_source="the seed's Torch7 example, counted: 456 + 2,416 + 48,120 + 10,164 + 850",
)
_LECUN = ModelMeta(
    paper="Gradient-Based Learning Applied to Document Recognition (LeCun et al.)",
    year=1998,
    url="http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf",
    input_size=(1, 32, 32),
    layers=7,
    params="60,000",
    mult_adds="332,824",
    mult_adds_source="the paper's 340,908 connections less its 8,084 bias connections",
    notes="The output layer is Euclidean RBF units with fixed (untrained) codes, as in the "
    "paper; its 840 code values are a buffer, not among the 60,000 trainable parameters, "
    "and are pseudo-random +1/-1 rather than the paper's hand-drawn 7x12 bitmaps.",
)


@register("lenet5_1998", meta=_LECUN, variant="1998")
@register("lenet5", meta=_MODERN)
def lenet5(variant: str = "modern", num_classes: int = 10, in_channels: int | None = None) -> Model:
    """lenet5([variant='modern'], [num_classes=10], [in_channels]): LeNet-5.

    ``variant='modern'`` is the seed's Torch7 example: conv 5x5 (6) - ReLU - max pool 2x2, conv
    5x5 (16) - ReLU - max pool 2x2, then Linear 400-120-84-`num_classes` with ReLUs and a final
    LogSoftMax; ``in_channels`` 3 (CIFAR, the default) or 1 (MNIST padded to 32x32).

    ``variant='1998'`` is LeCun et al. 1998: C1 conv 5x5 (6), S2 trainable subsampling, C3 conv
    5x5 with Table I's sparse connections (SpatialConvolutionMap), S4 subsampling, C5 conv 5x5
    (120), F6 Linear 84, every unit squashed by ``1.7159 tanh(2a/3)``, and the Euclidean RBF
    output (`RBFOutput`, fixed codes). Trainable parameters: C1 156, S2 12, C3 1,516, S4 32,
    C5 48,120, F6 10,164 = 60,000. One 32x32 plane in (``in_channels`` must be 1).

    Args:
        variant: ``'modern'`` or ``'1998'``.
        num_classes: outputs (10 digits).
        in_channels: input planes; 3 for 'modern' by default, 1 for '1998'.

    Returns:
        Model: input (N, C, 32, 32), output (N, num_classes).

    Example:
        >>> import jax.numpy as jnp
        >>> from nets import models
        >>> models.lenet5(in_channels=1).forward(jnp.zeros((2, 1, 32, 32))).shape
        (2, 10)
    """
    valid_choice("variant", variant, ("modern", "1998"), "lenet5")
    if variant == "modern":
        c = 3 if in_channels is None else in_channels
        valid_choice("in_channels", c, (1, 3), "lenet5")
        return Model(
            "lenet5",
            (c, 32, 32),
            nn.SpatialConvolution(c, 6, 5, 5),  # N x 6 x 28 x 28
            nn.ReLU(),
            nn.SpatialMaxPooling(2, 2, 2, 2),  # N x 6 x 14 x 14
            nn.SpatialConvolution(6, 16, 5, 5),  # N x 16 x 10 x 10
            nn.ReLU(),
            nn.SpatialMaxPooling(2, 2, 2, 2),  # N x 16 x 5 x 5
            flatten(16 * 5 * 5),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
            nn.LogSoftMax(),
        )
    valid_choice("in_channels", 1 if in_channels is None else in_channels, (1,), "lenet5('1998')")

    def layer(label, module, patch=""):
        return labelled(nn.Sequential(module, _scaled_tanh()), label, patch)

    return Model(
        "lenet5_1998",
        (1, 32, 32),
        layer("C1 convolution", nn.SpatialConvolution(1, 6, 5, 5), "5×5/1"),  # N x 6 x 28 x 28
        layer("S2 subsampling", nn.SpatialSubSampling(6, 2, 2, 2, 2), "2×2/2"),  # N x 6 x 14 x 14
        layer(
            "C3 convolution (Table I)",
            nn.SpatialConvolutionMap(c3_connection_table(), 5, 5),
            "5×5/1",
        ),  # N x 16 x 10 x 10
        layer("S4 subsampling", nn.SpatialSubSampling(16, 2, 2, 2, 2), "2×2/2"),  # N x 16 x 5 x 5
        layer("C5 convolution", nn.SpatialConvolution(16, 120, 5, 5), "5×5/1"),  # N x 120 x 1 x 1
        flatten(120),
        layer("F6 linear", nn.Linear(120, 84)),
        labelled(RBFOutput(84, num_classes), "RBF output"),
    )
