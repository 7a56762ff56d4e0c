"""The seed notes' CNN comparison table (AlexNet, VGG, GoogLeNet, ResNet) and the same facts
read off the built networks, so the two can be printed side by side and tested.
"""

from __future__ import annotations

from typing import Any

from nets import nn

__all__ = ["SEED_CNN_TABLE", "SEED_ERRATA", "facts"]

# The seed's table, column by column (its Top-5 figures are in each model's meta).
SEED_CNN_TABLE: dict[str, dict[str, Any]] = {
    "alexnet": {
        "layers": 8,
        "conv layers": 5,
        "kernel sizes": {11, 5, 3},
        "fc layers": 3,
        "fc sizes": [4096, 4096, 1000],
        "dropout": True,
        "LRN": True,
        "BN": False,
    },
    "vgg19": {
        "layers": 19,
        "conv layers": 16,
        "kernel sizes": {3},
        "fc layers": 3,
        "fc sizes": [4096, 4096, 1000],
        "dropout": True,
        "LRN": False,
        "BN": False,
    },
    "googlenet": {
        "layers": 22,
        "conv layers": 21,
        "kernel sizes": {7, 1, 3, 5},
        "fc layers": 1,
        "fc sizes": [1000],
        "dropout": True,
        "LRN": True,
        "BN": False,
    },
    "resnet152": {
        "layers": 152,
        "conv layers": 151,
        "kernel sizes": {7, 1, 3, 5},
        "fc layers": 1,
        "fc sizes": [1000],
        "dropout": True,
        "LRN": False,
        "BN": True,
    },
}

# Cells of the seed's table that its own sources contradict: (model, column) -> why.
SEED_ERRATA: dict[tuple[str, str], str] = {
    ("resnet152", "kernel sizes"): "ResNet has no 5x5 convolution: Table 1 of the paper lists "
    "7x7, 3x3 and 1x1 only",
    ("resnet152", "dropout"): "the ResNet paper uses no dropout (Section 3.4: 'We do not use "
    "dropout')",
}


def facts(net: nn.Module, depth: int) -> dict[str, Any]:
    """The seed table's columns for a built network of `depth` weight layers (longest path)."""
    convs = net.findModules("SpatialConvolution")
    linears = net.findModules("Linear")
    return {
        "layers": depth,
        "conv layers": depth - len(linears),
        "kernel sizes": {k for c in convs for k in (c.kW, c.kH)},
        "fc layers": len(linears),
        "fc sizes": [m.weight.shape[0] for m in linears],
        "dropout": bool(net.findModules("Dropout")),
        "LRN": bool(net.findModules("SpatialCrossMapLRN")),
        "BN": bool(net.findModules("SpatialBatchNormalization")),
    }
