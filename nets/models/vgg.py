"""VGG: configurations A, A-LRN, B, C, D and E of Simonyan & Zisserman's Table 1.

Paper: K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015 (arXiv 2014), https://arxiv.org/abs/1409.1556
"""

from __future__ import annotations

from nets import nn

from ._base import Model, conv, flatten
from ._registry import ModelMeta, alias, valid_choice

__all__ = ["vgg", "CFGS", "vgg11", "vgg13", "vgg16", "vgg19"]

# Table 1, column by column: an int is conv3-<int> (3x3, stride 1, pad 1), "1x1-<n>" is C's
# conv1-<n>, "M" is 2x2/2 max pooling and "LRN" is A-LRN's local response normalisation.
CFGS: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, "1x1-256", "M",
          512, 512, "1x1-512", "M", 512, 512, "1x1-512", "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
          512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip
# Table 2 ("Number of parameters (in millions)").
_PARAMS = {"A": "133M", "A-LRN": "133M", "B": "133M", "C": "134M", "D": "138M", "E": "144M"}
_LAYERS = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}
_NAMES = {
    "A": "vgg11",
    "A-LRN": "vgg11_lrn",
    "B": "vgg13",
    "C": "vgg16_c",
    "D": "vgg16",
    "E": "vgg19",
}


def _features(cfg: list, batch_norm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = []
    planes = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.SpatialMaxPooling(2, 2, 2, 2))
        elif v == "LRN":
            # The paper uses AlexNet's LRN; alpha is scaled by n for Torch7's formula.
            layers.append(nn.SpatialCrossMapLRN(5, 5e-4, 0.75, 2))
        else:
            k, n = (1, int(v.split("-")[1])) if isinstance(v, str) else (3, v)
            layers.append(conv(planes, n, k, k, 1, 1, k // 2, k // 2, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.SpatialBatchNormalization(n))
            layers.append(nn.ReLU(True))
            planes = n
    return layers  # N x 512 x 7 x 7 for a 224 x 224 input


def vgg(config: str = "D", num_classes: int = 1000, batch_norm: bool = False) -> Model:
    """vgg([config='D'], [num_classes=1000], [batch_norm=False]): a VGG network.

    Table 1's column `config`: 3x3 convolutions (stride 1, pad 1) with ReLU in five stages
    ending in 2x2/2 max pooling, C with three 1x1 convolutions, A-LRN with an LRN after the
    first convolution; then FC-4096, FC-4096 (ReLU, dropout 0.5) and FC-`num_classes`,
    soft-max (LogSoftMax here). ``batch_norm=True`` puts SpatialBatchNormalization after each
    convolution (and drops the then-redundant conv bias): not in the paper, a named option.

    Args:
        config: one of 'A', 'A-LRN', 'B', 'C', 'D', 'E'.
        num_classes: outputs.
        batch_norm: add batch normalisation (a later variant, not the paper's).

    Returns:
        Model: (N, 3, 224, 224) to (N, num_classes).

    Raises:
        ModelError: unknown `config` (the message lists the valid ones).
    """
    valid_choice("config", config, tuple(CFGS), "vgg")
    name = _NAMES[config] + ("_bn" if batch_norm else "")
    return Model(
        name,
        (3, 224, 224),
        *_features(CFGS[config], batch_norm),
        flatten(512 * 7 * 7),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(True),
        nn.Dropout(0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(True),
        nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
        nn.LogSoftMax(),
    )


def _meta(config: str) -> ModelMeta:
    return ModelMeta(
        paper="Very Deep Convolutional Networks for Large-Scale Image Recognition "
        "(Simonyan & Zisserman)",
        year=2014,
        url="https://arxiv.org/abs/1409.1556",
        input_size=(3, 224, 224),
        layers=_LAYERS[config],
        params=_PARAMS[config],
        params_source="paper, Table 2",
        top5="7.3%" if config == "E" else None,
    )


def _doc(config: str) -> str:
    return (
        f"{_NAMES[config]}([num_classes=1000], [batch_norm=False]): VGG configuration "
        f"{config} ({_LAYERS[config]} weight layers), i.e. ``vgg('{config}', ...)``."
    )


vgg11 = alias("vgg11", vgg, _meta("A"), _doc("A"), config="A")
vgg11_lrn = alias("vgg11_lrn", vgg, _meta("A-LRN"), _doc("A-LRN"), config="A-LRN")
vgg13 = alias("vgg13", vgg, _meta("B"), _doc("B"), config="B")
vgg16_c = alias("vgg16_c", vgg, _meta("C"), _doc("C"), config="C")
vgg16 = alias("vgg16", vgg, _meta("D"), _doc("D"), config="D")
vgg19 = alias("vgg19", vgg, _meta("E"), _doc("E"), config="E")
