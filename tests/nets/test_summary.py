"""nets.summary: the per-layer table, against the seed's GoogLeNet table and ResNet FLOPs row.

Shapes come from the closed-form walk; one test checks the walk against ``jax.eval_shape`` of
the real pure call (the stax-style shape-agreement check).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import nets
from nets import models, nn, summary
from nets._errors import ModuleError
from nets.models.googlenet import INCEPTION, PAPER_ERRATA, PAPER_ROWS
from nets.summary import _depth, infer_shape
from tests.nets.test_models import abstract, counted, matches_paper


def _lenet() -> nn.Sequential:
    return nn.Sequential(
        nn.SpatialConvolution(3, 6, 5, 5),
        nn.ReLU(),
        nn.SpatialMaxPooling(2, 2, 2, 2),
        nn.View(6 * 14 * 14),
        nn.Linear(6 * 14 * 14, 10),
        nn.LogSoftMax(),
    )


def test_totals_and_table(capsys):
    s = summary(_lenet(), (3, 32, 32))
    assert s.params == 456 + 1176 * 10 + 10
    assert s.ops == 28 * 28 * 6 * 75 + 1176 * 10
    assert s.output_shape == (10,)
    printed = capsys.readouterr().out
    assert printed.strip() == s.table().strip()
    head = printed.splitlines()[1]
    for column in ("type", "patch size/stride", "output size", "depth", "params", "ops"):
        assert column in head
    # ReLU folds into the convolution's row, the View into the pooling's: the paper's rows.
    assert [r.type for r in s.rows] == ["convolution", "max pool", "linear", "log softmax"]
    assert s.rows[0].patch == "5×5/1" and s.rows[0].output == (6, 28, 28)
    assert "28×28×6" in printed


def test_batch_dimension_is_accepted_and_counts_stay_per_sample():
    a = summary(_lenet(), (3, 32, 32), quiet=True)
    b = summary(_lenet(), (8, 3, 32, 32), quiet=True)
    assert (a.params, a.ops, a.output_shape) == (b.params, b.ops, b.output_shape)


def test_expand_gives_one_row_per_layer():
    s = summary(abstract("lenet5"), (3, 32, 32), quiet=True, expand=True)
    assert len(s.rows) == 13
    folded = summary(abstract("lenet5"), (3, 32, 32), quiet=True)
    assert len(folded.rows) < 13 and folded.params == s.params and folded.ops == s.ops


def test_nets_summary_is_callable_however_it_was_imported():
    from nets.summary import summary as from_module

    assert nets.summary is from_module
    assert nets.summary(_lenet(), (3, 32, 32), quiet=True).params == 12226
    assert summary(_lenet(), (3, 32, 32), quiet=True).params == 12226


def test_shape_error_names_the_layer_and_its_path():
    net = _lenet()
    with pytest.raises(ModuleError, match=r"^\(3\) nn.View\(1176\): input view \(1x6x15x15\)"):
        infer_shape(net, (1, 3, 34, 34))
    with pytest.raises(ModuleError, match=r"^\(0\) nn.SpatialConvolution.*expected 3 input planes"):
        infer_shape(net, (1, 1, 32, 32))
    with pytest.raises(ModuleError, match=r"input is too small: given input size \(3x4x4\)"):
        infer_shape(net, (1, 3, 4, 4))


class Transpose(nn.Module):
    """A user's layer with no outputShape: the walk asks jax.eval_shape."""

    def updateOutput(self, input):
        self.output = jnp.swapaxes(input, -1, -2)
        return self.output


def test_layers_without_a_closed_form_go_through_eval_shape():
    net = nn.Sequential(nn.Reshape(6, 2, True), Transpose(), nn.View(12), nn.Linear(12, 3))
    assert infer_shape(net, (4, 12)) == (4, 3)
    assert summary(net, (12,), quiet=True).rows[0].output == (6, 2)


@pytest.mark.parametrize(
    "name, kw",
    [("lenet5_1998", {}), ("alexnet", {}), ("resnet20_cifar", {}), ("googlenet", {"aux": 1})],
)
def test_closed_form_walk_agrees_with_jax_eval_shape(name, kw):
    net = abstract(name, aux_logits=True) if kw else abstract(name)
    shape = (2, *models.meta(name).input_size)
    params, buffers = net.split()

    def spec(tree):
        return {k: jax.ShapeDtypeStruct(v.shape, v.dtype) for k, v in tree.items()}

    out = jax.eval_shape(
        lambda p, b, x: net.call(p, b, x, train=False)[0],
        spec(params),
        spec(buffers),
        jax.ShapeDtypeStruct(shape, jnp.float32),
    )
    traced = [tuple(o.shape) for o in out] if isinstance(out, list) else tuple(out.shape)
    assert infer_shape(net, shape) == traced


# ----------------------------------------------------------------------------- the seed's tables


