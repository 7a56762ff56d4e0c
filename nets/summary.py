"""`nets.summary(module, input_shape)`: a per-layer table of a network, computed without running it.

The walk infers every module's output shape in closed form (the layers' own ``outputShape``
formulas, and the obvious rule for shape-preserving layers, Linear, View and the containers);
any module it has no rule for is asked through ``jax.eval_shape`` on its pure ``call``, so
nothing is ever computed. The table follows the GoogLeNet paper's (Szegedy et al. 2014,
Table 1): type, patch size/stride, output size, depth, params, ops.

Counting conventions (those of the papers):

* **params** are the trainable parameters (``split()[0]``), biases and batch-norm scales
  included; buffers such as running statistics are not.
* **ops** are multiply-adds of the convolution, linear and subsampling layers (one per weight
  use; bias additions, pooling, normalisation and activations are not counted), so ResNet's
  "FLOPs" row and GoogLeNet's "ops" column come out as the papers print them.
* **depth** counts weight layers on the longest path through a row (an Inception block is 2).

Rows: a container with a ``summary_label`` attribute (set by the `nets.models` builders, e.g.
``"inception (3a)"``) is one row; other containers are opened. A shape-preserving layer without
parameters of its own kind of row (ReLU, Tanh, LRN, batch normalisation, View) is folded into
the row before it, so the table shows the layers a paper would list. ``expand=True`` opens every
container and folds nothing.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp

from nets import nn
from nets._errors import ModuleError

__all__ = ["summary", "Summary", "Row", "infer_shape"]

Shape = tuple[int, ...]

# Layers that return an array of their input's shape (checked for planes where they have them).
_SAME_SHAPE = {
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Tanh",
    "Sigmoid",
    "SoftMax",
    "LogSoftMax",
    "Dropout",
    "SpatialDropout",
    "Identity",
    "MulConstant",
    "SpatialCrossMapLRN",
    "BatchNormalization",
    "SpatialBatchNormalization",
}
# Folded into the previous row of the table (unless expand=True).
_FOLDED = {
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "MulConstant",
    "SpatialCrossMapLRN",
    "BatchNormalization",
    "SpatialBatchNormalization",
    "View",
    "Reshape",
}
_WEIGHT_LAYERS = {"SpatialConvolution", "SpatialConvolutionMap", "SpatialSubSampling", "Linear"}
_LABELS = {
    "SpatialConvolution": "convolution",
    "SpatialConvolutionMap": "convolution (map)",
    "SpatialSubSampling": "subsampling",
    "SpatialMaxPooling": "max pool",
    "SpatialAveragePooling": "avg pool",
    "SpatialAdaptiveAveragePooling": "avg pool",
    "Linear": "linear",
    "SoftMax": "softmax",
    "LogSoftMax": "log softmax",
}


# ----------------------------------------------------------------------------- shape inference


def _describe(m: nn.Module) -> str:
    return m._describe()


def _spatial(m: nn.Module, shape: Shape, planes: int | None = None) -> None:
    """The checks of nets._shape.spatial_batch, on a shape instead of an array."""
    if len(shape) not in (3, 4):
        raise ModuleError(
            _describe(m),
            f"expected a 3D (C, H, W) sample or a 4D (N, C, H, W) batch, got {_fmt(shape)}",
        )
    if planes is not None and shape[-3] != planes:
        raise ModuleError(
            _describe(m),
            f"expected {planes} input planes (dim {len(shape) - 3} of the input), "
            f"got {shape[-3]} in input of shape {_fmt(shape)}",
        )


def _fmt(shape: Any) -> str:
    if isinstance(shape, list):
        return "a table of " + str(len(shape)) + " [" + ", ".join(_fmt(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _leaf_shape(m: nn.Module, shape: Any) -> Any:
    """Output shape of one non-container module, in closed form where there is one."""
    name = type(m).__name__
    if isinstance(shape, list) and name not in ("CAddTable", "JoinTable", "Identity"):
        return _eval_shape(m, shape)
    if hasattr(m, "outputShape"):
        spatial = name.startswith("Spatial")
        if spatial:
            _spatial(m, shape, getattr(m, "nInputPlane", None))
        out = tuple(int(d) for d in m.outputShape(tuple(shape)))
        if spatial and (out[-1] < 1 or out[-2] < 1):
            given = "x".join(str(d) for d in shape[-3:])
            calc = "x".join(str(d) for d in out[-3:])
            raise ModuleError(
                _describe(m),
                f"input is too small: given input size ({given}), calculated output size "
                f"({calc}); expected the (padded) input to be at least as large as the kernel",
            )
        return out
    if name in _SAME_SHAPE:
        if name.startswith("Spatial"):
            planes = m.running_mean.shape[0] if name == "SpatialBatchNormalization" else None
            _spatial(m, shape, planes)
        return tuple(shape)
    if name == "Linear":
        n_in = m.weight.shape[1]
        if len(shape) not in (1, 2) or shape[-1] != n_in:
            raise ModuleError(
                _describe(m),
                f"expected input of size {n_in} in the last dimension, (N, {n_in}) or "
                f"({n_in},), got {_fmt(shape)}",
            )
        return (*shape[:-1], m.weight.shape[0])
    if name == "View":
        bsz = m._batch_size(tuple(shape))
        return m.size if bsz is None else (bsz, *m.size)
    if name == "Reshape" and m.batchMode is True:
        if len(shape) < 1 or math.prod(shape[1:]) != m.nelement:
            raise ModuleError(
                _describe(m),
                f"expected {m.nelement} elements per sample, got input of shape {_fmt(shape)}",
            )
        return (shape[0], *m.size)
    if name == "SpatialZeroPadding":
        _spatial(m, shape)
        return (*shape[:-2], shape[-2] + m.pad_t + m.pad_b, shape[-1] + m.pad_l + m.pad_r)
    if name == "CAddTable":
        if not isinstance(shape, list) or not shape or any(s != shape[0] for s in shape):
            raise ModuleError(
                _describe(m), f"expected a table of arrays of one shape, got {_fmt(shape)}"
            )
        return shape[0]
    return _eval_shape(m, shape)


def _eval_shape(m: nn.Module, shape: Any) -> Any:
    """Ask JAX for the output shape of `m`'s pure call: traced, never computed."""
    params, buffers = m.split()
    spec = jax.tree_util.tree_map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (params, buffers)
    )
    out = jax.eval_shape(lambda p, b, x: m.call(p, b, x, train=False)[0], *spec, _input_spec(shape))
    return _shapes_of(out)


