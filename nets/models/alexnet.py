"""AlexNet: the NIPS 2012 two-tower network, and the common one-tower form.

Papers: A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NIPS 2012,
https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks
and A. Krizhevsky, "One weird trick for parallelizing convolutional neural networks", 2014,
https://arxiv.org/abs/1404.5997 (the one-tower form).
"""

from __future__ import annotations

from nets import nn

from ._base import Model, conv, flatten
from ._registry import ModelMeta, register, valid_choice

__all__ = ["alexnet"]

_NOTES_2012 = (
    "The paper says the input is 224x224, but an 11x11 stride-4 convolution then gives 54.25, "
    "not the 55x55 of its Figure 2; 227x227 (used by the Caffe reference) gives 55 exactly, so "
    "the network takes 227x227. The paper's LRN divides by (k + alpha*sum a^2)^beta with "
    "alpha = 1e-4 not divided by n; Torch7's SpatialCrossMapLRN divides alpha by n, so it is "
    "built with alpha = 5e-4 (= 1e-4 * n) to match the paper."
)
_ORIGINAL = ModelMeta(
    paper="ImageNet Classification with Deep Convolutional Neural Networks (Krizhevsky et al.)",
    year=2012,
    url="https://papers.nips.cc/paper/4824",
    input_size=(3, 227, 227),
    layers=8,
    params="60,965,224",
    params_source="counted from the paper's Figure 2; the text says '60 million parameters'",
    top5="16.4%",
    notes=_NOTES_2012,
)
_ONETOWER = ModelMeta(
    paper="One weird trick for parallelizing convolutional neural networks (Krizhevsky)",
    year=2014,
    url="https://arxiv.org/abs/1404.5997",
    input_size=(3, 224, 224),
    layers=8,
    params="61,100,840",
    params_source="torchvision's alexnet, the same network",
    mult_adds="0.71G",
    mult_adds_source="torchvision's alexnet (0.71 GFLOPS)",
)


def _classifier(n_in: int, num_classes: int, dropout_first: bool) -> list[nn.Module]:
    """fc6 - fc7 with dropout 0.5 (the paper: "in the first two fully-connected layers")."""
    layers: list[nn.Module] = [flatten(n_in)]
    for fc_in in (n_in, 4096):
        if dropout_first:
            layers += [nn.Dropout(0.5), nn.Linear(fc_in, 4096), nn.ReLU(True)]
        else:
            layers += [nn.Linear(fc_in, 4096), nn.ReLU(True), nn.Dropout(0.5)]
    layers += [nn.Linear(4096, num_classes), nn.LogSoftMax()]
    return layers


@register("alexnet_onetower", meta=_ONETOWER, variant="onetower")
@register("alexnet", meta=_ORIGINAL)
def alexnet(variant: str = "original", num_classes: int = 1000) -> Model:
    """alexnet([variant='original'], [num_classes=1000]): AlexNet.

    ``'original'``: the NIPS 2012 network as trained on two GPUs: conv1 96 11x11/4, conv2 256
    5x5, conv3 384, conv4 384 and conv5 256 3x3, where conv2, conv4 and conv5 see only their own
    GPU's half of the planes (``groups=2``); ReLU, local response normalisation (n=5, k=2,
    alpha=1e-4, beta=0.75) after conv1 and conv2, overlapping 3x3/2 max pooling, then fc6 and
    fc7 (4096, dropout 0.5) and fc8. 60,965,224 parameters at 1000 classes; input 3x227x227
    (see the notes in `docs/models.md` on the paper's "224").

    ``'onetower'``: the one-GPU form of "One weird trick" (64, 192, 384, 256, 256 filters, no
    LRN, input 224), the network torchvision calls alexnet; 61,100,840 parameters.

    Args:
        variant: ``'original'`` or ``'onetower'``.
        num_classes: outputs of the last layer.

    Returns:
        Model: (N, 3, 227, 227) (or 224 for 'onetower') to (N, num_classes) log-probabilities.
    """
    valid_choice("variant", variant, ("original", "onetower"), "alexnet")
    if variant == "original":

        def lrn():
            return nn.SpatialCrossMapLRN(5, 5e-4, 0.75, 2)

        return Model(
            "alexnet",
            (3, 227, 227),
            conv(3, 96, 11, 11, 4, 4),  # N x 96 x 55 x 55
            nn.ReLU(True),
            lrn(),
            nn.SpatialMaxPooling(3, 3, 2, 2),  # N x 96 x 27 x 27
            conv(96, 256, 5, 5, 1, 1, 2, 2, groups=2),  # N x 256 x 27 x 27
            nn.ReLU(True),
            lrn(),
            nn.SpatialMaxPooling(3, 3, 2, 2),  # N x 256 x 13 x 13
            conv(256, 384, 3, 3, 1, 1, 1, 1),  # N x 384 x 13 x 13 (across both GPUs)
            nn.ReLU(True),
            conv(384, 384, 3, 3, 1, 1, 1, 1, groups=2),
            nn.ReLU(True),
            conv(384, 256, 3, 3, 1, 1, 1, 1, groups=2),  # N x 256 x 13 x 13
            nn.ReLU(True),
            nn.SpatialMaxPooling(3, 3, 2, 2),  # N x 256 x 6 x 6
            *_classifier(256 * 6 * 6, num_classes, dropout_first=False),
        )
    return Model(
        "alexnet_onetower",
        (3, 224, 224),
        conv(3, 64, 11, 11, 4, 4, 2, 2),  # N x 64 x 55 x 55
        nn.ReLU(True),
        nn.SpatialMaxPooling(3, 3, 2, 2),  # N x 64 x 27 x 27
        conv(64, 192, 5, 5, 1, 1, 2, 2),
        nn.ReLU(True),
        nn.SpatialMaxPooling(3, 3, 2, 2),  # N x 192 x 13 x 13
        conv(192, 384, 3, 3, 1, 1, 1, 1),
        nn.ReLU(True),
        conv(384, 256, 3, 3, 1, 1, 1, 1),
        nn.ReLU(True),
        conv(256, 256, 3, 3, 1, 1, 1, 1),
        nn.ReLU(True),
        nn.SpatialMaxPooling(3, 3, 2, 2),  # N x 256 x 6 x 6
        *_classifier(256 * 6 * 6, num_classes, dropout_first=True),
    )
