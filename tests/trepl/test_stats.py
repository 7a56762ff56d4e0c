"""stats(x): one jitted reduction, checked against numpy; the sample beyond MAX_ELEMENTS;
the NaN!/Inf! footer of printed arrays."""

import jax.numpy as jnp
import numpy as np
import pytest

from tests.tolerance import assert_close
from trepl import printer, stats


def test_numbers_match_numpy_over_the_finite_values():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(7, 9)).astype(np.float32)
    values[1, 2], values[3, 4] = np.nan, -np.inf
    found = stats.stats(jnp.asarray(values))
    finite = values[np.isfinite(values)]
    assert (found.nan, found.inf, found.count, found.total) == (1, 1, 63, 63)
    assert found.min == finite.min() and found.max == finite.max()
    n = finite.size
    assert_close(
        found.mean,
        finite.mean(dtype=np.float64),
        terms=n,
        scale=np.abs(finite).max(),
        dtype=np.float32,
    )
    assert_close(
        found.std, finite.std(dtype=np.float64), terms=2 * n, scale=finite.std(), dtype=np.float32
    )
    edges = np.linspace(finite.min(), finite.max(), stats.BINS + 1)
    expected, _ = np.histogram(finite, bins=edges)
    # numpy puts a value on an inner edge in the upper bin; the float32 index may round either
    # way there, so bins may trade at most the values that sit within rounding of an edge
    assert sum(found.histogram) == n
    assert np.abs(np.cumsum(found.histogram) - np.cumsum(expected)).max() <= 1
    page = repr(found)
    assert page.startswith("jax.Array of size 7x9, float32, 252 B, on cpu:0\n")
    assert "NaN 1  Inf 1  (min/max/mean/std over the finite values)" in page
    assert len(found.histogram_line()) == stats.BINS


def test_numpy_and_integer_arrays_and_refusals():
    found = stats.stats(np.arange(10, dtype=np.int64))
    assert (found.min, found.max, found.mean, found.device) == (0, 9, 4.5, "host (numpy)")
    assert stats.stats(np.array([True, False, True])).mean == pytest.approx(2 / 3)
    empty = stats.stats(np.zeros((0, 3), np.float32))
    assert empty.min is None and "no finite values" in repr(empty)
    with pytest.raises(TypeError, match=r"expected a numpy or JAX array, got builtins.list"):
        stats.stats([1.0, 2.0])
    with pytest.raises(TypeError, match=r"expected a real numeric array, got dtype complex64"):
        stats.stats(np.ones(2, np.complex64))


def test_large_arrays_are_sampled_and_say_so(monkeypatch):
    monkeypatch.setattr(stats, "MAX_ELEMENTS", 100)
    found = stats.stats(jnp.arange(1000.0))
    assert (found.count, found.total) == (100, 1000)  # every 10th element
    assert (found.min, found.max) == (0.0, 990.0)
    assert "(sampled: every 10th element, 100 of 1,000; counts are of the sample)" in repr(found)


def test_footer_flags_nan_and_inf_only_when_present():
    assert printer.render(jnp.array([1.0, jnp.nan])).endswith("float32, 8 B] NaN!")
    assert printer.render(np.array([np.inf, -np.inf, np.nan])).endswith("] NaN! Inf!")
    assert printer.render(jnp.array([1.0, 2.0])).endswith("float32, 8 B]")
    assert printer.render(np.arange(3)).endswith("int64, 24 B]")
