"""The Inception family after GoogLeNet: BN-Inception (v2), Inception v3, v4, Inception-ResNet-v2.

Papers:
  S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
  Internal Covariate Shift", ICML 2015, https://arxiv.org/abs/1502.03167 (Figure 5).
  C. Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
  https://arxiv.org/abs/1512.00567 (Table 1, Figures 5-7, 10).
  C. Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual Connections on
  Learning", AAAI 2017, https://arxiv.org/abs/1602.07261 (Figures 3-9, 15-19).

Where a paper gives only stage shapes (v3) or its printed widths do not compose (Inception-
ResNet-v2), the filter counts are those of the authors' released TF-slim models (as ported by
torchvision and timm); every such point is listed in the builder's notes and docs/models.md.
"""

from __future__ import annotations

from nets import nn

from ._base import Model, conv, conv_bn, flatten, labelled
from ._registry import ModelMeta, register

__all__ = ["inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2", "BN_INCEPTION"]

_EPS = 1e-3  # the TF-slim releases' batch-norm epsilon (v3, v4, Inception-ResNet-v2)


def _u(nIn, nOut, kW, kH=None, d=1, padW=0, padH=None, eps=_EPS) -> nn.Sequential:
    """One unit: conv (no bias) - batch norm - ReLU."""
    return conv_bn(nIn, nOut, kW, kH, d, d, padW, padH, eps=eps)


def _seq(*units: nn.Module) -> nn.Sequential:
    return nn.Sequential(*units)


def _avg_proj(nIn: int, nOut: int, eps: float = _EPS, include_pad: bool = True) -> nn.Sequential:
    pool = nn.SpatialAveragePooling(3, 3, 1, 1, 1, 1, count_include_pad=include_pad)
    return _seq(pool, _u(nIn, nOut, 1, eps=eps))


def _max(stride: int = 2) -> nn.SpatialMaxPooling:
    return nn.SpatialMaxPooling(3, 3, stride, stride)


# ----------------------------------------------------------------------------- BN-Inception

# Figure 5 of the BN paper: name -> (#1x1, #3x3 reduce, #3x3, double #3x3 reduce,
# double #3x3, pool, pool proj (0: pass through), stride).
BN_INCEPTION: dict[str, tuple] = {
    "3a": (64, 64, 64, 64, 96, "avg", 32, 1),
    "3b": (64, 64, 96, 64, 96, "avg", 64, 1),
    "3c": (0, 128, 160, 64, 96, "max", 0, 2),
    "4a": (224, 64, 96, 96, 128, "avg", 128, 1),
    "4b": (192, 96, 128, 96, 128, "avg", 128, 1),
    "4c": (160, 128, 160, 128, 160, "avg", 128, 1),
    "4d": (96, 128, 192, 160, 192, "avg", 128, 1),
    "4e": (0, 128, 192, 192, 256, "max", 0, 2),
    "5a": (352, 192, 320, 160, 224, "avg", 128, 1),
    "5b": (352, 192, 320, 192, 224, "max", 128, 1),
}


def _bn_block(nIn: int, row: tuple) -> tuple[nn.Module, int]:
    n1, r3, n3, rd, nd, pool, proj, s = row
    e = 1e-5
    branches = []
    if n1:
        branches.append(_u(nIn, n1, 1, eps=e))
    branches.append(_seq(_u(nIn, r3, 1, eps=e), _u(r3, n3, 3, d=s, padW=1, eps=e)))
    branches.append(
        _seq(_u(nIn, rd, 1, eps=e), _u(rd, nd, 3, padW=1, eps=e), _u(nd, nd, 3, d=s, padW=1, eps=e))
    )
    if s == 2:  # max pool and pass through, ceil rounding as the released model (28 -> 14)
        branches.append(nn.SpatialMaxPooling(3, 3, 2, 2).ceil())
    elif pool == "avg":
        branches.append(_avg_proj(nIn, proj, e))
    else:
        branches.append(_seq(nn.SpatialMaxPooling(3, 3, 1, 1, 1, 1), _u(nIn, proj, 1, eps=e)))
    planes = n1 + n3 + nd + (proj if s == 1 else nIn)
    return nn.Concat(1, *branches), planes