def _input_spec(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_input_spec(s) for s in shape]
    return jax.ShapeDtypeStruct(tuple(shape), jnp.float32)


def _shapes_of(out: Any) -> Any:
    if isinstance(out, (list, tuple)):
        return [_shapes_of(o) for o in out]
    return tuple(out.shape)


def _join(m: nn.Module, outs: list, dim: int, pad_others: bool) -> Shape:
    if not outs:
        raise ModuleError(_describe(m), "expected at least one module, got none")
    ref = outs[0]
    d = dim % len(ref)
    for i, o in enumerate(outs):
        agree = len(o) == len(ref) and all(
            a == b or k == d or (pad_others and k >= len(ref) - 2)
            for k, (a, b) in enumerate(zip(o, ref, strict=True))
        )
        if not agree:
            raise ModuleError(
                _describe(m),
                f"expected outputs that agree except in dim {dim}, got {_fmt(ref)} from (0) "
                f"and {_fmt(o)} from ({i})",
            )
    out = [max(o[k] for o in outs) for k in range(len(ref))]
    out[d] = sum(o[d] for o in outs)
    return tuple(out)


def _walk(m: nn.Module, shape: Any, visit) -> Any:
    """Infer `m`'s output shape, calling ``visit(module, in_shape, out_shape)`` on every module.

    Errors carry the path from `m` down to the module that refused its input, as the
    containers' own errors do.
    """
    kids = m.children()
    if not _openable(m):
        if kids and not hasattr(m, "outputShape"):
            out = _eval_shape(m, shape)
            for k in kids:
                visit(k, None, None)
        else:
            out = _leaf_shape(m, shape)
    elif isinstance(m, nn.Sequential):
        out = shape
        for i, k in enumerate(kids):
            out = _child(i, k, out, visit)
    elif isinstance(m, nn.Concat):
        outs = [_child(i, k, shape, visit) for i, k in enumerate(kids)]
        out = _join(m, outs, m.dimension, isinstance(m, nn.DepthConcat))
    elif isinstance(m, nn.ConcatTable):
        out = [_child(i, k, shape, visit) for i, k in enumerate(kids)]
    elif isinstance(m, nn.gModule):
        out = m.propagate(
            shape, lambda i, s: _child(i, kids[i], s, visit), lambda v: isinstance(v, list)
        )
    else:  # ParallelTable
        if not isinstance(shape, list) or len(shape) != len(kids):
            raise ModuleError(
                _describe(m), f"expected a list of {len(kids)} inputs, got {_fmt(shape)}"
            )
        out = [_child(i, k, s, visit) for i, (k, s) in enumerate(zip(kids, shape, strict=True))]
    visit(m, shape, out)
    return out