def _paper_size(text: str) -> tuple:
    h, w, c = (int(v) for v in text.split("×"))
    return (c,) if h == w == 1 else (c, h, w)


def _inception_weights(nIn: int, row: tuple) -> int:
    n1, r3, n3, r5, n5, proj = row
    return nIn * (n1 + r3 + r5 + proj) + 9 * r3 * n3 + 25 * r5 * n5


def test_googlenet_reproduces_table_one_row_by_row():
    s = counted("googlenet")
    assert len(s.rows) == len(PAPER_ROWS)
    for row, (kind, patch, size, depth, params, ops) in zip(s.rows, PAPER_ROWS, strict=True):
        where = f"{kind} {patch}".strip() if kind == "convolution" else kind
        assert row.type == kind.replace("softmax", "log softmax"), where
        assert row.patch == patch, where
        assert row.output == _paper_size(size), where
        assert row.depth == depth, where
        off = PAPER_ERRATA.get(where, ((), ""))[0]
        # Params count weights in K = 1024, ops multiply-adds in M; the table rounds or cuts,
        # and (3b)'s 379.0K is printed 380K: agreement is within one unit of the last digit.
        for ours, printed, unit, field in (
            (row.weights, params, 1024, "params"),
            (row.ops, ops, 1e6, "ops"),
        ):
            if not printed:
                assert ours == 0, where
                continue
            agrees = abs(ours / unit - float(printed.rstrip("KM"))) <= 1
            assert agrees != (field in off), f"{where}: {field} {ours / unit:.1f} vs {printed}"


def test_googlenet_errata_are_the_tables_own_arithmetic():
    """Where Table 1's params are off, its filter counts (also Table 1) give what we count."""
    rows = {r.type: r for r in counted("googlenet").rows}
    planes = {"3a": 192, "3b": 256, "4a": 480, "4b": 512, "4c": 512, "4d": 512, "4e": 528}
    planes.update({"5a": 832, "5b": 832})
    for name, nIn in planes.items():
        assert rows[f"inception ({name})"].weights == _inception_weights(nIn, INCEPTION[name])
    assert counted("googlenet").rows[0].weights == 7 * 7 * 3 * 64
    assert set(PAPER_ERRATA) <= {"convolution 7×7/2", *(f"inception ({n})" for n in INCEPTION)}


@pytest.mark.parametrize(
    "depth, flops", [(18, "1.8G"), (34, "3.6G"), (50, "3.8G"), (101, "7.6G"), (152, "11.3G")]
)
def test_resnet_flops_row(depth, flops):
    ops = counted(f"resnet{depth}").ops
    assert matches_paper(ops, flops), f"resnet{depth}: {ops / 1e9:.2f}G vs {flops}"


def test_googlenet_with_auxiliary_classifiers():
    s = summary(abstract("googlenet", aux_logits=True), (3, 224, 224), quiet=True)
    assert s.output_shape == [(1000,), (1000,), (1000,)]
    aux = [r for r in s.rows if r.type.startswith("auxiliary")]
    assert [r.type for r in aux] == ["auxiliary classifier (4d)", "auxiliary classifier (4a)"]
    # avg pool 5x5/3 -> 4x4, 1x1 conv 128, fc 1024, fc 1000 (weights and biases)
    assert aux[1].params == 512 * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000


def test_summary_of_a_zoo_network_with_a_wrong_size_names_the_model():
    with pytest.raises(ModuleError, match=r"^vgg11: input of size 3x112x112 does not fit .*"
                       r"vgg11 accepts 3x224x224 \(H and W each from 224 to 255\)"):  # fmt: skip
        summary(abstract("vgg11"), (3, 112, 112), quiet=True)


def test_a_gmodule_is_walked_in_data_flow_order_with_a_table_of_input_shapes():
    x1, x2 = nn.Identity()(), nn.Identity()()
    deep = nn.Linear(3, 3)(nn.ReLU()(nn.Linear(4, 3)(x1)))  # two weight layers on this path
    net = nn.gModule([x1, x2], [nn.JoinTable(0, 1)([deep, nn.Linear(2, 5)(x2)])])
    s = summary(net, [(4,), (2,)], quiet=True)
    assert s.input_shape == [(4,), (2,)] and s.output_shape == (8,)
    assert [r.type for r in s.rows] == [
        "input 0",
        "input 1",
        "linear",
        "linear",
        "linear",
        "JoinTable",
    ]
    assert [r.output for r in s.rows] == [(4,), (2,), (3,), (3,), (5,), (8,)]
    assert s.params == (4 * 3 + 3) + (3 * 3 + 3) + (2 * 5 + 5)
    assert s.ops == 4 * 3 + 3 * 3 + 2 * 5
    assert [r.depth for r in s.rows] == [0, 0, 1, 1, 1, 0]
    assert _depth(net) == 2  # the longest path holds two of the three linears
    assert summary(net, [(4,), (2,)], quiet=True, expand=True).rows[3].type == "ReLU"
