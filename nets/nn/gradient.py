"""Layers that pass their input through and change its gradient (torch/nn doc/simple.md):
GradientReversal and L1Penalty (each writes its ``updateGradInput`` by hand, which is its
VJP everywhere: `nets.nn.custom_backward`), and ZeroGrad."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .._shape import array_input, number_arg
from . import functional as F  # noqa: N812
from .module import Module


class GradientReversal(Module):
    """nn.GradientReversal([lambda=1]): the identity forward; the gradient is multiplied by
    ``-lambda`` on its way back (domain-adversarial training, Ganin and Lempitsky, 2015)."""

    def __init__(self, lam: float = 1.0) -> None:
        super().__init__()
        self.setLambda(lam)

    def setLambda(self, lam: float) -> None:
        """Set the factor of the reversed gradient."""
        setattr(self, "lambda", number_arg(self, "lambda", "the gradient's factor", lam))

    def updateOutput(self, input: Any) -> Any:
        self.output = array_input(self, input)
        return self.output

    def updateGradInput(self, input: Any, gradOutput: Any) -> Any:
        self.gradInput = -self.__dict__["lambda"] * gradOutput
        return self.gradInput


class L1Penalty(Module):
    """nn.L1Penalty(l1weight, [sizeAverage=False], [provideOutput=True]): the identity
    forward; backward adds the gradient of the penalty ``l1weight * sum |x|`` (divided by the
    number of elements with `sizeAverage`), ``l1weight * sign(x)``, to the incoming gradient
    (or returns it alone with ``provideOutput=False``).

    Torch7 also stores the penalty's value in ``self.loss``; a compiled pass cannot keep a
    value on the module, so here it is `penalty(input)`.
    """

    def __init__(
        self, l1weight: float, sizeAverage: bool = False, provideOutput: bool = True
    ) -> None:
        super().__init__()
        self.l1weight = number_arg(self, "l1weight", "the penalty's weight", l1weight)
        self.sizeAverage = bool(sizeAverage)
        self.provideOutput = bool(provideOutput)

    def _factor(self, input: Any) -> float:
        return self.l1weight / input.size if self.sizeAverage else self.l1weight

    def penalty(self, input: Any) -> Any:
        """The penalty ``l1weight * sum |x|`` (per element with sizeAverage) for `input`."""
        return self._factor(input) * jnp.sum(jnp.abs(input))

    def updateOutput(self, input: Any) -> Any:
        self.output = array_input(self, input)
        return self.output

    def updateGradInput(self, input: Any, gradOutput: Any) -> Any:
        g = self._factor(input) * jnp.sign(input)
        self.gradInput = g + gradOutput if self.provideOutput else g
        return self.gradInput


class ZeroGrad(Module):
    """nn.ZeroGrad(): the identity forward (an array or a table); the gradient is zero, so
    nothing flows back through this path."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.zero_grad(input)
        return self.output
