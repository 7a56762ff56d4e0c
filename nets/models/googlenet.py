"""GoogLeNet (Inception v1): Table 1 of Szegedy et al., row by row.

Paper: C. Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv 2014),
https://arxiv.org/abs/1409.4842
"""

from __future__ import annotations

from typing import Any

from nets import nn

from ._base import Model, conv, conv_bn, flatten, labelled
from ._registry import ModelMeta, register

__all__ = ["googlenet", "googlenet_bn", "INCEPTION", "PAPER_ROWS"]

# Table 1's Inception rows: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
INCEPTION: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}

# Table 1 as printed (the seed copies it): type, patch size/stride, output size, depth,
# params, ops. Params count weights only, in K = 1024; ops are multiply-adds in M = 10^6.
PAPER_ROWS: list[tuple[str, str, str, int, str, str]] = [
    ("convolution", "7×7/2", "112×112×64", 1, "2.7K", "34M"),
    ("max pool", "3×3/2", "56×56×64", 0, "", ""),
    ("convolution", "3×3/1", "56×56×192", 2, "112K", "360M"),
    ("max pool", "3×3/2", "28×28×192", 0, "", ""),
    ("inception (3a)", "", "28×28×256", 2, "159K", "128M"),
    ("inception (3b)", "", "28×28×480", 2, "380K", "304M"),
    ("max pool", "3×3/2", "14×14×480", 0, "", ""),
    ("inception (4a)", "", "14×14×512", 2, "364K", "73M"),
    ("inception (4b)", "", "14×14×512", 2, "437K", "88M"),
    ("inception (4c)", "", "14×14×512", 2, "463K", "100M"),
    ("inception (4d)", "", "14×14×528", 2, "580K", "119M"),
    ("inception (4e)", "", "14×14×832", 2, "840K", "170M"),
    ("max pool", "3×3/2", "7×7×832", 0, "", ""),
    ("inception (5a)", "", "7×7×832", 2, "1072K", "54M"),
    ("inception (5b)", "", "7×7×1024", 2, "1388K", "71M"),
    ("avg pool", "7×7/1", "1×1×1024", 0, "", ""),
    ("dropout (40%)", "", "1×1×1024", 0, "", ""),
    ("linear", "", "1×1×1000", 1, "1000K", "1M"),
    ("softmax", "", "1×1×1000", 0, "", ""),
]

# Where Table 1 disagrees with its own filter counts: row -> (columns that are off, why).
# docs/models.md prints each with the table's figure next to what the network has.
PAPER_ERRATA: dict[str, tuple[tuple[str, ...], str]] = {
    "convolution 7×7/2": (
        ("params", "ops"),
        "64 filters of 7x7 over 3 planes are 9,408 weights; the printed 2.7K and 34M "
        "(= 2.7K x 112 x 112) fit neither 3 planes nor any whole number of them",
    ),
    "inception (4a)": (("params",), "the printed figure is below the filter counts' sum"),
    "inception (4c)": (("params",), "the printed figure is below the filter counts' sum"),
    "inception (4d)": (("params",), "the printed figure is below the filter counts' sum"),
    "inception (4e)": (("params",), "the printed figure is below the filter counts' sum"),
    "inception (5a)": (
        ("params", "ops"),
        "the printed params and ops agree with each other (54M = 1072K x 7 x 7) but not with "
        "the row's filter counts",
    ),
    "inception (5b)": (("params",), "the printed figure is below the filter counts' sum"),
}

# Table 1's ops column summed is the "1.5 billion multiply-adds" of Section 5.
_NOTES = (
    "Table 1's params column disagrees with its own filter counts for conv1, (4a), (4c), "
    "(4d), (4e), (5a) and (5b), and its ops column for conv1 and (5a) (see the errata table); "
    "the network is built to the filter counts. Section 5's '1.5 billion multiply-adds' is "
    "the ops column's sum; with the real conv1 (118M, not 34M) the network has 1.58G."
)


def _inception(nIn: int, n1: int, r3: int, n3: int, r5: int, n5: int, proj: int) -> nn.Concat:
    """Figure 2(b): 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, joined on planes."""

    def branch(*modules):
        seq = nn.Sequential()
        for m in modules:
            seq.add(m).add(nn.ReLU(True)) if isinstance(m, nn.SpatialConvolution) else seq.add(m)
        return seq

    return nn.Concat(
        1,
        branch(conv(nIn, n1, 1)),
        branch(conv(nIn, r3, 1), conv(r3, n3, 3, 3, 1, 1, 1, 1)),
        branch(conv(nIn, r5, 1), conv(r5, n5, 5, 5, 1, 1, 2, 2)),
        branch(nn.SpatialMaxPooling(3, 3, 1, 1, 1, 1), conv(nIn, proj, 1)),
    )


