"""Float tolerances that follow from the computation, not from what passed on one CPU.

Two computations of the same sum of ``terms`` products, done in a float type with machine
epsilon ``eps`` but in different orders (XLA on AVX2 or AVX-512, im2col against lax, a pure call
against a module), each differ from the exact sum by at most about ``terms * eps/2 * S``, where
``S = sum |products|`` (the standard bound for recursive summation, Higham, *Accuracy and
Stability of Numerical Algorithms*, section 4.2). Their difference is therefore bounded by::

    tol = terms * eps * scale

with ``scale`` an estimate of ``S``. The bound is absolute: an element of the result near zero may
carry the rounding error of large terms that cancelled.

- ``terms``: the reduction length of the computation (a linear layer: its input features; a
  convolution's output: nIn*kH*kW; its weight gradient: N*oH*oW). For a chain of computations (a
  network, a loss over a network's output, a backward pass) the errors of each stage add up along
  the path: pass the sum of the stages' reduction lengths (``path_terms``). An elementwise
  operation counts as one term, a library exp, log or tanh (accurate to a few ulp, differently
  implemented by numpy and XLA) as ``ELEMENTWISE`` terms.
- ``scale``: defaults to ``max |expected|`` over the whole array, or 1 when that is below ``eps``
  (an expected value of zero or of pure rounding noise). Pass it when the result is much smaller
  than its terms (a sum of many values with mixed signs: pass the sum of their absolute values).
- ``dtype``: defaults to the less precise float type of the two arrays (a float32 result checked
  against a float64 reference is held to float32; pass it when a float32 result arrived as a Python
  float). Integer arrays have eps 0: an exact comparison.

Random order-one data makes the actual difference much smaller (it grows like ``sqrt(terms)``), so
the bound leaves a margin on every CPU. It is a worst case, linear in ``terms``: up to a few
hundred terms a weight off by 1e-3 relative still fails it; over thousands (several training
steps through a 3072-input layer, a loss summing hundreds of cancelling values) only coarser
mistakes do, and the element-wise checks of the same test carry the precision.
"""

from __future__ import annotations

import numpy as np

ELEMENTWISE = 4  # a library exp, log or tanh: within a few ulp of the exact value


def eps_of(dtype) -> float:
    """Machine epsilon of a float dtype (bfloat16 and float16 included); 0 for exact types."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        import ml_dtypes  # bfloat16 and friends: numpy's finfo does not know them

        try:
            return float(ml_dtypes.finfo(dtype).eps)
        except (TypeError, ValueError):
            return 0.0
    return float(np.finfo(dtype).eps)


def path_terms(*lengths: int) -> int:
    """The reduction length of a chain of computations: the sum of its stages' lengths."""
    return int(sum(lengths))


def _scale(expected, eps: float) -> float:
    largest = float(np.max(np.abs(expected), initial=0.0))
    return largest if largest >= eps else 1.0


def tolerance(expected, *, terms: int, scale: float | None = None, dtype=None) -> float:
    """``terms * eps * scale``: the bound on two summation orders of the same computation."""
    expected = np.asarray(expected)
    eps = eps_of(expected.dtype if dtype is None else dtype)
    return terms * eps * (_scale(expected, eps) if scale is None else scale)


def assert_close(
    actual, expected, *, terms: int, scale: float | None = None, dtype=None, err_msg: str = ""
):
    """Assert ``|actual - expected| <= terms * eps * scale`` elementwise (see the module doc)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    dtype = max((actual.dtype, expected.dtype), key=eps_of) if dtype is None else dtype
    eps = eps_of(dtype)
    scale = _scale(expected, eps) if scale is None else scale
    tol = terms * eps * scale
    note = f"tolerance {tol:.3g} = terms {terms} * eps {eps:.3g} * scale {scale:.3g}"
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol, err_msg=f"{err_msg} ({note})")
