"""torchvision's parameter names for the zoo networks that torchvision has.

torchvision names a parameter by its module's attribute path (``layer2.0.downsample.1.weight``),
nets by its module's index path (``2.0.0.1.1.weight``). For each network below, `torchvision_keys`
lists torchvision's names in torchvision's module order, which is nets' order too (checked, array
by array, against torchvision 0.28's ``state_dict()``); the two lists are paired in order, and
every pair must agree in the array's name (``weight``, ``running_var``) and shape.

torchvision's AlexNet is nets' ``alexnet_onetower`` (the paper's two towers are ``alexnet``), and
its GoogLeNet is ``googlenet_bn`` (batch normalisation, which the paper's ``googlenet`` has not).
Not here: LeNet, Inception v2 and v4 (torchvision has none). The auxiliary heads of GoogLeNet
and Inception v3 are not in nets' networks, so their ``aux1.*``, ``aux2.*`` and
``AuxLogits.*`` arrays are left out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import StateDictError
from ..nn.state import GRAD
from .state_dict import load_state_dict, read_safetensors

_BN = ("weight", "bias", "running_mean", "running_var")


def _conv_bn(name: str, conv: str = "conv", bn: str = "bn") -> list[str]:
    return [f"{name}{conv}.weight"] + [f"{name}{bn}.{a}" for a in _BN]


def _resnet(depth: int) -> list[str]:
    blocks = {
        18: (2, 2, 2, 2),
        34: (3, 4, 6, 3),
        50: (3, 4, 6, 3),
        101: (3, 4, 23, 3),
        152: (3, 8, 36, 3),
    }[depth]
    bottleneck = depth >= 50
    keys = _conv_bn("", "conv1", "bn1")
    for stage, count in enumerate(blocks, start=1):
        for block in range(count):
            base = f"layer{stage}.{block}."
            for i in range(1, 4 if bottleneck else 3):
                keys += _conv_bn(base, f"conv{i}", f"bn{i}")
            if block == 0 and (stage > 1 or bottleneck):
                keys += _conv_bn(base, "downsample.0", "downsample.1")
    return keys + ["fc.weight", "fc.bias"]


# torchvision's VGG configurations: output planes of each convolution, "M" a max pooling
_VGG = {
    "vgg11": "64 M 128 M 256 256 M 512 512 M 512 512 M",
    "vgg13": "64 64 M 128 128 M 256 256 M 512 512 M 512 512 M",
    "vgg16": "64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M",
    "vgg19": "64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M",
}


def _vgg(name: str) -> list[str]:
    keys, index = [], 0
    for item in _VGG[name].split():
        if item == "M":
            index += 1
        else:
            keys += [f"features.{index}.weight", f"features.{index}.bias"]
            index += 2  # the convolution and its ReLU
    return keys + [f"classifier.{i}.{a}" for i in (0, 3, 6) for a in ("weight", "bias")]


def _alexnet() -> list[str]:
    return [f"features.{i}.{a}" for i in (0, 3, 6, 8, 10) for a in ("weight", "bias")] + [
        f"classifier.{i}.{a}" for i in (1, 4, 6) for a in ("weight", "bias")
    ]


def _googlenet() -> list[str]:
    keys = [k for name in ("conv1", "conv2", "conv3") for k in _conv_bn(f"{name}.")]
    for block in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        for branch in (
            "branch1.",
            "branch2.0.",
            "branch2.1.",
            "branch3.0.",
            "branch3.1.",
            "branch4.1.",
        ):
            keys += _conv_bn(f"inception{block}.{branch}")
    return keys + ["fc.weight", "fc.bias"]


def _inception_v3() -> list[str]:
    def block(name: str, branches: list[str]) -> list[str]:
        return [k for b in branches for k in _conv_bn(f"{name}.{b}.")]

    keys = []
    for stem in (
        "Conv2d_1a_3x3",
        "Conv2d_2a_3x3",
        "Conv2d_2b_3x3",
        "Conv2d_3b_1x1",
        "Conv2d_4a_3x3",
    ):
        keys += _conv_bn(f"{stem}.")
    a = [
        "branch1x1",
        "branch5x5_1",
        "branch5x5_2",
        "branch3x3dbl_1",
        "branch3x3dbl_2",
        "branch3x3dbl_3",
        "branch_pool",
    ]
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
        keys += block(name, a)
    keys += block("Mixed_6a", ["branch3x3", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"])
    c = [
        "branch1x1",
        "branch7x7_1",
        "branch7x7_2",
        "branch7x7_3",
        "branch7x7dbl_1",
        "branch7x7dbl_2",
        "branch7x7dbl_3",
        "branch7x7dbl_4",
        "branch7x7dbl_5",
        "branch_pool",
    ]
    for name in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
        keys += block(name, c)
    keys += block(
        "Mixed_7a",
        [
            "branch3x3_1",
            "branch3x3_2",
            "branch7x7x3_1",
            "branch7x7x3_2",
            "branch7x7x3_3",
            "branch7x7x3_4",
        ],
    )
    e = [
        "branch1x1",
        "branch3x3_1",
        "branch3x3_2a",
        "branch3x3_2b",
        "branch3x3dbl_1",
        "branch3x3dbl_2",
        "branch3x3dbl_3a",
        "branch3x3dbl_3b",
        "branch_pool",
    ]
    for name in ("Mixed_7b", "Mixed_7c"):
        keys += block(name, e)
    return keys + ["fc.weight", "fc.bias"]


# nets' registry name -> torchvision's names of its arrays, in order
KEYS = {
    **{f"resnet{d}": (lambda d=d: _resnet(d)) for d in (18, 34, 50, 101, 152)},
    **{name: (lambda name=name: _vgg(name)) for name in _VGG},
    "alexnet_onetower": _alexnet,
    "googlenet_bn": _googlenet,
    "inception_v3": _inception_v3,
}
# arrays torchvision has that nets' networks leave out
IGNORED = ("num_batches_tracked", "AuxLogits.", "aux1.", "aux2.")


def torchvision_keys(name: str) -> list[str]:
    """torchvision's names for the arrays of zoo network `name`, in the network's order."""
    if name not in KEYS:
        raise StateDictError(
            f"from_torchvision: torchvision has no network matching nets' {name!r}; it has "
            f"names for {', '.join(sorted(KEYS))} (see nets.interop.torchvision's docstring)"
        )
    return KEYS[name]()


def _ordered_arrays(net: Any) -> list[tuple[str, str, tuple]]:
    """(split key, array name, shape) of the network's parameters and buffers, in tree order."""
    out, seen = [], set()
    for path, module in net.named_modules():
        for name, (kind, box, value) in module.own_arrays().items():
            if kind != GRAD and box not in seen:
                seen.add(box)
                out.append((f"{path}.{name}" if path else name, name, tuple(value.shape)))
    return out