def _openable(m: nn.Module) -> bool:
    """Containers whose data flow the walk knows (their subclasses included)."""
    return bool(m.children()) and isinstance(
        m, (nn.Sequential, nn.Concat, nn.ConcatTable, nn.ParallelTable, nn.gModule)
    )


def _child(i: int, k: nn.Module, shape: Any, visit) -> Any:
    try:
        return _walk(k, shape, visit)
    except ModuleError as e:
        raise e.within(i).with_traceback(None) from e.__cause__


def infer_shape(module: nn.Module, input_shape: tuple[int, ...]) -> Any:
    """The output shape of `module` for an input of `input_shape`, without computing anything.

    Raises:
        ModuleError: some layer refuses the shape it would get; the message names the layer
            with its path in the network, and the sizes given and expected.
    """
    return _walk(module, tuple(int(d) for d in input_shape), lambda *a: None)


# ----------------------------------------------------------------------------- counting


def _n_params(m: nn.Module) -> int:
    return sum(math.prod(v.shape) for v in m.split()[0].values())


def _weights(m: nn.Module) -> int:
    """Weights of the convolution and linear layers in `m` (what papers count as params)."""
    return sum(
        math.prod(x.weight.shape)
        for x in m.listModules()
        if type(x).__name__ in _WEIGHT_LAYERS and x.weight is not None
    )


