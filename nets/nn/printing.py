"""Torch7's drawing of module trees (`nn.Sequential { [input -> (0) -> (1) -> output] ... }`).

Indices are 0-based, as `net.modules[i]` and `net.get(i)` count them.
"""

from __future__ import annotations


def _indent(text: str, pad: str) -> str:
    return text.replace("\n", "\n" + pad)


def sequential_repr(name: str, modules: list) -> str:
    """Torch7's Sequential.__tostring__: a chain, then one line per module."""
    tab = "  "
    chain = "".join(f" -> ({i})" for i in range(len(modules)))
    lines = [f"{name} {{", f"{tab}[input{chain} -> output]"]
    for i, m in enumerate(modules):
        lines.append(f"{tab}({i}): " + _indent(repr(m), tab))
    lines.append("}")
    return "\n".join(lines)


def branch_repr(name: str, modules: list) -> str:
    """Torch7's Concat/ConcatTable/ParallelTable drawing: one branch per module."""
    tab = "  "
    lines = [f"{name} {{", f"{tab}input"]
    for i, m in enumerate(modules):
        last = i == len(modules) - 1
        head = "   `-> " if last else "  |`-> "
        cont = "       " if last else "  |    "
        lines.append(f"{tab}{head}({i}): " + _indent(repr(m), tab + cont))
    lines.append(f"{tab}   ... -> output")
    lines.append("}")
    return "\n".join(lines)
