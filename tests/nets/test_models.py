"""nets.models: every registered network against its paper, by shape inference (no big compute).

Parameter counts and multiply-adds come from `nets.summary` on networks built with shape-only
arrays (`models.abstract`), so VGG's 138M parameters cost nothing. The real forward and backward
passes run on small inputs (or the convolutional part, where the classifier fixes the size).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import models, nn, summary
from nets._errors import ModuleError
from nets.models import ModelError
from nets.models._registry import figure_range
from nets.models.lenet import C3_TABLE
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

NAMES = models.list()


@functools.cache
def abstract(name: str, **kw):
    return models.abstract(name, **kw)


@functools.cache
def counted(name: str):
    meta = models.meta(name)
    return summary(abstract(name), meta.input_size, quiet=True)


def matches_paper(value: float, figure: str) -> bool:
    """`value` printed to the figure's precision gives the figure, rounded or cut (the papers
    do both: ResNet's 7.57G is printed 7.6, its 3.66G is printed 3.6)."""
    lo, hi = figure_range(figure)
    unit = hi - lo
    return lo <= value < hi + unit / 2 if unit else value == lo


def test_registry_names_families():
    assert NAMES[:2] == ["alexnet", "alexnet_onetower"] or "alexnet" in NAMES
    for name in ("lenet5", "lenet5_1998", "alexnet", "alexnet_onetower", "googlenet"):
        assert name in NAMES
    for name in ("vgg11", "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19"):
        assert name in NAMES
    for name in ("inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2"):
        assert name in NAMES
    for d in (18, 34, 50, 101, 152):
        assert f"resnet{d}" in NAMES
    for d in (20, 32, 44, 56, 110):
        assert f"resnet{d}_cifar" in NAMES
    assert len(set(NAMES)) == len(NAMES)


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ModelError, match=r"unknown model 'resnet51'.*resnet50.*vgg16"):
        models.get("resnet51")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: models.vgg("F"), r"vgg: unknown config 'F'; expected one of 'A', 'A-LRN', "),
        (lambda: models.resnet(20), r"resnet: unknown depth 20; expected one of 18, 34, 50"),
        (lambda: models.resnet(50, shortcut="D"), r"unknown shortcut 'D'.*'A', 'B', 'C'"),
        (lambda: models.resnet_cifar(50), r"unknown depth 50; expected one of 20, 32, 44, 56"),
        (lambda: models.alexnet("twotower"), r"unknown variant 'twotower'.*'original'"),
        (lambda: models.lenet5(in_channels=2), r"unknown in_channels 2; expected one of 1, 3"),
    ],
)
def test_unknown_configuration_lists_the_valid_ones(call, match):
    with pytest.raises(ModelError, match=match):
        call()


@pytest.mark.parametrize("name", NAMES)
def test_output_shape_and_meta(name):
    meta = models.meta(name)
    s = counted(name)
    assert s.input_shape == meta.input_size
    assert s.output_shape == ((1000,) if meta.input_size[1] >= 200 else (10,))
    assert meta.year in range(1998, 2017) and meta.url.startswith("http")
    if meta.layers is not None:  # the depth the paper states: weight layers on the longest path
        assert sum(r.depth for r in s.rows) == meta.layers


@pytest.mark.parametrize(
    "name", ["lenet5", "lenet5_1998", "alexnet", "vgg11", "googlenet", "inception_v2", "resnet18"]
)
def test_num_classes(name):
    net = abstract(name, num_classes=7)
    assert summary(net, models.meta(name).input_size, quiet=True).output_shape == (7,)


@pytest.mark.parametrize("name", [n for n in NAMES if models.meta(n).params])
def test_parameter_count_against_published_figure(name):
    meta = models.meta(name)
    off = "params" in meta.paper_off
    assert matches_paper(counted(name).params, meta.params) != off, (
        f"{name}: {counted(name).params:,} parameters, published {meta.params}"
    )


@pytest.mark.parametrize("name", [n for n in NAMES if models.meta(n).mult_adds])
def test_multiply_adds_against_published_figure(name):
    meta = models.meta(name)
    off = "mult_adds" in meta.paper_off
    assert matches_paper(counted(name).ops, meta.mult_adds) != off, (
        f"{name}: {counted(name).ops:,} multiply-adds, published {meta.mult_adds}"
    )
    if off:
        assert meta.notes


def test_figure_range_reads_the_papers_rounding():
    assert figure_range("138M") == (137.5e6, 138.5e6)
    assert figure_range("1.8G") == pytest.approx((1.75e9, 1.85e9))
    assert figure_range("60,965,224") == (60965224, 60965224)
    with pytest.raises(ValueError, match=r"expected a number like '138M'.*got 'many'"):
        figure_range("many")


