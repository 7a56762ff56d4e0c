"""Shape hints: what the toolbar says about the name at the cursor, found without running code."""

import numpy as np
import pytest

from trepl import hints
from trepl.namespace import LazyModule


class CodeRanError(Exception):
    pass


class Trap:
    """Every way an object can run code on attribute access raises here."""

    def __getattr__(self, name):
        raise CodeRanError(name)

    @property
    def prop(self):
        raise CodeRanError("prop")

    def method(self, q, r=2):
        pass


class Tricky:
    def __call__(self, a):  # a callable instance: its signature would need getattr
        raise CodeRanError("call")

    @property
    def __class__(self):  # isinstance() would read this
        raise CodeRanError("__class__")


@pytest.fixture
def ns():
    import jax.numpy as jnp

    def forward(input, scale=2):
        pass

    return {
        "x": jnp.ones((2, 3)),
        "host": np.zeros((4,), np.int32),
        "forward": forward,
        "trap": Trap(),
        "tricky": Tricky(),
        "Trap": Trap,
        "lazy": LazyModule("lazy", "a_module_that_is_never_imported"),
        "jnp": jnp,
        "cfg": {"lr": 0.1},
    }


@pytest.mark.parametrize(
    ("text", "cursor", "expected"),
    [
        ("x", None, "x: jax.Array (2, 3) float32 on cpu:0"),
        ("1 + x", None, "x: jax.Array (2, 3) float32 on cpu:0"),
        ("host", None, "host: numpy.ndarray (4,) int32"),
        ("forward(x, ", None, "forward(input, scale=2)"),
        ("forward((1, 2), ", None, "forward(input, scale=2)"),
        ("forward", 2, "forward(input, scale=2)"),  # the whole name under the cursor
        ("jnp.zeros(", None, "jnp.zeros(shape, dtype=None, *, device=None, out_sharding=None)"),
        ("trap.prop", None, "trap.prop: property (not evaluated)"),
        ("trap.method", None, "trap.method(self, q, r=2)"),
        ("Trap(", None, "Trap()"),
        ("trap.missing", None, ""),  # __getattr__ is never asked
        ("tricky", None, "tricky: tests.trepl.test_hints.Tricky"),
        ("tricky(", None, "tricky: tests.trepl.test_hints.Tricky"),  # no signature read
        ("lazy.thing", None, ""),  # not imported: no hint rather than an import
        ("cfg", None, "cfg: dict"),
        ("nothing_here", None, ""),
        ("", None, ""),
        ("x.sum()", None, ""),
    ],
)
def test_hint(ns, text, cursor, expected):
    cursor = len(text) if cursor is None else cursor
    assert hints.hint(text, cursor, ns) == expected


def test_toolbar_answers_once_per_keystroke(ns):
    calls = []
    toolbar = hints.Toolbar(lambda: calls.append(1) or ns)

    class Doc:
        text, cursor_position = "x", 1

    assert toolbar.text(Doc) == toolbar.text(Doc) == "x: jax.Array (2, 3) float32 on cpu:0"
    assert len(calls) == 1
    toolbar.enabled = False
    assert toolbar.text(Doc) == ""
