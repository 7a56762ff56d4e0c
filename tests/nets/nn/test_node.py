"""nngraph's Node: which module calls make nodes, what a node records, split and annotate."""

import jax.numpy as jnp
import pytest

from nets import nn
from nets.nn.node import Node, as_parents


def test_which_calls_make_nodes():
    x = nn.Identity()()
    assert as_parents(()) == ((), False)
    assert as_parents((x,)) == ((x,), False)
    assert as_parents(([x, x],)) == ((x, x), True)
    assert as_parents((jnp.ones(3),)) is None  # an array: an ordinary forward
    assert as_parents(([jnp.ones(3), x],)) is None  # a table of arrays (and a stray node)
    assert as_parents(([],)) is None
    assert as_parents((x, x)) is None  # two arguments: refused by Module.__call__


def test_a_node_records_its_module_and_parents():
    x = nn.Identity()()
    lin = nn.Linear(3, 2)
    one = lin(x)
    table = nn.CAddTable()([one, one])
    assert (one.module, one.parents, one.table) == (lin, (x,), False)
    assert table.parents == (one, one) and table.table
    assert repr(one) == "nngraph.Node(nn.Linear(3 -> 2))"


def test_split_and_annotate():
    x = nn.Identity()().annotate("x")
    parts = x.split(3)
    assert [p.element for p in parts] == [0, 1, 2]
    assert all(p.module is None and p.parents == (x,) for p in parts)
    assert x.label == "x"
    assert repr(parts[1]) == "nngraph.Node(element 1 of nngraph.Node(nn.Identity))"
    with pytest.raises(
        ValueError, match=r"Node.split: expected a positive number of outputs, got 0"
    ):
        x.split(0)
    assert isinstance(x, Node)


def test_chaining_with_minus():
    x = nn.Identity()()
    lin, tanh = nn.Linear(3, 4), nn.Tanh()
    y = x - lin - tanh
    assert y.module is tanh and y.parents[0].module is lin and y.parents[0].parents == (x,)
    with pytest.raises(TypeError):
        x - 3
