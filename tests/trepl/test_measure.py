"""timeit: it waits for the device, reports compile time apart, and takes a median over runs."""

import re
import time

import pytest

from trepl.measure import TimeitResult, timeit


def test_a_jitted_call_is_timed_to_its_result_with_compilation_apart():
    import jax
    import jax.numpy as jnp

    f = jax.jit(lambda x: jnp.tanh(x @ x).sum())
    x = jnp.ones((128, 128))
    result = timeit(f, x, repeat=3)
    assert result.runs == 3 and result.calls >= 1
    assert result.compile_count == 1 and 0 < result.compile_time < result.first
    assert result.recompiles == 0
    assert re.match(r"[\d.]+ \S+ ± [\d.]+ \S+ per call \(median of 3 runs", repr(result))
    assert "compiling (1 program)" in repr(result)


def test_the_time_includes_work_after_the_call_returns():
    """A JAX call returns before its result is computed; timeit waits for the result."""
    import jax
    import jax.numpy as jnp

    slow = jax.jit(lambda a: jax.lax.fori_loop(0, 20, lambda i, b: b @ a, a))
    a = jnp.ones((300, 300)) / 300
    slow(a).block_until_ready()
    start = time.perf_counter()
    slow(a)  # dispatch only
    dispatch = time.perf_counter() - start
    assert timeit(slow, a, repeat=3, number=1).median > 3 * dispatch


def test_a_statement_runs_in_the_namespace():
    result = timeit("sum(values)", namespace={"values": list(range(100))}, repeat=2, number=5)
    assert isinstance(result, TimeitResult) and result.calls == 5
    assert result.compile_count == 0 and "first call" not in repr(result)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(TypeError, match="expected a function .* or a statement string"):
        timeit(42)
    with pytest.raises(TypeError, match="arguments go with a function"):
        timeit("f(x)", 1)
    with pytest.raises(ValueError, match="repeat and number must be positive"):
        timeit(len, [], repeat=0)