def _block(name: str, nIn: int) -> tuple[nn.Module, int]:
    n1, r3, n3, r5, n5, proj = INCEPTION[name]
    block = labelled(_inception(nIn, n1, r3, n3, r5, n5, proj), f"inception ({name})")
    return block, n1 + n3 + n5 + proj


def _aux(nIn: int, num_classes: int, at: str) -> nn.Module:
    """Section 5's auxiliary classifier: 5x5/3 avg pool, 1x1 conv (128), fc 1024, dropout 70%,
    linear, soft-max."""
    return labelled(
        nn.Sequential(
            nn.SpatialAveragePooling(5, 5, 3, 3),  # N x nIn x 4 x 4
            conv(nIn, 128, 1),
            nn.ReLU(True),
            flatten(128 * 4 * 4),
            nn.Linear(128 * 4 * 4, 1024),
            nn.ReLU(True),
            nn.Dropout(0.7),
            nn.Linear(1024, num_classes),
            nn.LogSoftMax(),
        ),
        f"auxiliary classifier ({at})",
    )


class _Flatten(nn.Module):
    """[[main, aux2], aux1] -> [main, aux1, aux2]: the order of the paper's three losses."""

    def outputShape(self, inShape: list) -> list:
        """The same reordering, on shapes."""
        (main, aux2), aux1 = inShape
        return [main, aux1, aux2]

    def updateOutput(self, input: Any) -> Any:
        (main, aux2), aux1 = input
        self.output = [main, aux1, aux2]
        return self.output


def _pool() -> nn.SpatialMaxPooling:
    # 3x3/2 max pooling rounding up, as the authors' Caffe model (112 -> 56 -> 28 -> 14 -> 7).
    return nn.SpatialMaxPooling(3, 3, 2, 2).ceil()


@register(
    "googlenet",
    meta=ModelMeta(
        paper="Going Deeper with Convolutions (Szegedy et al.)",
        year=2014,
        url="https://arxiv.org/abs/1409.4842",
        input_size=(3, 224, 224),
        layers=22,
        params=None,
        params_source="no total in the paper; Table 1's rows are checked one by one",
        mult_adds="1.5G",
        mult_adds_source="paper, Section 5 ('1.5 billion multiply-adds at inference time')",
        top5="6.7%",
        notes=_NOTES,
    ),
)
def googlenet(num_classes: int = 1000, aux_logits: bool = False) -> Model:
    """googlenet([num_classes=1000], [aux_logits=False]): GoogLeNet as in the paper's Table 1.

    conv 7x7/2 (64), 3x3/2 max pool and LRN, conv 1x1 (64) then 3x3 (192) and LRN, 3x3/2 max
    pool, Inception 3a-3b, max pool, 4a-4e, max pool, 5a-5b, 7x7/1 average pool, dropout 40%,
    linear, soft-max (LogSoftMax here). Every convolution, inside the Inception modules too, is
    followed by a ReLU. Max pooling rounds up (Caffe's ceil mode), giving the table's sizes.

    Args:
        num_classes: outputs.
        aux_logits: add the two auxiliary classifiers on (4a) and (4d); the output is then a
            table ``[main, aux1, aux2]`` of log-probabilities (the paper weights the auxiliary
            losses by 0.3 in training and drops them at inference).

    Returns:
        Model: (N, 3, 224, 224) to (N, num_classes), or a table of three with aux_logits.
    """
    stem = [
        conv(3, 64, 7, 7, 2, 2, 3, 3),  # N x 64 x 112 x 112
        nn.ReLU(True),
        _pool(),  # N x 64 x 56 x 56
        nn.SpatialCrossMapLRN(5, 1e-4, 0.75, 1),
        labelled(
            nn.Sequential(
                conv(64, 64, 1), nn.ReLU(True), conv(64, 192, 3, 3, 1, 1, 1, 1), nn.ReLU(True)
            ),
            "convolution",
            "3×3/1",
        ),  # N x 192 x 56 x 56
        nn.SpatialCrossMapLRN(5, 1e-4, 0.75, 1),
        _pool(),  # N x 192 x 28 x 28
    ]
    planes = 192
    stages: dict[str, nn.Module] = {}
    for name in INCEPTION:
        stages[name], planes = _block(name, planes)
    # 3a: N x 256 x 28 x 28, 3b: 480; 4a-4e on 14 x 14: 512, 512, 512, 528, 832; 5a-5b on 7 x 7
    head = [
        nn.SpatialAveragePooling(7, 7, 1, 1),  # N x 1024 x 1 x 1
        flatten(1024),
        nn.Dropout(0.4),
        nn.Linear(1024, num_classes),
        nn.LogSoftMax(),
    ]
    s = stages
    if not aux_logits:
        return Model(
            "googlenet",
            (3, 224, 224),
            *stem,
            s["3a"],
            s["3b"],
            _pool(),
            s["4a"],
            s["4b"],
            s["4c"],
            s["4d"],
            s["4e"],
            _pool(),
            s["5a"],
            s["5b"],
            *head,
        )
    after_4d = nn.ConcatTable(
        nn.Sequential(s["4e"], _pool(), s["5a"], s["5b"], *head), _aux(528, num_classes, "4d")
    )
    after_4a = nn.ConcatTable(
        nn.Sequential(s["4b"], s["4c"], s["4d"], after_4d), _aux(512, num_classes, "4a")
    )
    return Model(
        "googlenet",
        (3, 224, 224),
        *stem,
        s["3a"],
        s["3b"],
        _pool(),
        s["4a"],
        after_4a,
        labelled(_Flatten(), "[main, aux (4a), aux (4d)]"),
    )