@pytest.mark.parametrize("name", ["alexnet", "vgg19", "googlenet", "resnet152"])
def test_the_seeds_cnn_table(name):
    from nets.models._seed import SEED_CNN_TABLE, SEED_ERRATA, facts

    ours = facts(abstract(name), sum(r.depth for r in counted(name).rows))
    for column, seed in SEED_CNN_TABLE[name].items():
        assert (ours[column] == seed) != ((name, column) in SEED_ERRATA), (name, column)


# ----------------------------------------------------------------------------- LeNet-5


def test_lenet5_1998_has_lecuns_60000_parameters_layer_by_layer():
    net = abstract("lenet5_1998")
    s = summary(net, (1, 32, 32), quiet=True)
    by_row = {r.type.split()[0]: r.params for r in s.rows}
    assert by_row == {
        "C1": 156,
        "S2": 12,
        "C3": 1516,
        "S4": 32,
        "C5": 48120,
        "F6": 10164,
        "RBF": 0,
    }
    assert s.params == 60000
    # The RBF codes are fixed, as in the paper: a buffer, not a parameter.
    _, buffers = net.split()
    assert [k for k in buffers if k.endswith("centres")] and buffers[
        next(k for k in buffers if k.endswith("centres"))
    ].shape == (10, 84)
    # The paper's 340,908 connections = multiply-adds + one per biased unit.
    biased_units = 28 * 28 * 6 + 14 * 14 * 6 + 10 * 10 * 16 + 5 * 5 * 16 + 120 + 84
    assert s.ops + biased_units == 340908


def test_lenet5_1998_c3_is_table_one():
    net = abstract("lenet5_1998")
    (conv_map,) = net.findModules("SpatialConvolutionMap")
    seen = {o: set() for o in range(16)}
    for i, o in np.asarray(conv_map.connTable):
        seen[int(o)].add(int(i))
    assert [seen[o] for o in range(16)] == [set(c) for c in C3_TABLE]
    # Table I read by input plane: plane 0 feeds outputs 0, 4, 5, 6, 9, 10, 11, 12, 14, 15.
    assert sorted(o for o in range(16) if 0 in seen[o]) == [0, 4, 5, 6, 9, 10, 11, 12, 14, 15]
    assert len(net.findModules("SpatialSubSampling")) == 2


def test_lenet5_1998_squashing_is_the_scaled_tanh():
    net = models.lenet5(variant="1998")
    squash = net.get(0).get(1)
    x = jnp.linspace(-3, 3, 13)
    # float32 constants 2/3 and 1.7159 and their products, and tanh, against float64
    want = 1.7159 * np.tanh(2 / 3 * np.asarray(x))
    assert_close(squash.forward(x), want, terms=path_terms(2, ELEMENTWISE, 2))


@pytest.mark.parametrize("channels, params", [(3, 62006), (1, 61706)])
def test_lenet5_modern_is_the_seeds_torch_example(channels, params):
    net = models.lenet5(in_channels=channels)
    kinds = [type(m).__name__ for m in net.modules]
    assert kinds == [
        "SpatialConvolution", "ReLU", "SpatialMaxPooling",
        "SpatialConvolution", "ReLU", "SpatialMaxPooling",
        "Reshape", "Linear", "ReLU", "Linear", "ReLU", "Linear", "LogSoftMax",
    ]  # fmt: skip
    assert summary(net, (channels, 32, 32), quiet=True).params == params


# ----------------------------------------------------------------------------- AlexNet and VGG


def test_alexnet_original_two_towers_lrn_overlapping_pooling_dropout():
    net = abstract("alexnet")
    convs = net.findModules("SpatialConvolution")
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]
    assert [c.nOutputPlane for c in convs] == [96, 256, 384, 384, 256]
    lrns = net.findModules("SpatialCrossMapLRN")
    assert [(m.size, m.k, m.beta) for m in lrns] == [(5, 2.0, 0.75)] * 2
    # The paper's alpha (1e-4, not divided by n) in Torch7's alpha/n form.
    assert all(m.alpha / m.size == pytest.approx(1e-4) for m in lrns)
    pools = net.findModules("SpatialMaxPooling")
    assert [(p.kW, p.dW) for p in pools] == [(3, 2)] * 3
    assert [d.p for d in net.findModules("Dropout")] == [0.5, 0.5]
    assert counted("alexnet").params == 60965224
    assert not abstract("alexnet_onetower").findModules("SpatialCrossMapLRN")


