"""Generate the table of every Torch7 `nn` module in docs/nn.md: ``python -m nets.nn._doc``.

The names are torch/nn's ``init.lua``, in its order. A name is *here* when ``nets.nn`` has it,
and the file shown is where it is defined (read from the object, so the table cannot claim a
layer that is not there); *not here* when it is deliberately left out, with the reason below;
*not yet* otherwise. The table lives between two markers at the end of docs/nn.md;
``python -m nets.nn._doc --update docs/nn.md`` rewrites it there, and a test checks that the page
is in step with ``nets.nn``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nets.nn

# torch/nn init.lua's ``require('nn.X')`` lines, in order
TORCH7_NN = (
    "THNN",
    "utils",
    "ErrorMessages",
    "Module",
    "Container",
    "Concat",
    "Parallel",
    "Sequential",
    "DepthConcat",
    "Decorator",
    "Bottle",
    "WeightNorm",
    "DontCast",
    "NaN",
    "Profile",
    "Linear",
    "LinearWeightNorm",
    "Bilinear",
    "PartialLinear",
    "SparseLinear",
    "IndexLinear",
    "Reshape",
    "View",
    "Contiguous",
    "Select",
    "Narrow",
    "Index",
    "Squeeze",
    "Unsqueeze",
    "Replicate",
    "Transpose",
    "BatchNormalization",
    "LayerNormalization",
    "Padding",
    "GradientReversal",
    "MaskedSelect",
    "Copy",
    "Min",
    "Max",
    "Sum",
    "Mean",
    "CMul",
    "Mul",
    "MulConstant",
    "CAdd",
    "Add",
    "AddConstant",
    "Constant",
    "Dropout",
    "SpatialDropout",
    "VolumetricDropout",
    "WhiteNoise",
    "OneHot",
    "PrintSize",
    "ZeroGrad",
    "CAddTable",
    "CDivTable",
    "CMulTable",
    "CSubTable",
    "CMaxTable",
    "CMinTable",
    "CAddTensorTable",
    "Euclidean",
    "WeightedEuclidean",
    "PairwiseDistance",
    "CosineDistance",
    "DotProduct",
    "Normalize",
    "Cosine",
    "Kmeans",
    "Exp",
    "Log",
    "HardTanh",
    "Clamp",
    "LogSigmoid",
    "LogSoftMax",
    "Sigmoid",
    "SoftMax",
    "SoftMin",
    "SoftPlus",
    "SoftSign",
    "Tanh",
    "TanhShrink",
    "Abs",
    "Power",
    "Square",
    "Sqrt",
    "HardShrink",
    "SoftShrink",
    "Threshold",
    "Maxout",
    "ReLU",
    "ReLU6",
    "PReLU",
    "CReLU",
    "LeakyReLU",
    "SpatialSoftMax",
    "SpatialLogSoftMax",
    "RReLU",
    "ELU",
    "GatedLinearUnit",
    "LookupTable",
    "SpatialConvolution",
    "SpatialConvolutionLocal",
    "SpatialFullConvolution",
    "SpatialFullConvolutionMap",
    "SpatialConvolutionMM",
    "SpatialDepthWiseConvolution",
    "SpatialConvolutionMap",
    "SpatialDilatedConvolution",
    "SpatialSubSampling",
    "SpatialMaxPooling",
    "SpatialDilatedMaxPooling",
    "SpatialMaxUnpooling",
    "SpatialFractionalMaxPooling",
    "SpatialLPPooling",
    "SpatialAveragePooling",
    "SpatialAdaptiveMaxPooling",
    "SpatialAdaptiveAveragePooling",
    "TemporalConvolution",
    "TemporalSubSampling",
    "TemporalMaxPooling",
    "TemporalDynamicKMaxPooling",
    "TemporalRowConvolution",
    "SpatialSubtractiveNormalization",
    "SpatialDivisiveNormalization",
    "SpatialContrastiveNormalization",
    "SpatialCrossMapLRN",
    "SpatialZeroPadding",
    "SpatialReflectionPadding",
    "SpatialReplicationPadding",
    "SpatialUpSamplingNearest",
    "SpatialUpSamplingBilinear",
    "SpatialBatchNormalization",
    "UpSampling",
    "VolumetricConvolution",
    "VolumetricFullConvolution",
    "VolumetricDilatedConvolution",
    "VolumetricMaxPooling",
    "VolumetricDilatedMaxPooling",
    "VolumetricFractionalMaxPooling",
    "VolumetricMaxUnpooling",
    "VolumetricAveragePooling",
    "VolumetricBatchNormalization",
    "VolumetricReplicationPadding",
    "FeatureLPPooling",
    "GPU",
    "ParallelTable",
    "Identity",
    "ConcatTable",
    "SplitTable",
    "JoinTable",
    "SelectTable",
    "MixtureTable",
    "CriterionTable",
    "FlattenTable",
    "NarrowTable",
    "MapTable",
    "ZipTable",
    "ZipTableOneToMany",
    "Collapse",
    "Convert",
    "Criterion",
    "MSECriterion",
    "SpatialAutoCropMSECriterion",
    "SmoothL1Criterion",
    "MarginCriterion",
    "SoftMarginCriterion",
    "AbsCriterion",
    "ClassNLLCriterion",
    "SpatialClassNLLCriterion",
    "ClassSimplexCriterion",
    "DistKLDivCriterion",
    "MultiCriterion",
    "L1HingeEmbeddingCriterion",
    "HingeEmbeddingCriterion",
    "CosineEmbeddingCriterion",
    "MarginRankingCriterion",
    "MultiMarginCriterion",
    "MultiLabelMarginCriterion",
    "MultiLabelSoftMarginCriterion",
    "L1Cost",
    "L1Penalty",
    "WeightedMSECriterion",
    "BCECriterion",
    "CrossEntropyCriterion",
    "ParallelCriterion",
    "DistanceRatioCriterion",
    "ModuleCriterion",
    "PixelShuffle",
    "StochasticGradient",
    "MM",
    "MV",
    "Jacobian",
    "SparseJacobian",
    "hessian",
    "test",
)

# Names left out on purpose, and why.
ABSENT = {
    "THNN": "the C/CUDA kernels Torch7's layers call; here every layer calls "
    "`nets/nn/functional.py`, which XLA compiles",
    "utils": "Torch7's helpers for tables of tensors (`recursiveResizeAs`, `recursiveFill`, ...); "
    "JAX's pytrees (`jax.tree.map`) do that job",
    "ErrorMessages": "Torch7's internal error strings; errors here come from `nets/_errors.py`",
    "hessian": "Torch7's experimental diagonal-Hessian methods (`updateDiagHessianInput`, ...); "
    "`jax.hessian` of a module's pure call gives second derivatives",
    "test": "Torch7's own test suite (ours is `tests/`)",
    "SparseLinear": "takes sparse (index, value) inputs; JAX's sparse arrays are experimental "
    "(`jax.experimental.sparse`), so there is no stable input type to accept",
    "IndexLinear": "takes sparse (index, value) inputs, as SparseLinear",
    "SparseJacobian": "the finite-difference checker of SparseLinear, which is not here",
    "SpatialConvolutionMM": "Torch7's im2col implementation of SpatialConvolution, the same "
    "layer: use `nn.SpatialConvolution` (XLA chooses the convolution algorithm)",
    "GPU": "puts a module on one of several GPUs (cutorch); one compiled step places the whole "
    "network, and `nets.engine.DataParallel` spreads batches over devices",
    "MaskedSelect": "its output's size is the number of true entries of the mask, a value: a "
    "compiled network needs sizes known from shapes alone. Multiply by the mask "
    "(`nn.CMulTable`) or select with `jnp.where` outside the network",
    "Kmeans": "its forward stores the within-cluster loss and per-cluster counts as side state "
    "and its `accGradParameters` writes the k-means update rule, not a derivative, into "
    "`gradWeight`; the autodiff core cannot express that honestly. Use "
    "`sklearn.cluster.KMeans`, or `jnp.argmin` of the distances (`nn.Euclidean`) and segment "
    "means in a few lines",
    "Convert": "dpnn's converter between named layouts ('bchw' -> 'bf') and tensor types, built "
    "on moses; arrays here have one type, and the layouts are `nn.View`, `nn.Reshape`, "
    "`nn.Transpose` and `nn.Collapse`",
    "DontCast": "keeps a sub-module's tensor type when its network is cast; `Module.type()` "
    "casts a whole tree and a compiled step runs in one dtype. Cast at a boundary with "
    "`nn.Copy(inputType, outputType)` instead",
}

BEGIN = "<!-- BEGIN generated by `python -m nets.nn._doc`; do not edit by hand -->"
END = "<!-- END generated by `python -m nets.nn._doc` -->"


def status(name: str) -> tuple[str, str]:
    """``('here', file)``, ``('not here', reason)`` or ``('not yet', '')`` for a Torch7 name."""
    obj: Any = getattr(nets.nn, name, None)
    if obj is not None:
        module = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
        return "here", "`" + module.replace(".", "/") + ".py`"
    if name in ABSENT:
        return "not here", ABSENT[name]
    return "not yet", ""


def section() -> str:
    """The generated section of docs/nn.md, markers included."""
    rows = [status(n) for n in TORCH7_NN]
    count = {s: sum(1 for r in rows if r[0] == s) for s in ("here", "not here", "not yet")}
    lines = [
        BEGIN,
        "",
        "## Every Torch7 `nn` module",
        "",
        f"torch/nn's `init.lua` loads {len(TORCH7_NN)} names: {count['here']} are here, "
        f"{count['not here']} are left out on purpose (the reason is given), "
        f"{count['not yet']} are not written yet.",
        "",
        "| Torch7 | status | file, or why not |",
        "|---|---|---|",
    ]
    for name, (state, where) in zip(TORCH7_NN, rows, strict=True):
        lines.append(f"| `{name}` | {state} | {where} |")
    lines += ["", END]
    return "\n".join(lines) + "\n"


def update(page: str) -> str:
    """`page` (docs/nn.md's text) with its generated section replaced (appended if absent)."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < 0:
        return page.rstrip("\n") + "\n\n" + section()
    return page[:start] + section() + page[end + len(END) :].lstrip("\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nets.nn._doc", description=__doc__)
    parser.add_argument("--update", metavar="PAGE", help="rewrite the section in PAGE")
    args = parser.parse_args(argv)
    if args.update:
        path = Path(args.update)
        path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(section())


if __name__ == "__main__":
    main()
