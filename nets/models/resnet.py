"""ResNet: the ImageNet networks (18 to 152 layers) and the CIFAR-10 networks (20 to 110).

Paper: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
CVPR 2016 (arXiv 2015), https://arxiv.org/abs/1512.03385 (Table 1, Section 4.1 shortcut
options A/B/C, Section 4.2 CIFAR-10).
"""

from __future__ import annotations

from nets import nn

from ._base import Model, conv_bn, flatten, labelled
from ._registry import ModelMeta, alias, register, valid_choice

__all__ = ["resnet", "resnet_cifar", "BLOCKS", "resnet18", "resnet34", "resnet50"]

# Table 1: depth -> (block, blocks per stage conv2_x .. conv5_x).
BLOCKS: dict[int, tuple[str, list[int]]] = {
    18: ("basic", [2, 2, 2, 2]),
    34: ("basic", [3, 4, 6, 3]),
    50: ("bottleneck", [3, 4, 6, 3]),
    101: ("bottleneck", [3, 4, 23, 3]),
    152: ("bottleneck", [3, 8, 36, 3]),
}
# Table 1's FLOPs row (multiply-adds).
_FLOPS = {18: "1.8G", 34: "3.6G", 50: "3.8G", 101: "7.6G", 152: "11.3G"}
# Parameter counts of the same networks (option B) in torchvision; the paper prints none.
_PARAMS = {
    18: "11,689,512",
    34: "21,797,672",
    50: "25,557,032",
    101: "44,549,160",
    152: "60,192,808",
}
# Table 6 (CIFAR-10, option A): depth -> "#params".
_CIFAR_PARAMS = {20: "0.27M", 32: "0.46M", 44: "0.66M", 56: "0.85M", 110: "1.7M"}
SHORTCUTS = ("A", "B", "C", "none")