@pytest.mark.parametrize(
    "config, kernels",
    [
        ("A", [3] * 8),
        ("A-LRN", [3] * 8),
        ("B", [3] * 10),
        ("C", [3] * 6 + [1] + [3, 3, 1] * 2),  # conv1-256, conv1-512, conv1-512
        ("D", [3] * 13),
        ("E", [3] * 16),
    ],
)
def test_vgg_configurations_are_table_one(config, kernels):
    net = abstract(models.vgg, config=config)
    assert [c.kW for c in net.findModules("SpatialConvolution")] == kernels
    assert len(net.findModules("SpatialCrossMapLRN")) == (config == "A-LRN")
    assert len(net.findModules("SpatialMaxPooling")) == 5
    assert [m.weight.shape[0] for m in net.findModules("Linear")] == [4096, 4096, 1000]


def test_vgg_aliases_and_batch_norm_flag():
    d = summary(abstract(models.vgg, config="D"), (3, 224, 224), quiet=True)
    assert counted("vgg16").params == d.params
    bn = abstract("vgg11", batch_norm=True)
    convs = bn.findModules("SpatialConvolution")
    assert len(bn.findModules("SpatialBatchNormalization")) == len(convs) == 8
    assert all(c.bias is None for c in convs)
    assert bn.model_name == "vgg11_bn"


# ----------------------------------------------------------------------------- ResNet


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_resnet_shortcut_options(depth):
    def params(shortcut):
        net = abstract("resnet" + str(depth), shortcut=shortcut)
        return summary(net, (3, 224, 224), quiet=True).params

    plain, a, b, c = params("none"), params("A"), params("B"), params("C")
    assert a <= plain and a == plain  # option A adds no parameters to the plain net
    assert a < b < c


def test_resnet_option_a_shortcut_subsamples_and_zero_pads():
    from nets.models.resnet import _shortcut

    sc = _shortcut(2, 4, 2, "A")
    x = jnp.arange(2 * 2 * 4 * 4, dtype=jnp.float32).reshape(2, 2, 4, 4)
    y = sc.forward(x)
    np.testing.assert_array_equal(y[:, :2], x[:, :, ::2, ::2])
    np.testing.assert_array_equal(y[:, 2:], 0)
    assert not sc.split()[0]


def test_resnet_downsample_position_changes_ops_not_params():
    v1 = summary(abstract("resnet50"), (3, 224, 224), quiet=True)
    v15 = summary(abstract("resnet50", downsample="3x3"), (3, 224, 224), quiet=True)
    assert v1.params == v15.params
    assert v15.ops > v1.ops


def test_resnet_convs_have_no_bias_and_stages_have_table_one_blocks():
    net = abstract("resnet34")
    assert all(c.bias is None for c in net.findModules("SpatialConvolution"))
    stages = [m for m in net.modules if getattr(m, "summary_label", "").endswith("_x")]
    assert [len(s) for s in stages] == [3, 4, 6, 3]


# ----------------------------------------------------------------------------- bad input


def test_wrong_input_size_names_model_layer_and_accepted_sizes():
    net = abstract("alexnet")
    with pytest.raises(ModuleError, match=r"^alexnet: input of size 3x200x200 does not fit") as e:
        net.check_input((1, 3, 200, 200))
    msg = str(e.value)
    assert "(15) nn.Reshape(9216): expected 9216 elements per sample" in msg
    assert "alexnet accepts 3x227x227 (H and W each from 227 to 258)" in msg


def test_inception_v3_needs_299():
    with pytest.raises(ModuleError, match=r"inception_v3: .*accepts 3x299x299 \(H and W each "):
        abstract("inception_v3").check_input((1, 3, 224, 224))


def test_wrong_planes_and_global_pooling_ranges():
    with pytest.raises(ModuleError, match=r"resnet18: input of size 1x224x224 .*3 input planes"):
        abstract("resnet18").check_input((1, 1, 224, 224))
    # Global average pooling: any size down to 1x1 reaches the classifier.
    assert abstract("resnet18").accepted_sizes() == "3x224x224 (H and W each at least 1)"
    assert abstract("resnet18").check_input((2, 3, 64, 48)) == (2, 1000)


def test_real_forward_fails_before_computing():
    net = models.lenet5()
    with pytest.raises(ModuleError, match=r"lenet5: input of size 3x28x28 does not fit layer .*"
                       r"accepts 3x32x32 \(H and W each from 32 to 35\)"):  # fmt: skip
        net.forward(jnp.zeros((2, 3, 28, 28)))


# ----------------------------------------------------------------------------- real passes


