"""Embeddings (torch/nn doc/convolution.md#nn.LookupTable): LookupTable."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import int_arg, number_arg
from . import functional as F  # noqa: N812
from .module import Module


class LookupTable(Module):
    """nn.LookupTable(nIndex, nOutput, [paddingValue], [maxNorm], [normType]): embeddings.

    Each index of the input selects a row of ``weight`` (nIndex, nOutput), drawn from N(0, 1)
    as Torch7's ``reset``. Indices are 0-based, as everywhere in nets (Torch7's are 1-based).

    Args:
        nIndex: how many rows (the size of the vocabulary).
        nOutput: the size of each embedding.
        paddingValue: an index whose row gets no gradient (default None: none). Torch7's
            default 0 meant "no padding" since its indices start at 1; here 0 is a valid index,
            so the default is None, and ``paddingValue=0`` pads with index 0.
        maxNorm: if given, each row read whose ``normType``-norm exceeds ``maxNorm`` is scaled
            down to it. Torch7 rewrites those rows of ``weight`` in place before the lookup;
            here the rows are scaled as they are read (the stored weight is left as it is), and
            the gradient is the plain lookup's, as in Torch7.
        normType: the p of the p-norm for ``maxNorm`` (default 2).

    Input: indices ``(n,)`` or a batch ``(N, n)`` (integer or integer-valued float arrays); the
    output is ``(n, nOutput)`` or ``(N, n, nOutput)`` (any array of indices ``s`` gives
    ``s + (nOutput,)``, a nets extension). A (T, N) time-major batch of sequences
    gives (T, N, nOutput), what `nn.SeqLSTM` reads. An index outside ``[0, nIndex)`` is refused
    when the input is concrete; inside compiled code (where values are not known) it reads a
    row of NaN rather than a wrong row.

    Example:
        >>> from nets import nn
        >>> nn.LookupTable(10, 3).forward(jnp.array([[1, 2], [0, 9]])).shape
        (2, 2, 3)
    """

    def __init__(
        self,
        nIndex: int,
        nOutput: int,
        paddingValue: int | None = None,
        maxNorm: float | None = None,
        normType: float = 2.0,
    ) -> None:
        super().__init__()
        nIndex = int_arg(self, "nIndex", "the number of embeddings (rows)", nIndex)
        nOutput = int_arg(self, "nOutput", "the size of each embedding", nOutput)
        if paddingValue is not None:
            paddingValue = int_arg(
                self, "paddingValue", "the 0-based index whose row is not trained", paddingValue, 0
            )
        if maxNorm is not None:
            maxNorm = number_arg(self, "maxNorm", "the largest norm of a row", maxNorm, 0.0)
        self.paddingValue = paddingValue
        self.maxNorm = maxNorm
        self.normType = number_arg(
            self, "normType", "the p of the p-norm", normType, 0.0, None, low_open=True
        )
        self.shouldScaleGradByFreq = False
        self.register_parameter("weight", np.zeros((nIndex, nOutput), np.float32))
        self.reset()

    def reset(self, stdv: float = 1.0) -> LookupTable:
        """Rows drawn from N(0, stdv^2) (Torch7's default stdv is 1)."""
        self.weight = _random.normal(0.0, stdv, self.weight.shape)
        return self

    def scaleGradByFreq(self) -> LookupTable:
        """Divide each row's gradient by how often its index occurs in the input (Torch7)."""
        self.shouldScaleGradByFreq = True
        return self

    def updateOutput(self, input: Any) -> Any:
        dtype = getattr(input, "dtype", None)
        if getattr(input, "ndim", 0) < 1 or not (
            jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)
        ):
            raise ModuleError(
                self._describe(),
                f"expected an array of indices, (n,) or a batch (N, n), got {shape_str(input)}"
                + (f" of {dtype}" if dtype is not None else ""),
            )
        if not isinstance(input, jax.core.Tracer):
            self._check_range(np.asarray(input))
        self.output = F.embedding(
            self.weight,
            input,
            self.paddingValue,
            self.maxNorm,
            self.normType,
            self.shouldScaleGradByFreq,
        )
        return self.output

    def forward(self, input: Any) -> Any:
        """As `Module.forward`, with the indices checked first while they are concrete."""
        if isinstance(input, (np.ndarray, jax.Array, list)) and not isinstance(
            input, jax.core.Tracer
        ):
            self._check_range(np.asarray(input))
        return super().forward(input)

    def _check_range(self, values: np.ndarray) -> None:
        n_index = self.weight.shape[0]
        if values.dtype.kind not in "iuf" or values.size == 0:
            return
        bad = (values < 0) | (values >= n_index) | (values != np.floor(values))
        if bad.any():
            raise ModuleError(
                self._describe(),
                f"expected 0-based integer indices in [0, {n_index}), got "
                f"{values[bad].ravel()[0].item()!r} in input of shape {shape_str(values)}",
            )

    def __repr__(self) -> str:
        n_index, n_out = self.weight.shape
        return f"nn.LookupTable({n_index} -> {n_out})"