@register(
    "inception_v2",
    meta=ModelMeta(
        paper="Batch Normalization: Accelerating Deep Network Training by Reducing Internal "
        "Covariate Shift (Ioffe & Szegedy), BN-Inception",
        year=2015,
        url="https://arxiv.org/abs/1502.03167",
        input_size=(3, 224, 224),
        layers=None,
        params=None,
        params_source="none usable: see notes",
        top5="4.8%",
        notes="Figure 5 prints 14x14x576 after (4c) and (4d) and 7x7x1024 after (4e), but its "
        "own filter counts give 608 planes after (4c) and (4d) (160+160+160+128 and "
        "96+192+192+128) and 1056 after (4e) (192+256+608 passed through); the network is "
        "built to the filter counts, as the released BN-Inception models are. The text's "
        "13.6M parameters do not match Figure 5's layers either (they have 11.3M).",
    ),
)
def inception_v2(num_classes: int = 1000) -> Model:
    """inception_v2([num_classes=1000]): BN-Inception, Figure 5 of the batch-norm paper.

    GoogLeNet with batch normalisation after every convolution, each 5x5 replaced by two 3x3
    (the "double 3x3" branch), average pooling in most pool branches, and stride-2 modules (3c,
    4e) that pass the max-pooled input through in place of the separate pooling layers.

    Args:
        num_classes: outputs.

    Returns:
        Model: (N, 3, 224, 224) to (N, num_classes) log-probabilities.
    """
    e = 1e-5
    layers: list[nn.Module] = [
        labelled(_u(3, 64, 7, d=2, padW=3, eps=e), "convolution", "7×7/2"),  # 112 x 112
        nn.SpatialMaxPooling(3, 3, 2, 2).ceil(),  # N x 64 x 56 x 56
        labelled(_seq(_u(64, 64, 1, eps=e), _u(64, 192, 3, padW=1, eps=e)), "convolution", "3×3/1"),
        nn.SpatialMaxPooling(3, 3, 2, 2).ceil(),  # N x 192 x 28 x 28
    ]
    planes = 192
    for name, row in BN_INCEPTION.items():
        block, planes = _bn_block(planes, row)
        layers.append(labelled(block, f"inception ({name})"))
        # 3c: N x 576 x 14 x 14; 4e: N x 1056 x 7 x 7; 5b: N x 1024 x 7 x 7
    layers += [
        nn.SpatialAveragePooling(7, 7, 1, 1),
        flatten(planes),
        nn.Linear(planes, num_classes),
        nn.LogSoftMax(),
    ]
    return Model("inception_v2", (3, 224, 224), *layers)


# ----------------------------------------------------------------------------- Inception v3


def _v3_a(nIn: int, pool_proj: int) -> nn.Concat:
    """35x35 module (Figure 5; the release keeps a 5x5 branch beside the double 3x3)."""
    return nn.Concat(
        1,
        _u(nIn, 64, 1),
        _seq(_u(nIn, 48, 1), _u(48, 64, 5, padW=2)),
        _seq(_u(nIn, 64, 1), _u(64, 96, 3, padW=1), _u(96, 96, 3, padW=1)),
        _avg_proj(nIn, pool_proj),
    )


def _v3_reduce_a(nIn: int) -> nn.Concat:
    """35x35 -> 17x17 grid reduction (Figure 10)."""
    return nn.Concat(
        1,
        _u(nIn, 384, 3, d=2),
        _seq(_u(nIn, 64, 1), _u(64, 96, 3, padW=1), _u(96, 96, 3, d=2)),
        _max(),
    )


def _v3_b(nIn: int, c7: int) -> nn.Concat:
    """17x17 module with factorised 7x7 convolutions (Figure 6, n = 7)."""
    return nn.Concat(
        1,
        _u(nIn, 192, 1),
        _seq(_u(nIn, c7, 1), _u(c7, c7, 7, 1, padW=3, padH=0), _u(c7, 192, 1, 7, padW=0, padH=3)),
        _seq(
            _u(nIn, c7, 1),
            _u(c7, c7, 1, 7, padW=0, padH=3),
            _u(c7, c7, 7, 1, padW=3, padH=0),
            _u(c7, c7, 1, 7, padW=0, padH=3),
            _u(c7, 192, 7, 1, padW=3, padH=0),
        ),
        _avg_proj(nIn, 192),
    )


