"""Torch7 ``nn`` objects and nets modules, field by field (reading maps, writing unmaps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .format import T7Error


def _f(fields: dict, name: str, default: Any = None) -> Any:
    return fields.get(name, default)


def _array(fields: dict, name: str) -> Any:
    value = fields.get(name)
    return None if value is None or np.size(value) == 0 else np.array(value)


def _with_arrays(module: Any, fields: dict, *names: str) -> Any:
    for name in names:
        value = _array(fields, name)
        if value is None and name == "bias":
            module.bias = None
        elif value is not None:
            setattr(module, name, value.reshape(getattr(module, name).shape))
    module.train = bool(fields.get("train", True))
    return module


def _conv(fields: dict) -> Any:
    from nets import nn

    m = nn.SpatialConvolution(
        int(fields["nInputPlane"]),
        int(fields["nOutputPlane"]),
        int(fields["kW"]),
        int(fields["kH"]),
        int(_f(fields, "dW", 1)),
        int(_f(fields, "dH", 1)),
        int(_f(fields, "padW", 0) or 0),
        int(_f(fields, "padH", 0) or 0),
    )
    return _with_arrays(m, fields, "weight", "bias")


def _linear(fields: dict) -> Any:
    from nets import nn

    w = np.asarray(fields["weight"])
    return _with_arrays(nn.Linear(int(w.shape[1]), int(w.shape[0])), fields, "weight", "bias")


def _pool(cls_name: str) -> Callable[[dict], Any]:
    """Max or average pooling: Torch7's window fields, ceil mode, and the divisor's padding."""

    def build(fields: dict) -> Any:
        from nets import nn

        m = getattr(nn, cls_name)(
            int(fields["kW"]),
            int(fields["kH"]),
            int(_f(fields, "dW", 1)),
            int(_f(fields, "dH", 1)),
            int(_f(fields, "padW", 0)),
            int(_f(fields, "padH", 0)),
        )
        if fields.get("ceil_mode"):
            m.ceil()
        if fields.get("count_include_pad") is False and hasattr(m, "setCountExcludePad"):
            m.setCountExcludePad()
        return _with_arrays(m, fields)

    return build


def _view(fields: dict) -> Any:
    from nets import nn

    size = fields.get("size")
    sizes = [int(s) for s in np.atleast_1d(np.asarray(size))]
    m = nn.View(*sizes)
    if fields.get("numInputDims") is not None:
        m.setNumInputDims(int(fields["numInputDims"]))
    return _with_arrays(m, fields)


def _plain(cls_name: str) -> Callable[[dict], Any]:
    def build(fields: dict) -> Any:
        from nets import nn

        return _with_arrays(getattr(nn, cls_name)(), fields)

    return build


def _dropout(fields: dict) -> Any:
    from nets import nn

    return _with_arrays(
        nn.Dropout(float(_f(fields, "p", 0.5)), v1=not fields.get("v2", True)), fields
    )


def _batch_norm(cls_name: str) -> Callable[[dict], Any]:
    def build(fields: dict) -> Any:
        from nets import nn

        mean = np.asarray(fields["running_mean"])
        m = getattr(nn, cls_name)(
            int(mean.shape[0]),
            float(_f(fields, "eps", 1e-5)),
            float(_f(fields, "momentum", 0.1)),
            _array(fields, "weight") is not None,
        )
        names = ("weight", "bias") if m.affine else ()
        return _with_arrays(m, fields, *names, "running_mean", "running_var")

    return build


def _children(fields: dict) -> list:
    return list(fields.get("modules") or [])


def _concat(fields: dict) -> Any:
    from nets import nn

    # Torch7 counts dimensions from 1, nets from 0
    return _with_arrays(nn.Concat(int(fields["dimension"]) - 1, *_children(fields)), fields)


def _container(cls_name: str) -> Callable[[dict], Any]:
    """A container whose constructor takes its children (Sequential, ConcatTable)."""

    def build(fields: dict) -> Any:
        from nets import nn

        return _with_arrays(getattr(nn, cls_name)(*_children(fields)), fields)

    return build


def _join_table(fields: dict) -> Any:
    from nets import nn

    dims = fields.get("nInputDims")
    m = nn.JoinTable(int(fields["dimension"]) - 1, None if dims is None else int(dims))
    return _with_arrays(m, fields)


def _reshape(fields: dict) -> Any:
    from nets import nn

    sizes = [int(s) for s in np.atleast_1d(np.asarray(fields["size"]))]
    return _with_arrays(nn.Reshape(*sizes, batchMode=fields.get("batchMode")), fields)


# Torch7 class -> a builder of the nets module from the object's fields.
NN_CLASSES: dict[str, Callable[[dict], Any]] = {
    "nn.Sequential": _container("Sequential"),
    "nn.SpatialConvolution": _conv,
    "nn.Linear": _linear,
    "nn.SpatialMaxPooling": _pool("SpatialMaxPooling"),
    "nn.View": _view,
    "nn.Dropout": _dropout,
    "nn.BatchNormalization": _batch_norm("BatchNormalization"),
    "nn.SpatialBatchNormalization": _batch_norm("SpatialBatchNormalization"),
    "nn.SpatialAveragePooling": _pool("SpatialAveragePooling"),
    "nn.Concat": _concat,
    "nn.ConcatTable": _container("ConcatTable"),
    "nn.JoinTable": _join_table,
    "nn.Reshape": _reshape,
    "nn.CAddTable": _plain("CAddTable"),
    **{
        f"nn.{c}": _plain(c)
        for c in ("ReLU", "Tanh", "Sigmoid", "LogSoftMax", "SoftMax", "Identity")
    },
}


def register(torch_class: str, build: Callable[[dict], Any]) -> None:
    """Map another Torch7 class (``'nn.MyLayer'``) to ``build(fields) -> nets module``."""
    NN_CLASSES[torch_class] = build


def module_fields(module: Any, where: str) -> tuple[str, dict]:
    """A nets module as Torch7 writes it: its class name and its fields, Torch7's names."""
    from nets import nn

    name = f"nn.{type(module).__name__}"
    if name not in NN_CLASSES:
        raise T7Error(
            f"save_t7: {where} is a {type(module).__name__}, which has no Torch7 counterpart here "
            f"(known: {', '.join(sorted(NN_CLASSES))})"
        )
    fields: dict[str, Any] = {"train": bool(module.train)}
    for key, value in module.__dict__.items():
        if not key.startswith("_") and key not in ("output", "gradInput", "train", "modules"):
            if isinstance(value, (int, float, str, bool)) or value is None:
                fields[key] = value
    if isinstance(module, (nn.View, nn.Reshape)):
        fields["size"] = np.asarray(module.size, np.int64)
    if isinstance(module, (nn.Concat, nn.JoinTable)):
        fields["dimension"] = int(module.dimension) + 1  # Torch7 counts from 1
    if isinstance(module, (nn.SpatialMaxPooling, nn.SpatialAveragePooling)):
        fields["ceil_mode"] = bool(module.ceil_mode)
    for array_name, (_, _, value) in module.own_arrays().items():
        fields[array_name] = np.asarray(value)
    if "modules" in module.__dict__:
        fields["modules"] = list(module.children())
    return name, fields
