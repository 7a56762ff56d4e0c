"""nngraph's gModule: the graph computes what its nodes say, trains with two inputs and two
outputs, prints, summarises, round-trips through a checkpoint, and refuses bad graphs."""

import io

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets._errors import ModuleError
from nets.nn.node import Node
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

RNG = np.random.default_rng(23)
TOL = 1e-6  # finite differences in float64 (see tests/nets/nn/test_jacobian.py)


def two_in_two_out():
    """x1 (4) -> Linear -> Tanh = h;  x2 (2) -> Linear;  outputs: h + Linear(x2), and h."""
    nets.manual_seed(15)
    x1, x2 = nn.Identity()(), nn.Identity()()
    h = nn.Tanh()(nn.Linear(4, 3)(x1)).annotate("h")
    both = nn.CAddTable()([h, nn.Linear(2, 3)(x2)])
    return nn.gModule([x1, x2], [both, h])


def test_the_graph_computes_what_its_nodes_say():
    net = two_in_two_out()
    lin1, lin2 = net.findModules("Linear")
    a = RNG.standard_normal((5, 4)).astype(np.float32)
    b = RNG.standard_normal((5, 2)).astype(np.float32)
    h = np.tanh(a @ np.asarray(lin1.weight).T + np.asarray(lin1.bias))
    s = h + b @ np.asarray(lin2.weight).T + np.asarray(lin2.bias)
    out = net.forward([jnp.asarray(a), jnp.asarray(b)])
    assert isinstance(out, list) and len(out) == 2
    terms = path_terms(4, ELEMENTWISE, 2, 2)
    assert_close(out[0], s, terms=terms)
    assert_close(out[1], h, terms=terms)
    one = net.forward([jnp.asarray(a[0]), jnp.asarray(b[0])])  # single sample
    assert_close(one[0], s[0], terms=terms)


def test_split_nodes_read_the_elements_of_a_table_output():
    nets.manual_seed(16)
    x = nn.Identity()()
    lin, tanh = nn.Linear(3, 3), nn.Tanh()
    a, b = nn.ConcatTable().add(lin).add(tanh)(x).split(2)
    net = nn.gModule(x, nn.CAddTable()([b, a]))
    v = RNG.standard_normal((2, 3)).astype(np.float32)
    want = np.tanh(v) + v @ np.asarray(lin.weight).T + np.asarray(lin.bias)
    assert_close(net.forward(jnp.asarray(v)), want, terms=path_terms(3, ELEMENTWISE, 2))
    assert "(1) <- (0): nn.CAddTable" not in repr(net)
    assert "<- {(1)[1], (1)[0]}: nn.CAddTable" in repr(net)


@pytest.mark.parametrize("shape", [(2, 3), (3,)], ids=["batch", "single"])
def test_gradients_match_finite_differences(shape):
    nets.manual_seed(17)
    x = nn.Identity()()
    h = nn.Tanh()(nn.Linear(3, 3)(x))
    net = nn.gModule([x], [nn.CAddTable()([h, nn.Linear(3, 3)(x)])])
    errors = nn.Jacobian.testAll(net, jnp.zeros(shape))
    assert set(errors) == {"input", *net.split()[0]}
    assert max(errors.values()) < TOL, errors