def _v3_reduce_b(nIn: int) -> nn.Concat:
    """17x17 -> 8x8 grid reduction."""
    return nn.Concat(
        1,
        _seq(_u(nIn, 192, 1), _u(192, 320, 3, d=2)),
        _seq(
            _u(nIn, 192, 1),
            _u(192, 192, 7, 1, padW=3, padH=0),
            _u(192, 192, 1, 7, padW=0, padH=3),
            _u(192, 192, 3, d=2),
        ),
        _max(),
    )


def _split_1x3_3x1(nIn: int, n: int) -> nn.Concat:
    """Figure 7's expanded filter bank: a 1x3 and a 3x1 side by side."""
    return nn.Concat(1, _u(nIn, n, 3, 1, padW=1, padH=0), _u(nIn, n, 1, 3, padW=0, padH=1))


def _v3_c(nIn: int) -> nn.Concat:
    """8x8 module with expanded filter banks (Figure 7)."""
    return nn.Concat(
        1,
        _u(nIn, 320, 1),
        _seq(_u(nIn, 384, 1), _split_1x3_3x1(384, 384)),
        _seq(_u(nIn, 448, 1), _u(448, 384, 3, padW=1), _split_1x3_3x1(384, 384)),
        _avg_proj(nIn, 192),
    )


@register(
    "inception_v3",
    meta=ModelMeta(
        paper="Rethinking the Inception Architecture for Computer Vision (Szegedy et al.)",
        year=2015,
        url="https://arxiv.org/abs/1512.00567",
        input_size=(3, 299, 299),
        layers=None,
        params="23,834,568",
        params_source="torchvision's inception_v3 without its auxiliary head (the paper: "
        "'less than 25 million parameters')",
        mult_adds="5.71G",
        mult_adds_source="torchvision's inception_v3 (the paper: '5 billion multiply-adds')",
        top5="3.5%",
        notes="Table 1 gives stage shapes only; the filter counts are the authors' TF-slim "
        "release. Where the table and the release differ the release is built: the stem's "
        "'conv 3x3/1 80' is a 1x1 conv (80) then a 3x3 conv (192) and a 3x3/2 max pool; the "
        "35x35 modules keep a 5x5 branch next to the double 3x3 of Figure 5. The auxiliary "
        "classifier is not built. The text calls the network 42 layers deep; its longest path "
        "has 48 weight layers.",
    ),
)
def inception_v3(num_classes: int = 1000) -> Model:
    """inception_v3([num_classes=1000]): Inception v3 for 299x299 input.

    Stem to 35x35x192, three 35x35 modules (256, 288, 288 planes), a grid reduction to
    17x17x768, four 17x17 modules with factorised 1x7/7x1 convolutions (c7 = 128, 160, 160,
    192), a reduction to 8x8x1280, two 8x8 modules with expanded 1x3/3x1 banks (2048 planes),
    8x8 average pooling, dropout 0.5 and a linear layer. Batch norm (eps 0.001) follows every
    convolution.

    Args:
        num_classes: outputs.

    Returns:
        Model: (N, 3, 299, 299) to (N, num_classes) log-probabilities.
    """
    stem = labelled(
        _seq(
            _u(3, 32, 3, d=2),  # N x 32 x 149 x 149
            _u(32, 32, 3),  # N x 32 x 147 x 147
            _u(32, 64, 3, padW=1),  # N x 64 x 147 x 147
            _max(),  # N x 64 x 73 x 73
            _u(64, 80, 1),
            _u(80, 192, 3),  # N x 192 x 71 x 71
            _max(),  # N x 192 x 35 x 35
        ),
        "stem",
    )
    blocks = [
        labelled(_v3_a(192, 32), "inception 35×35 (5b)"),  # N x 256 x 35 x 35
        labelled(_v3_a(256, 64), "inception 35×35 (5c)"),  # N x 288 x 35 x 35
        labelled(_v3_a(288, 64), "inception 35×35 (5d)"),
        labelled(_v3_reduce_a(288), "reduction (6a)"),  # N x 768 x 17 x 17
        *[
            labelled(_v3_b(768, c7), f"inception 17×17 ({n})")
            for n, c7 in zip("bcde", (128, 160, 160, 192), strict=True)
        ],
        labelled(_v3_reduce_b(768), "reduction (7a)"),  # N x 1280 x 8 x 8
        labelled(_v3_c(1280), "inception 8×8 (7b)"),  # N x 2048 x 8 x 8
        labelled(_v3_c(2048), "inception 8×8 (7c)"),
    ]
    return Model(
        "inception_v3",
        (3, 299, 299),
        stem,
        *blocks,
        nn.SpatialAveragePooling(8, 8, 1, 1),  # N x 2048 x 1 x 1
        flatten(2048),
        nn.Dropout(0.5),
        nn.Linear(2048, num_classes),
        nn.LogSoftMax(),
    )