def _read(source: Mapping[str, Any] | str | os.PathLike) -> dict[str, np.ndarray]:
    if not isinstance(source, (str, os.PathLike)):
        return {str(k): np.asarray(v) for k, v in source.items()}
    if Path(source).suffix == ".safetensors":
        return read_safetensors(source)
    from .pth import read_pth

    state = read_pth(source)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a training checkpoint that holds a state dict
    if not isinstance(state, dict):
        raise StateDictError(
            f"from_torchvision: {source} holds a {type(state).__name__}, not a state dict"
        )
    return state


def load_torchvision(net: Any, source: Mapping[str, Any] | str | os.PathLike) -> Any:
    """Write a torchvision state dict (a dict of arrays, a ``.pth`` or a ``.safetensors``
    file) into zoo network `net`; every missing, unexpected or misshapen array is listed and
    nothing is loaded unless all fit. Returns `net`."""
    name = getattr(net, "model_name", None)
    theirs = _read(source)
    theirs = {k: v for k, v in theirs.items() if not any(i in k for i in IGNORED)}
    keys = torchvision_keys(name)
    ours = _ordered_arrays(net)
    if len(keys) != len(ours):
        raise StateDictError(
            f"from_torchvision: nets' {name} has {len(ours)} arrays, torchvision's names "
            f"{len(keys)}: the networks differ"
        )
    problems, mapped = [], {}
    for key, (split_key, array_name, shape) in zip(keys, ours, strict=True):
        if not key.endswith("." + array_name):
            problems.append(f"{key} would fill {split_key} (a {array_name})")
        elif key not in theirs:
            problems.append(f"{key}: missing")
        elif tuple(theirs[key].shape) != shape:
            problems.append(f"{key}: shape {tuple(theirs[key].shape)}, {split_key} is {shape}")
        else:
            mapped[split_key] = theirs[key]
    extra = sorted(set(theirs) - set(keys))
    problems += [f"{k}: not an array of {name}" for k in extra]
    if problems:
        shown = "; ".join(problems[:20]) + (
            f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise StateDictError(
            f"from_torchvision: the state dict does not fit {name}; nothing was loaded. {shown}"
        )
    load_state_dict(net, mapped)
    return net