def _mult_adds(m: nn.Module, out: Any) -> int:
    """Multiply-adds of one layer per sample, counted as the papers count them."""
    custom = getattr(m, "multAdds", None)
    if custom is not None:
        return int(custom(out))
    name = type(m).__name__
    if out is None or isinstance(out, list):
        return 0
    per_sample = math.prod(out[1:])  # shapes carry a batch dimension
    if name == "SpatialConvolution":
        return per_sample * (m.nInputPlane // m.groups) * m.kW * m.kH
    if name == "SpatialConvolutionMap":
        return out[-1] * out[-2] * len(m.connTable) * m.kW * m.kH
    if name == "SpatialSubSampling":
        return per_sample * m.kW * m.kH
    if name == "Linear":
        return out[-1] * m.weight.shape[1]
    return 0


def _depth(m: nn.Module) -> int:
    """Weight layers on the longest path through `m`."""
    kids = m.children()
    if not kids:
        return 1 if type(m).__name__ in _WEIGHT_LAYERS or getattr(m, "summary_depth", 0) else 0
    if isinstance(m, nn.Sequential):
        return sum(_depth(k) for k in kids)
    if isinstance(m, nn.gModule):  # the longest path through the graph
        n_in, nodes, outputs = m.wiring
        depth = [0] * n_in
        for k, (sources, _) in enumerate(nodes):
            depth.append(_depth(kids[k]) + max(depth[v] for v, _ in sources))
        return max(depth[v] for v, _ in outputs)
    return max(_depth(k) for k in kids)


# ----------------------------------------------------------------------------- rows and table


@dataclass
class Row:
    """One line of the table.

    Attributes:
        type: ``"convolution"``, ``"max pool"``, ``"inception (3a)"``...
        patch: patch size/stride such as ``"7×7/2"`` (empty for blocks and linear layers).
        output: the per-sample output shape (C, H, W) or (F,).
        depth: weight layers on the longest path through the row.
        params: trainable parameters of the row.
        weights: the weights of its convolution and linear layers (no biases, no batch-norm
            scales), which is what the papers' params columns count.
        ops: multiply-adds per sample.
        path: the index path of the row's first module (``"3.1"``).
    """

    type: str
    patch: str
    output: tuple
    depth: int
    params: int
    ops: int
    path: str
    weights: int = 0


@dataclass
class Summary:
    """What `summary` returns: the rows and the totals (per sample)."""

    rows: list[Row]
    input_shape: tuple
    output_shape: tuple
    params: int
    ops: int
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def mult_adds(self) -> int:
        """Alias of `ops`: multiply-adds per sample."""
        return self.ops

    def table(self) -> str:
        """The table as text, in the layout of the GoogLeNet paper's Table 1."""
        head = ("type", "patch size/stride", "output size", "depth", "params", "ops")
        body = [
            (r.type, r.patch, _size(r.output), str(r.depth), _k(r.params), _m(r.ops))
            for r in self.rows
        ]
        total = (
            "total",
            "",
            _size(self.output_shape),
            str(sum(r.depth for r in self.rows)),
            f"{self.params:,}",
            f"{self.ops:,}",
        )
        widths = [max(len(row[i]) for row in [head, *body, total]) for i in range(6)]

        def line(cells):
            return "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "-" * len(line(head))
        title = f"{self.name} " if self.name else ""
        first = f"{title}input {_size(self.input_shape)}"
        return "\n".join([first, line(head), rule, *map(line, body), rule, line(total)])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (
            f"Summary({self.name or 'network'}: {len(self.rows)} rows, params={self.params:,}, "
            f"mult_adds={self.ops:,}, output={_size(self.output_shape)})"
        )


def _size(shape: Any) -> str:
    """``112×112×64`` for (64, 112, 112), as the paper prints H×W×C; ``1000`` for (1000,)."""
    if isinstance(shape, list):
        return " + ".join(_size(s) for s in shape)
    if len(shape) >= 3:
        c, h, w = shape[-3:]
        return f"{h}×{w}×{c}"
    return str(shape[-1])


def _k(n: int) -> str:
    """Parameters in the paper's style: ``2.7K``, ``159K`` (K = 1024, as GoogLeNet's table)."""
    if n == 0:
        return ""
    if n < 1024:
        return str(n)
    k = n / 1024
    return f"{k:.1f}K" if k < 10 else f"{k:.0f}K"


def _m(n: int) -> str:
    """Multiply-adds in the paper's style: ``34M``, ``1M`` (M = 10^6)."""
    if n == 0:
        return ""
    if n < 100_000:
        return f"{n:,}"
    return f"{n / 1e6:.0f}M" if n >= 1e6 else f"{n / 1e6:.2f}M"


def _patch(m: nn.Module) -> str:
    if hasattr(m, "summary_patch"):
        return m.summary_patch
    if hasattr(m, "kW") and hasattr(m, "kH"):
        d = getattr(m, "dW", 1)
        dh = getattr(m, "dH", d)
        stride = f"{d}" if d == dh else f"{d},{dh}"
        return f"{m.kW}×{m.kH}/{stride}"
    return ""


def _label(m: nn.Module) -> str:
    if hasattr(m, "summary_label"):
        return m.summary_label
    name = type(m).__name__
    if name == "Dropout":
        return f"dropout ({m.p:.0%})"
    return _LABELS.get(name, name)


def _rows(module: nn.Module, in_shape: Shape, expand: bool) -> tuple[list[Row], Any]:
    outputs: dict[int, Any] = {}

    def visit(m, _in, out):
        outputs[id(m)] = out

    out = _walk(module, in_shape, visit)
    rows: list[Row] = []

    def ops_of(m):
        return sum(_mult_adds(x, outputs.get(id(x))) for x in m.listModules())

    def emit(m, path, label=None):
        kids = m.children()
        is_row = not kids or (not expand and hasattr(m, "summary_label"))
        if not is_row and _openable(m):
            n_in = m.wiring[0] if isinstance(m, nn.gModule) else 0  # a graph's input nodes
            for i, k in enumerate(kids):
                emit(k, f"{path}.{i}" if path else str(i), f"input {i}" if i < n_in else None)
            return
        out = _drop_batch(outputs.get(id(m)))
        row = Row(
            label or _label(m),
            _patch(m),
            out,
            _depth(m),
            _n_params(m),
            ops_of(m),
            path,
            _weights(m),
        )
        name = type(m).__name__
        folds = label is None and name in _FOLDED and not hasattr(m, "summary_label")
        if not expand and rows and folds:
            prev = rows[-1]
            prev.params += row.params
            prev.weights += row.weights
            prev.ops += row.ops
            prev.output = row.output
            return
        rows.append(row)

    emit(module, "")
    return rows, out


def _drop_batch(shape: Any) -> Any:
    if shape is None:
        return None
    if isinstance(shape, list):
        return [_drop_batch(x) for x in shape]
    return tuple(shape[1:])


def _batched(input_shape: Any) -> Any:
    """One sample's shape with a batch dimension of 1 (a 4-D shape is taken as a batch); a
    list of shapes (a network of several inputs, such as a gModule) shape by shape."""
    if isinstance(input_shape, list):
        return [_batched(s) for s in input_shape]
    shape = tuple(int(d) for d in input_shape)
    return shape if len(shape) == 4 else (1, *shape)  # Concat(1) and Linear want a batch


def summary(
    module: nn.Module,
    input_shape: tuple[int, ...],
    *,
    expand: bool = False,
    quiet: bool = False,
    file: Any = None,
) -> Summary:
    """Print a per-layer table of `module` for one input of `input_shape` and return totals.

    Nothing is computed: shapes come from closed-form output sizes (or ``jax.eval_shape``).

    Args:
        module: any `nets.nn` module, e.g. ``nets.models.get('googlenet')``.
        input_shape: one sample's shape, ``(3, 224, 224)``; a leading batch dimension is
            accepted and ignored in the counts, which are per sample. A list of shapes for a
            network of several inputs (a `nn.gModule`).
        expand: one row per layer, opening the blocks a model labels (Inception modules).
        quiet: return the `Summary` without printing it.
        file: where to print (default ``sys.stdout``).

    Returns:
        Summary: ``.rows``, ``.params`` (trainable), ``.ops`` (multiply-adds per sample),
        ``.output_shape``; ``str(s)`` is the table.

    Raises:
        ModuleError: a layer refuses the shape it would get (named with its path).

    Example:
        >>> from nets import nn
        >>> net = nn.Sequential().add(nn.SpatialConvolution(3, 6, 5, 5)).add(nn.ReLU())
        >>> s = summary(net, (3, 32, 32), quiet=True)
        >>> s.params, s.ops, s.output_shape
        (456, 352800, (6, 28, 28))
    """
    batch = _batched(input_shape)
    model = getattr(module, "model_name", "")
    if model:  # a zoo network: a wrong size names the model and the sizes it accepts
        module.check_input(batch)
    rows, out = _rows(module, batch, expand)
    result = Summary(
        rows=rows,
        input_shape=_drop_batch(batch),
        output_shape=_drop_batch(out),
        params=_n_params(module),
        ops=sum(r.ops for r in rows),
        name=model,
    )
    if not quiet:
        print(result.table(), file=file or sys.stdout)
    return result