# ----------------------------------------------------------------------------- Inception v4


def _v4_stem() -> nn.Sequential:
    """Figure 3: 299x299x3 -> 35x35x384."""
    return _seq(
        _u(3, 32, 3, d=2),  # N x 32 x 149 x 149
        _u(32, 32, 3),  # N x 32 x 147 x 147
        _u(32, 64, 3, padW=1),
        nn.Concat(1, _max(), _u(64, 96, 3, d=2)),  # N x 160 x 73 x 73
        nn.Concat(
            1,
            _seq(_u(160, 64, 1), _u(64, 96, 3)),
            _seq(
                _u(160, 64, 1),
                _u(64, 64, 7, 1, padW=3, padH=0),
                _u(64, 64, 1, 7, padW=0, padH=3),
                _u(64, 96, 3),
            ),
        ),  # N x 192 x 71 x 71
        nn.Concat(1, _u(192, 192, 3, d=2), _max()),  # N x 384 x 35 x 35
    )


def _v4_a() -> nn.Concat:
    """Figure 4: the 35x35 Inception-A block (384 planes)."""
    return nn.Concat(
        1,
        _u(384, 96, 1),
        _seq(_u(384, 64, 1), _u(64, 96, 3, padW=1)),
        _seq(_u(384, 64, 1), _u(64, 96, 3, padW=1), _u(96, 96, 3, padW=1)),
        _avg_proj(384, 96, include_pad=False),
    )


def _reduction_a(nIn: int, k: int, l: int, m: int, n: int) -> nn.Concat:  # noqa: E741
    """Figure 7: 35x35 -> 17x17 (v4: k=192, l=224, m=256, n=384)."""
    return nn.Concat(
        1,
        _u(nIn, n, 3, d=2),
        _seq(_u(nIn, k, 1), _u(k, l, 3, padW=1), _u(l, m, 3, d=2)),
        _max(),
    )


def _v4_b() -> nn.Concat:
    """Figure 5: the 17x17 Inception-B block (1024 planes)."""
    return nn.Concat(
        1,
        _u(1024, 384, 1),
        _seq(
            _u(1024, 192, 1),
            _u(192, 224, 7, 1, padW=3, padH=0),
            _u(224, 256, 1, 7, padW=0, padH=3),
        ),
        _seq(
            _u(1024, 192, 1),
            _u(192, 192, 1, 7, padW=0, padH=3),
            _u(192, 224, 7, 1, padW=3, padH=0),
            _u(224, 224, 1, 7, padW=0, padH=3),
            _u(224, 256, 7, 1, padW=3, padH=0),
        ),
        _avg_proj(1024, 128, include_pad=False),
    )


def _v4_reduction_b() -> nn.Concat:
    """Figure 8: 17x17x1024 -> 8x8x1536."""
    return nn.Concat(
        1,
        _seq(_u(1024, 192, 1), _u(192, 192, 3, d=2)),
        _seq(
            _u(1024, 256, 1),
            _u(256, 256, 7, 1, padW=3, padH=0),
            _u(256, 320, 1, 7, padW=0, padH=3),
            _u(320, 320, 3, d=2),
        ),
        _max(),
    )