def test_two_inputs_two_outputs_train_and_summary_prints_it():
    net = two_in_two_out()
    a = RNG.standard_normal((16, 4)).astype(np.float32)
    b = RNG.standard_normal((16, 2)).astype(np.float32)
    target_s = (a[:, :3] + b[:, :1]).astype(np.float32)  # a regression for the first output
    target_h = np.tanh(a[:, 1:]).astype(np.float32)  # and another for the second
    mse_s, mse_h = nn.MSECriterion(), nn.MSECriterion()
    inputs = [jnp.asarray(a), jnp.asarray(b)]
    losses = []
    for _ in range(60):
        s, h = net.forward(inputs)
        # the two losses summed (what nn.ParallelCriterion():add(a):add(b) computes)
        losses.append(mse_s.forward(s, target_s) + 0.5 * mse_h.forward(h, target_h))
        grads = [mse_s.backward(s, target_s), 0.5 * mse_h.backward(h, target_h)]
        net.zeroGradParameters()
        net.backward(inputs, grads)
        net.updateParameters(0.2)
    assert losses[-1] < 0.5 * losses[0], losses[::10]
    out = io.StringIO()
    s = nets.summary(net, [(4,), (2,)], file=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "input 4 + 2"
    assert [line.split()[0] for line in lines[3:-2]] == [
        "input",
        "input",
        "linear",
        "linear",
        "CAddTable",
    ]
    assert s.params == 4 * 3 + 3 + 2 * 3 + 3
    assert s.ops == 4 * 3 + 2 * 3
    assert s.output_shape == [(3,), (3,)]


def test_printed_form():
    assert repr(two_in_two_out()).splitlines() == [
        "nn.gModule {",
        "  (0) <- input 0: nn.Identity",
        "  (1) <- input 1: nn.Identity",
        "  (2) <- (0): nn.Linear(4 -> 3)",
        "  (3) h <- (2): nn.Tanh",
        "  (4) <- (1): nn.Linear(2 -> 3)",
        "  (5) <- {(3), (4)}: nn.CAddTable",
        "  output: {(5), (3)}",
        "}",
    ]


def test_the_graph_is_data_a_checkpoint_and_the_data_form_rebuild_it(tmp_path):
    net = two_in_two_out()
    inputs = [jnp.asarray(RNG.standard_normal((2, 4))), jnp.asarray(RNG.standard_normal((2, 2)))]
    want = net.forward(inputs)
    nets.save(tmp_path / "graph.nets", net)
    back = nets.load(tmp_path / "graph.nets")
    assert repr(back) == repr(net)
    for got, exp in zip(back.forward(inputs), want, strict=True):
        np.testing.assert_array_equal(got, exp)
    same = nn.gModule(modules=[m.clone() for m in net.modules], wiring=net.wiring)
    assert same.describe() == net.describe()  # one structure: one compiled program
    assert two_in_two_out().describe() == net.describe()


def test_calling_a_module_on_arrays_still_runs_it():
    nets.manual_seed(18)
    lin = nn.Linear(3, 2)
    x = jnp.ones((4, 3))
    np.testing.assert_array_equal(lin(x), lin.forward(x))
    node = lin(nn.Identity()())
    assert isinstance(node, Node) and node.module is lin and node.parents[0].module is not lin
    with pytest.raises(ModuleError, match=r"nn.Linear\(3 -> 2\): expected one input .* got 2"):
        lin(x, x)


@pytest.mark.parametrize(
    "build, match",
    [
        (
            lambda: nn.gModule([nn.Identity()()], [nn.Linear(3, 3)]),
            r"expected outputs\[0\] to be a graph node .* got Linear",
        ),
        (
            lambda: nn.gModule([], [nn.Identity()()]),
            r"expected at least one node in inputs",
        ),
        (
            lambda: (lambda x: nn.gModule([x], [nn.CAddTable()([x, nn.Identity()()])]))(
                nn.Identity()()
            ),
            r"nngraph.Node\(nn.Identity\) has no inputs but is not among the gModule's inputs",
        ),
        (
            lambda: (lambda x: nn.gModule([nn.Tanh()(x)], [x]))(nn.Identity()()),
            r"expected inputs\[0\] to be a node without inputs, such as nn.Identity\(\)\(\)",
        ),
        (
            lambda: nn.gModule(modules=[nn.Tanh()], wiring=(1, (((3, ()),), None), ((0, ()),))),
            r"expected wiring \(nInputs, nodes, outputs\) over 1 modules",
        ),
        (lambda: nn.Identity()().split(0), r"Node.split: expected a positive number"),
    ],
    ids=[
        "module-not-node",
        "no-inputs",
        "stray-source",
        "input-with-parent",
        "bad-wiring",
        "split",
    ],
)
def test_bad_graphs_are_refused(build, match):
    with pytest.raises((ModuleError, ValueError), match=match):
        build()


def test_bad_inputs_name_what_the_graph_expected():
    net = two_in_two_out()
    with pytest.raises(
        ModuleError, match=r"nn.gModule: expected a table of 2 inputs .* got \(2, 4\)"
    ):
        net.forward(jnp.ones((2, 4)))
    with pytest.raises(ModuleError, match=r"^\(2\) nn.Linear\(4 -> 3\): expected input of size 4"):
        net.forward([jnp.ones((2, 5)), jnp.ones((2, 2))])
    x = nn.Identity()()
    first, _ = nn.Tanh()(x).split(2)
    bad = nn.gModule(x, first)
    with pytest.raises(
        ModuleError, match=r"the output reads element 0 of \(1\), which is \(2, 3\)"
    ):
        bad.forward(jnp.ones((2, 3)))


def test_a_module_used_twice_shares_its_weights_also_after_a_checkpoint(tmp_path):
    nets.manual_seed(19)
    x = nn.Identity()()
    lin = nn.Linear(3, 3)
    net = nn.gModule(x, lin(nn.Tanh()(lin(x)))).evaluate()
    assert list(net.split()[0]) == ["1.weight", "1.bias"]  # one set of parameters
    v = RNG.standard_normal((2, 3)).astype(np.float32)
    w, b = np.asarray(lin.weight), np.asarray(lin.bias)
    want = np.tanh(v @ w.T + b) @ w.T + b
    out = net.forward(jnp.asarray(v))
    assert_close(out, want, terms=path_terms(3, ELEMENTWISE, 2, 3, 1))
    nets.save(tmp_path / "shared.nets", net)
    back = nets.load(tmp_path / "shared.nets")
    assert list(back.split()[0]) == ["1.weight", "1.bias"]
    np.testing.assert_array_equal(back.forward(jnp.asarray(v)), out)
