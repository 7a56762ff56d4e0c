"""The recompilation watch: JAX's own cache-miss explanations turned into one line per function."""

import pytest

from trepl import recompile
from trepl.evaluator import Evaluator


@pytest.fixture(scope="module")
def ev():
    evaluator = Evaluator()
    evaluator.execute("def forward(input, scale): return input * scale\nf = jax.jit(forward)")
    return evaluator


def test_a_new_shape_dtype_or_scalar_type_is_named(ev):
    assert ev.execute("f(jnp.ones((4, 3)), 2.0)").notes == []
    assert ev.execute("f(jnp.ones((5, 3)), 2.0)").notes == [
        "recompiled forward: input (4,3) -> (5,3)"
    ]
    assert ev.execute("f(jnp.ones((5, 3)), 7.0)").notes == []  # cached: no compilation
    # JAX compares with the closest earlier signature: here float32 (4,3), one difference
    notes = ev.execute("f(jnp.ones((4, 3), jnp.bfloat16), 2.0)").notes
    assert notes == ["recompiled forward: input float32 -> bfloat16"]
    notes = ev.execute("f(jnp.ones((4, 3), jnp.bfloat16), jnp.int32(2))").notes
    assert notes == ["recompiled forward: scale float32 -> int32"]


def test_a_loop_of_recompilations_is_one_line(ev):
    notes = ev.execute("for n in (6, 7, 8): f(jnp.ones((n, 3)), 2.0)").notes
    assert len(notes) == 1 and notes[0].startswith("recompiled forward (3 times): input ")
    assert notes[0].endswith("(8,3)")  # the first call's closest earlier type -> the last one


def test_a_network_forward_and_a_rejitted_lambda(ev):
    ev.execute("net = nn.Sequential().add(nn.Linear(3, 2))")
    assert ev.execute("net.forward(jnp.ones((4, 3)))").notes == []
    notes = ev.execute("net.forward(jnp.ones((9, 3)))").notes
    assert len(notes) == 1 and notes[0].endswith(": x (4,3) -> (9,3)")
    notes = ev.execute("for i in range(2): jax.jit(lambda a: a + 1)(jnp.ones(2))").notes
    assert notes == [
        "recompiled <lambda>: a new function object from the same line "
        "(is jit re-applied each time?)"
    ]


def test_a_line_names_three_arguments_at_most(ev):
    ev.execute("g = jax.jit(lambda a, b, c, d: a + b + c + d)")
    ev.execute("g(*[jnp.ones(2)] * 4)")
    notes = ev.execute("g(*[jnp.ones(3)] * 4)").notes
    assert notes == [
        "recompiled <lambda>: a (2) -> (3), b (2) -> (3), c (2) -> (3) and 1 more argument(s)"
    ]


def test_turned_off_it_still_counts(ev):
    before = ev.recompiles.count
    ev.execute("recompiles(False)")
    assert ev.execute("f(jnp.ones((2, 2)), 2.0)").notes == []
    assert ev.recompiles.count == before + 1
    listed = ev.execute("recompiles()").stdout
    assert listed.startswith(f"{before + 1} recompilation(s) this session; the line after a cell")
    assert listed.rstrip().endswith("(2,2)")
    ev.execute("recompiles(True)")
    assert "expected True or False" in ev.execute("recompiles('off')").error.evalue


def test_the_shells_own_helpers_do_not_count(ev):
    ev.execute("stats(jnp.ones(3))")
    assert ev.execute("stats(jnp.ones(4))").notes == []


@pytest.mark.parametrize(
    ("before", "now", "text"),
    [
        ("f32[32,3,224,224]", "f32[31,3,224,224]", "(32,3,224,224) -> (31,3,224,224)"),
        ("f32[2]({})", "bf16[2]({})", "float32 -> bfloat16"),
        ("i32[]", "f32[3]", "int32() -> float32(3)"),
        ("f32[]{weak_type=True}", "f32[]", "float32 (weakly typed: a Python scalar) -> float32"),
        ("weird", "f32[3]", "weird -> f32[3]"),
    ],
)
def test_describe_change(before, now, text):
    assert recompile.describe_change(before, now) == text


def test_other_reasons_and_foreign_records():
    message = (
        "TRACING CACHE MISS at <th-3>:1 (<module>):\n"
        "  for g defined at <th-1>:1\n"
        "  all previously seen cache keys differ. For the closest previous key:\n"
        "  different input pytree:\n"
        "  * at input path [0], now PyTreeDef(*) and before PyTreeDef((*, *))"
    )
    found = recompile.parse(message)
    assert (
        found.function == "g" and found.changes == [] and found.reason == ("different input pytree")
    )
    assert recompile.summary_lines([found]) == ["recompiled g: different input pytree"]
    assert recompile.parse("Compiling g with global shapes") is None