# ---------------------------------------------------------------------- torchvision's variant


class TransformInput(nn.Module):
    """torchvision's ``transform_input``: ImageNet-normalised planes re-normalised to
    ``(x - 0.5) / 0.5`` per plane, the input its pretrained GoogLeNet weights expect."""

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def outputShape(self, inShape: Any) -> Any:
        """The input's shape."""
        return inShape

    def updateOutput(self, input: Any) -> Any:
        import jax.numpy as jnp

        scale = jnp.asarray([s / 0.5 for s in self.STD], input.dtype)
        shift = jnp.asarray([(m - 0.5) / 0.5 for m in self.MEAN], input.dtype)
        view = (-1, 1, 1) if input.ndim == 3 else (1, -1, 1, 1)
        self.output = input * scale.reshape(view) + shift.reshape(view)
        return self.output


def _bn_inception(nIn: int, n1: int, r3: int, n3: int, r5: int, n5: int, proj: int) -> nn.Concat:
    """torchvision's Inception block: every convolution with batch normalisation (eps 1e-3),
    and its "5x5" branch built with a 3x3 kernel, as torchvision's code does."""

    def unit(a: int, b: int, k: int, pad: int = 0) -> nn.Sequential:
        return conv_bn(a, b, k, k, 1, 1, pad, pad, eps=1e-3)

    return nn.Concat(
        1,
        unit(nIn, n1, 1),
        nn.Sequential(unit(nIn, r3, 1), unit(r3, n3, 3, 1)),
        nn.Sequential(unit(nIn, r5, 1), unit(r5, n5, 3, 1)),
        nn.Sequential(nn.SpatialMaxPooling(3, 3, 1, 1, 1, 1).ceil(), unit(nIn, proj, 1)),
    )


@register(
    "googlenet_bn",
    meta=ModelMeta(
        paper="Going Deeper with Convolutions (Szegedy et al.), as torchvision builds it",
        year=2014,
        url="https://arxiv.org/abs/1409.4842",
        input_size=(3, 224, 224),
        layers=22,
        params=None,
        params_source=(
            "torchvision's figure, 6,624,904, counts its two auxiliary heads, which this "
            "network has not"
        ),
        notes=(
            "Not the paper's network: torchvision's GoogLeNet, so that its published weights "
            "load (Model.from_torchvision). Batch normalisation (eps 1e-3) after every "
            "convolution and no LRN; the Inception blocks' 5x5 branch has a 3x3 kernel and the "
            "last max pooling is 2x2/2, both as in torchvision's code; dropout 20%."
        ),
    ),
)
def googlenet_bn(num_classes: int = 1000, transform_input: bool = False) -> Model:
    """googlenet_bn([num_classes=1000], [transform_input=False]): torchvision's GoogLeNet.

    For torchvision's pretrained weights (``from_torchvision``), which expect
    ``transform_input=True`` on ImageNet-normalised images. See the registry's notes for how it
    differs from the paper's `googlenet`.

    Returns:
        Model: (N, 3, 224, 224) to (N, num_classes) log-probabilities.
    """
    stem = [TransformInput()] if transform_input else []
    stem += [
        conv_bn(3, 64, 7, 7, 2, 2, 3, 3, eps=1e-3),
        _pool(),
        conv_bn(64, 64, 1, eps=1e-3),
        conv_bn(64, 192, 3, 3, 1, 1, 1, 1, eps=1e-3),
        _pool(),
    ]
    planes, blocks = 192, []
    for name in INCEPTION:
        n1, r3, n3, r5, n5, proj = INCEPTION[name]
        blocks.append(
            labelled(_bn_inception(planes, n1, r3, n3, r5, n5, proj), f"inception ({name})")
        )
        planes = n1 + n3 + n5 + proj
        if name == "3b":
            blocks.append(_pool())
        if name == "4e":
            blocks.append(nn.SpatialMaxPooling(2, 2, 2, 2).ceil())
    head = [
        nn.SpatialAdaptiveAveragePooling(1, 1),
        flatten(1024),
        nn.Dropout(0.2),
        nn.Linear(1024, num_classes),
        nn.LogSoftMax(),
    ]
    return Model("googlenet_bn", (3, 224, 224), *stem, *blocks, *head)
