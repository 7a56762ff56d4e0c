"""Torch7's drawing of module trees, with 0-based indices."""

from nets import nn
from tests.nets.nn.custom_layers import Scale


def test_printing_draws_torch_trees_with_zero_based_indices():
    net = nn.Sequential(
        Scale(3), nn.ConcatTable().add(Scale(3)).add(nn.Sequential(Scale(3))), nn.CAddTable()
    )
    assert repr(net) == (
        "nn.Sequential {\n"
        "  [input -> (0) -> (1) -> (2) -> output]\n"
        "  (0): Scale\n"
        "  (1): nn.ConcatTable {\n"
        "    input\n"
        "      |`-> (0): Scale\n"
        "       `-> (1): nn.Sequential {\n"
        "             [input -> (0) -> output]\n"
        "             (0): Scale\n"
        "           }\n"
        "       ... -> output\n"
        "  }\n"
        "  (2): nn.CAddTable\n"
        "}"
    )
    assert repr(nn.JoinTable(1, 3)) == "nn.JoinTable(1, 3)"