def _v4_c() -> nn.Concat:
    """Figure 6: the 8x8 Inception-C block (1536 planes)."""
    return nn.Concat(
        1,
        _u(1536, 256, 1),
        _seq(_u(1536, 384, 1), _split_1x3_3x1(384, 256)),
        _seq(
            _u(1536, 384, 1),
            _u(384, 448, 1, 3, padW=0, padH=1),
            _u(448, 512, 3, 1, padW=1, padH=0),
            _split_1x3_3x1(512, 256),
        ),
        _avg_proj(1536, 256, include_pad=False),
    )


@register(
    "inception_v4",
    meta=ModelMeta(
        paper="Inception-v4, Inception-ResNet and the Impact of Residual Connections on "
        "Learning (Szegedy et al.)",
        year=2016,
        url="https://arxiv.org/abs/1602.07261",
        input_size=(3, 299, 299),
        layers=None,
        params="42,679,816",
        params_source="timm's inception_v4, the same network (the paper prints no count)",
        top5="3.08%",
        notes="The seed's 3.08% is the paper's ensemble of Inception-v4 and three "
        "Inception-ResNet-v2 models.",
    ),
)
def inception_v4(num_classes: int = 1000) -> Model:
    """inception_v4([num_classes=1000]): Inception-v4, Figure 9 of the paper.

    The stem of Figure 3 (to 35x35x384), 4 Inception-A, Reduction-A (k, l, m, n = 192, 224,
    256, 384), 7 Inception-B, Reduction-B, 3 Inception-C, 8x8 average pooling, dropout (keep
    0.8) and a linear layer; batch norm (eps 0.001) after every convolution.

    Args:
        num_classes: outputs.

    Returns:
        Model: (N, 3, 299, 299) to (N, num_classes) log-probabilities.
    """
    return Model(
        "inception_v4",
        (3, 299, 299),
        labelled(_v4_stem(), "stem"),  # N x 384 x 35 x 35
        *[labelled(_v4_a(), f"inception-A ({i + 1})") for i in range(4)],
        labelled(_reduction_a(384, 192, 224, 256, 384), "reduction-A"),  # N x 1024 x 17 x 17
        *[labelled(_v4_b(), f"inception-B ({i + 1})") for i in range(7)],
        labelled(_v4_reduction_b(), "reduction-B"),  # N x 1536 x 8 x 8
        *[labelled(_v4_c(), f"inception-C ({i + 1})") for i in range(3)],
        nn.SpatialAveragePooling(8, 8, 1, 1),
        flatten(1536),
        nn.Dropout(0.2),
        nn.Linear(1536, num_classes),
        nn.LogSoftMax(),
    )


# ----------------------------------------------------------------------------- Inception-ResNet-v2


def _scaled_residual(nIn: int, branches: nn.Concat, width: int, scale: float, relu: bool):
    """x + scale * conv1x1(branches(x)) (Figure 20's scaling), then ReLU (not after the last)."""
    body = _seq(branches, conv(width, nIn, 1), nn.MulConstant(scale))
    seq = _seq(nn.ConcatTable(body, nn.Identity()), nn.CAddTable(True))
    if relu:
        seq.add(nn.ReLU(True))
    return seq


def _ir_a(nIn: int = 320) -> nn.Sequential:
    """Inception-ResNet-A (Figure 16; 35x35, scale 0.17)."""
    branches = nn.Concat(
        1,
        _u(nIn, 32, 1),
        _seq(_u(nIn, 32, 1), _u(32, 32, 3, padW=1)),
        _seq(_u(nIn, 32, 1), _u(32, 48, 3, padW=1), _u(48, 64, 3, padW=1)),
    )
    return _scaled_residual(nIn, branches, 128, 0.17, True)


def _ir_b(nIn: int = 1088) -> nn.Sequential:
    """Inception-ResNet-B (Figure 17; 17x17, scale 0.10)."""
    branches = nn.Concat(
        1,
        _u(nIn, 192, 1),
        _seq(
            _u(nIn, 128, 1), _u(128, 160, 7, 1, padW=3, padH=0), _u(160, 192, 1, 7, padW=0, padH=3)
        ),
    )
    return _scaled_residual(nIn, branches, 384, 0.10, True)