def _shortcut(nIn: int, nOut: int, stride: int, kind: str) -> nn.Module | None:
    """Section 4.1's options: A zero-pads new planes (no parameters), B projects (1x1 conv + BN)
    where the shape changes and is the identity elsewhere, C projects everywhere; 'none' is the
    paper's plain network (no shortcut)."""
    if kind == "none":
        return None
    if kind == "C" or (kind == "B" and (stride != 1 or nIn != nOut)):
        return conv_bn(nIn, nOut, 1, 1, stride, stride, relu=False)
    if stride == 1 and nIn == nOut:
        return nn.Identity()
    # Option A as fb.resnet.torch builds it: a 1x1/stride pool picks every stride-th
    # pixel, and a Concat of the input with zeroed copies of it pads the new planes with 0.
    if nOut % nIn:
        raise ValueError(f"shortcut 'A' needs nOut ({nOut}) to be a multiple of nIn ({nIn})")
    seq = nn.Sequential()
    if stride != 1:
        seq.add(nn.SpatialMaxPooling(1, 1, stride, stride))
    pad = nn.Concat(1, nn.Identity(), *[nn.MulConstant(0) for _ in range(nOut // nIn - 1)])
    return seq.add(pad)


def _residual(body: nn.Sequential, shortcut: nn.Module | None) -> nn.Sequential:
    """relu(body(x) + shortcut(x)), Figure 2; relu(body(x)) for a plain network."""
    if shortcut is None:
        return body.add(nn.ReLU(True))
    return nn.Sequential(nn.ConcatTable(body, shortcut), nn.CAddTable(True), nn.ReLU(True))


def _basic(nIn: int, n: int, stride: int, kind: str, downsample: str) -> nn.Sequential:
    """Two 3x3 convolutions (Figure 5 left); downsampling by the first one's stride."""
    body = nn.Sequential(
        conv_bn(nIn, n, 3, 3, stride, stride, 1, 1),
        conv_bn(n, n, 3, 3, 1, 1, 1, 1, relu=False),
    )
    return _residual(body, _shortcut(nIn, n, stride, kind))


def _bottleneck(nIn: int, n: int, stride: int, kind: str, downsample: str) -> nn.Sequential:
    """1x1 (n), 3x3 (n), 1x1 (4n) (Figure 5 right). The stride sits on the first 1x1 as in
    the authors' released models (``downsample='1x1'``, which gives Table 1's FLOPs) or on the
    3x3 (``downsample='3x3'``, the later "ResNet v1.5")."""
    s1, s3 = (stride, 1) if downsample == "1x1" else (1, stride)
    body = nn.Sequential(
        conv_bn(nIn, n, 1, 1, s1, s1),
        conv_bn(n, n, 3, 3, s3, s3, 1, 1),
        conv_bn(n, 4 * n, 1, 1, relu=False),
    )
    return _residual(body, _shortcut(nIn, 4 * n, stride, kind))


def _stage(block, nIn: int, n: int, count: int, stride: int, kind: str, downsample: str):
    """`count` blocks; the first one changes the shape. Returns (stage, planes out)."""
    expansion = 4 if block is _bottleneck else 1
    seq = nn.Sequential()
    for i in range(count):
        seq.add(
            block(nIn if i == 0 else n * expansion, n, stride if i == 0 else 1, kind, downsample)
        )
    return seq, n * expansion


def resnet(
    depth: int = 50, num_classes: int = 1000, shortcut: str = "B", downsample: str = "1x1"
) -> Model:
    """resnet([depth=50], [num_classes=1000], [shortcut='B'], [downsample='1x1']): ImageNet ResNet.

    Table 1: conv1 7x7/2 (64) with BN and ReLU, 3x3/2 max pool, stages conv2_x .. conv5_x of
    basic (18, 34) or bottleneck (50, 101, 152) blocks with 64, 128, 256, 512 planes, the first
    block of conv3_x .. conv5_x downsampling by 2, then global average pooling, a
    `num_classes`-way linear layer and soft-max (LogSoftMax here). Convolutions have no bias
    (batch normalisation follows each).

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_classes: outputs.
        shortcut: 'A' (zero-padding identity, no parameters), 'B' (projections where the shape
            changes; the default) or 'C' (projections everywhere), Section 4.1; 'none' builds
            the paper's plain network of the same depth (Table 2's plain-18/34 baselines).
        downsample: where a bottleneck's stride goes: '1x1' (the authors' models, Table 1's
            FLOPs) or '3x3'.

    Returns:
        Model: (N, 3, 224, 224) to (N, num_classes); any input of at least 32x32 works (global
        pooling).

    Raises:
        ModelError: unknown depth, shortcut or downsample (the message lists the valid ones).
    """
    valid_choice("depth", depth, tuple(BLOCKS), "resnet")
    valid_choice("shortcut", shortcut, SHORTCUTS, "resnet")
    valid_choice("downsample", downsample, ("1x1", "3x3"), "resnet")
    kind, counts = BLOCKS[depth]
    block = _basic if kind == "basic" else _bottleneck
    stages = []
    planes = 64
    for i, (n, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True)):
        stage, planes = _stage(block, planes, n, count, 1 if i == 0 else 2, shortcut, downsample)
        stages.append(labelled(stage, f"conv{i + 2}_x"))
    return Model(
        f"resnet{depth}",
        (3, 224, 224),
        labelled(conv_bn(3, 64, 7, 7, 2, 2, 3, 3), "conv1", "7×7/2"),  # N x 64 x 112 x 112
        nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1),  # N x 64 x 56 x 56
        *stages,  # N x 2048 (or 512) x 7 x 7
        nn.SpatialAdaptiveAveragePooling(1, 1),
        flatten(planes),
        nn.Linear(planes, num_classes),
        nn.LogSoftMax(),
    )


def resnet_cifar(depth: int = 20, num_classes: int = 10, shortcut: str = "A") -> Model:
    """resnet_cifar([depth=20], [num_classes=10], [shortcut='A']): the CIFAR-10 ResNets.

    Section 4.2: a 3x3 convolution (16), then 3 stages of n basic blocks on 32x32, 16x16 and
    8x8 maps with 16, 32 and 64 planes (depth = 6n + 2), global average pooling, a 10-way
    linear layer and soft-max. Shortcuts are option A (identity, zero-padded) as in the paper.

    Args:
        depth: 20, 32, 44, 56 or 110.
        num_classes: outputs.
        shortcut: 'A' (the paper's), 'B', 'C' or 'none' (the plain baseline).

    Returns:
        Model: (N, 3, 32, 32) to (N, num_classes).
    """
    valid_choice("depth", depth, tuple(_CIFAR_PARAMS), "resnet_cifar")
    valid_choice("shortcut", shortcut, SHORTCUTS, "resnet_cifar")
    n = (depth - 2) // 6
    stages = []
    planes = 16
    for i, width in enumerate((16, 32, 64)):
        stage, planes = _stage(_basic, planes, width, n, 1 if i == 0 else 2, shortcut, "1x1")
        stages.append(labelled(stage, f"{32 >> i}×{32 >> i}, {width} planes"))
    return Model(
        f"resnet{depth}_cifar",
        (3, 32, 32),
        labelled(conv_bn(3, 16, 3, 3, 1, 1, 1, 1), "conv", "3×3/1"),  # N x 16 x 32 x 32
        *stages,  # N x 64 x 8 x 8
        nn.SpatialAdaptiveAveragePooling(1, 1),
        flatten(64),
        nn.Linear(64, num_classes),
        nn.LogSoftMax(),
    )


_PAPER = "Deep Residual Learning for Image Recognition (He et al.)"
_URL = "https://arxiv.org/abs/1512.03385"
_NOTE_CUT = (
    "Table 1's FLOPs row is rounded for 18, 101 and 152 layers (1.81, 7.57, 11.28 x 10^9) but "
    "cut for 34 and 50 layers, whose layers have 3.66 and 3.86 x 10^9 multiply-adds (with the "
    "authors' stride on the first 1x1 convolution of a downsampling bottleneck)."
)


def _meta(depth: int) -> ModelMeta:
    return ModelMeta(
        paper=_PAPER,
        year=2015,
        url=_URL,
        input_size=(3, 224, 224),
        layers=depth,
        params=_PARAMS[depth],
        params_source="torchvision's resnet (the paper prints no parameter counts)",
        mult_adds=_FLOPS[depth],
        mult_adds_source="paper, Table 1 (FLOPs)",
        top5="3.57%" if depth == 152 else None,
        notes=_NOTE_CUT if depth in (34, 50) else "",
    )


def _cifar_meta(depth: int) -> ModelMeta:
    return ModelMeta(
        paper=_PAPER + ", CIFAR-10",
        year=2015,
        url=_URL,
        input_size=(3, 32, 32),
        layers=depth,
        params=_CIFAR_PARAMS[depth],
        params_source="paper, Table 6",
    )


resnet18 = alias("resnet18", resnet, _meta(18), "resnet18(**kw) = resnet(18, **kw).", depth=18)
resnet34 = alias("resnet34", resnet, _meta(34), "resnet34(**kw) = resnet(34, **kw).", depth=34)
resnet50 = alias("resnet50", resnet, _meta(50), "resnet50(**kw) = resnet(50, **kw).", depth=50)
resnet101 = alias(
    "resnet101", resnet, _meta(101), "resnet101(**kw) = resnet(101, **kw).", depth=101
)
resnet152 = alias(
    "resnet152", resnet, _meta(152), "resnet152(**kw) = resnet(152, **kw).", depth=152
)
for _depth in _CIFAR_PARAMS:
    register(f"resnet{_depth}_cifar", _cifar_meta(_depth), depth=_depth)(resnet_cifar)