def _random_params(module: nn.Module, seed: int = 0) -> dict:
    """Real arrays for every parameter of a (possibly abstract) module, drawn on the host
    (eager jax.random would compile a program per shape)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in module.split()[0].items():
        fan_in = math.prod(p.shape[1:]) if len(p.shape) > 1 else 1
        out[name] = jax.device_put(rng.normal(size=p.shape).astype(np.float32) / fan_in**0.5)
    return out


def _real_buffers(module: nn.Module) -> dict:
    """Running statistics at their initial values; LeNet's RBF codes as +1/-1."""
    out = {}
    for k, b in module.split()[1].items():
        if k.endswith("running_var"):
            value = np.ones(b.shape, np.float32)
        elif k.endswith("centres"):
            value = np.where(np.arange(math.prod(b.shape)) % 3, 1.0, -1.0).reshape(b.shape)
        else:
            value = np.zeros(b.shape, np.float32)
        out[k] = jax.device_put(value.astype(np.float32))
    return out


def _forward_backward(module: nn.Module, shape: tuple) -> tuple:
    """One compiled forward and backward pass in training mode; checks the gradients."""
    params, buffers = _random_params(module), _real_buffers(module)
    x = jax.device_put(np.random.default_rng(1).normal(size=shape).astype(np.float32))

    def loss(p):
        out, _ = module.call(p, buffers, x, train=True, key=jax.random.key(2))
        outs = out if isinstance(out, list) else [out]
        return sum(jnp.sum(o * o) for o in outs) / len(outs), out

    (value, out), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(params)
    assert np.isfinite(float(value))
    assert set(grads) == set(params)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads.values())
    assert any(float(jnp.abs(g).sum()) > 0 for g in grads.values())
    return out, grads


def _features(name: str, **kw) -> nn.Sequential:
    """The network up to (not including) its flattening: the part that takes any size."""
    net = abstract(name, **kw)
    cut = next(i for i, m in enumerate(net.modules) if isinstance(m, nn.Reshape))
    return nn.Sequential(*net.modules[:cut])


def test_forward_backward_lenet5_modern():
    out, _ = _forward_backward(models.lenet5(in_channels=1), (2, 1, 32, 32))
    assert out.shape == (2, 10)


def test_forward_backward_lenet5_1998():
    out, _ = _forward_backward(abstract("lenet5_1998"), (2, 1, 32, 32))
    assert out.shape == (2, 10)


def test_forward_backward_alexnet_towers_at_reduced_size():
    out, _ = _forward_backward(_features("alexnet"), (1, 3, 67, 67))
    assert out.shape == (1, 256, 1, 1)


def test_forward_backward_vgg_features_at_reduced_size():
    out, _ = _forward_backward(_features("vgg11_lrn"), (1, 3, 32, 32))
    assert out.shape == (1, 512, 1, 1)


def test_forward_backward_googlenet_stem_and_inception_at_reduced_size():
    net = abstract("googlenet")
    first_block = next(i for i, m in enumerate(net.modules) if isinstance(m, nn.Concat))
    out, _ = _forward_backward(nn.Sequential(*net.modules[: first_block + 1]), (2, 3, 32, 32))
    assert out.shape == (2, 256, 4, 4)


def test_forward_backward_inception_blocks():
    from nets.models import inception as inc

    for block, planes, size, out_planes in [
        (inc._v3_c(16), 16, 3, 320 + 768 + 768 + 192),
        (inc._ir_c(16), 16, 3, 16),
    ]:
        out, _ = _forward_backward(block, (2, planes, size, size))
        assert out.shape[:2] == (2, out_planes)


def test_forward_backward_resnet_cifar():
    out, grads = _forward_backward(abstract("resnet20_cifar"), (2, 3, 32, 32))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_forward_backward_resnet_bottleneck(shortcut):
    from nets.models.resnet import _bottleneck

    block = _bottleneck(64, 64, 2, shortcut, "1x1")
    out, _ = _forward_backward(block, (2, 64, 8, 8))
    assert out.shape == (2, 256, 4, 4)


def test_docs_models_md_is_generated_from_the_zoo():
    """docs/models.md is `python -m nets.models._doc`'s output, never edited by hand."""
    import io
    import pathlib

    from nets.models import _doc

    page = io.StringIO()
    _doc.main(page, build=abstract)
    path = pathlib.Path(__file__).parents[2] / "docs" / "models.md"
    assert path.read_text(encoding="utf-8") == page.getvalue(), (
        "docs/models.md is stale: run `python -m nets.models._doc > docs/models.md`"
    )


def test_star_import_gives_every_name_in_all():
    from nets import models

    namespace: dict = {}
    exec("from nets.models import *", namespace)
    assert set(models.__all__) <= set(namespace)