def _ir_c(nIn: int = 2080, relu: bool = True) -> nn.Sequential:
    """Inception-ResNet-C (Figure 19; 8x8, scale 0.20)."""
    branches = nn.Concat(
        1,
        _u(nIn, 192, 1),
        _seq(
            _u(nIn, 192, 1), _u(192, 224, 3, 1, padW=1, padH=0), _u(224, 256, 1, 3, padW=0, padH=1)
        ),
    )
    return _scaled_residual(nIn, branches, 448, 0.20, relu)


@register(
    "inception_resnet_v2",
    meta=ModelMeta(
        paper="Inception-v4, Inception-ResNet and the Impact of Residual Connections on "
        "Learning (Szegedy et al.)",
        year=2016,
        url="https://arxiv.org/abs/1602.07261",
        input_size=(3, 299, 299),
        layers=None,
        params="55,843,464",
        params_source="timm's inception_resnet_v2, the same network (the paper prints no count)",
        notes="As printed, Inception-ResNet-v2 does not compose: Figure 17's 1x1 conv gives "
        "1154 planes to add to a 1152-plane input, and Figure 19's gives 2048 for a 2144-plane "
        "input. The network built is the authors' TF-slim release, which fixes the widths: a "
        "v3-style stem and a 35x35 mixed block to 320 planes, 10 x A (320), Reduction-A to "
        "1088, 20 x B (1088), Reduction-B to 2080, 10 x C (2080), a 1x1 conv to 1536; the "
        "figures' 5/10/5 block counts are the release's 10/20/10.",
    ),
)
def inception_resnet_v2(num_classes: int = 1000) -> Model:
    """inception_resnet_v2([num_classes=1000]): Inception-ResNet-v2 as the authors released it.

    Residual Inception blocks whose branch output is scaled (0.17, 0.10, 0.20) before it is
    added to the input (Figure 20), with the reductions of Figures 7 and 18. See the notes in
    docs/models.md for where the paper's figures do not compose and what is built instead.

    Args:
        num_classes: outputs.

    Returns:
        Model: (N, 3, 299, 299) to (N, num_classes) log-probabilities.
    """
    stem = _seq(
        _u(3, 32, 3, d=2),
        _u(32, 32, 3),
        _u(32, 64, 3, padW=1),
        _max(),  # N x 64 x 73 x 73
        _u(64, 80, 1),
        _u(80, 192, 3),
        _max(),  # N x 192 x 35 x 35
        nn.Concat(
            1,
            _u(192, 96, 1),
            _seq(_u(192, 48, 1), _u(48, 64, 5, padW=2)),
            _seq(_u(192, 64, 1), _u(64, 96, 3, padW=1), _u(96, 96, 3, padW=1)),
            _avg_proj(192, 64, include_pad=False),
        ),  # N x 320 x 35 x 35
    )
    reduction_b = nn.Concat(
        1,
        _seq(_u(1088, 256, 1), _u(256, 384, 3, d=2)),
        _seq(_u(1088, 256, 1), _u(256, 288, 3, d=2)),
        _seq(_u(1088, 256, 1), _u(256, 288, 3, padW=1), _u(288, 320, 3, d=2)),
        _max(),
    )  # N x 2080 x 8 x 8
    return Model(
        "inception_resnet_v2",
        (3, 299, 299),
        labelled(stem, "stem"),
        labelled(_seq(*[_ir_a() for _ in range(10)]), "10 x inception-resnet-A"),
        labelled(_reduction_a(320, 256, 256, 384, 384), "reduction-A"),  # N x 1088 x 17 x 17
        labelled(_seq(*[_ir_b() for _ in range(20)]), "20 x inception-resnet-B"),
        labelled(reduction_b, "reduction-B"),
        labelled(
            _seq(*[_ir_c(relu=i < 9) for i in range(10)]), "10 x inception-resnet-C"
        ),  # N x 2080 x 8 x 8
        labelled(_u(2080, 1536, 1), "convolution", "1×1/1"),  # N x 1536 x 8 x 8
        nn.SpatialAveragePooling(8, 8, 1, 1),
        flatten(1536),
        nn.Dropout(0.2),
        nn.Linear(1536, num_classes),
        nn.LogSoftMax(),
    )
