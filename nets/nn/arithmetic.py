"""Element-wise arithmetic layers (torch/nn doc/simple.md): Abs, Power, Square, Sqrt, Exp, Log,
Clamp, AddConstant, and the learnt Add, Mul, CMul, CAdd. Any input shape unless stated."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import array_input, bool_arg, int_arg, number_arg
from . import functional as F  # noqa: N812
from .module import Module


class Abs(Module):
    """nn.Abs(): ``|x|``, element-wise (gradient ``sign(x)``, 0 at 0)."""

    def updateOutput(self, input: Any) -> Any:
        self.output = jnp.abs(array_input(self, input))
        return self.output


class Power(Module):
    """nn.Power(p): ``x ** p``, element-wise."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.pow = number_arg(self, "p", "the exponent", p)

    def updateOutput(self, input: Any) -> Any:
        self.output = F.power(array_input(self, input), self.pow)
        return self.output


class Square(Module):
    """nn.Square(): ``x ** 2``, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = F.power(array_input(self, input), 2)
        return self.output


class Sqrt(Module):
    """nn.Sqrt([b=0]): ``sqrt(x)``, element-wise; the gradient is 0 where the output is 0.

    ``b`` is kept as ``eps`` for Torch7's signature; Torch7's kernel ignores it, and so does this.
    """

    def __init__(self, b: float = 0.0) -> None:
        super().__init__()
        self.eps = number_arg(self, "b", "an unused epsilon", b)

    def updateOutput(self, input: Any) -> Any:
        self.output = F.sqrt(array_input(self, input))
        return self.output


class Exp(Module):
    """nn.Exp(): ``exp(x)``, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = jnp.exp(array_input(self, input))
        return self.output


class Log(Module):
    """nn.Log(): ``log(x)``, element-wise."""

    def updateOutput(self, input: Any) -> Any:
        self.output = jnp.log(array_input(self, input))
        return self.output


class Clamp(Module):
    """nn.Clamp(min_value, max_value): ``x`` clipped to ``[min_value, max_value]`` (Torch7's
    HardTanh with other bounds: the gradient is 0 outside the open interval)."""

    def __init__(self, min_value: float, max_value: float) -> None:
        super().__init__()
        self.min_val = number_arg(self, "min_value", "the lower bound", min_value)
        self.max_val = number_arg(
            self, "max_value", "the upper bound", max_value, self.min_val, low_open=True
        )

    def updateOutput(self, input: Any) -> Any:
        self.output = F.hardtanh(array_input(self, input), self.min_val, self.max_val)
        return self.output


class AddConstant(Module):
    """nn.AddConstant(constant_scalar, [inplace=False]): ``x + constant_scalar``.

    The constant may be a number or a vector of the input's last size (for a (D,) or (N, D)
    input), as in Torch7.
    """

    def __init__(self, constant_scalar: Any, inplace: bool = False) -> None:
        super().__init__()
        if getattr(constant_scalar, "ndim", None) == 1:
            self.constant_scalar = jnp.asarray(constant_scalar, jnp.float32)
        else:
            self.constant_scalar = number_arg(
                self, "constant_scalar", "the number added, or a vector", constant_scalar
            )
        self.inplace = bool_arg(self, "inplace", "the in-place flag", inplace)

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        c = self.constant_scalar
        if not isinstance(c, float) and (x.ndim not in (1, 2) or x.shape[-1] != c.shape[0]):
            raise ModuleError(
                self._describe(),
                f"expected a (D,) or (N, D) input with D = {c.shape[0]} (the constant's size), "
                f"got {shape_str(x)}",
            )
        self.output = x + (
            c if isinstance(c, float) else jnp.reshape(c, (1,) * (x.ndim - 1) + (-1,))
        )
        return self.output


def _reset_uniform(module: Module, name: str, stdv: float | None, default: float) -> None:
    """Torch7's reset: uniform in [-stdv, stdv]; a given stdv is scaled by sqrt(3)."""
    stdv = stdv * math.sqrt(3) if stdv is not None else default
    value = getattr(module, name)
    setattr(module, name, _random.uniform(-stdv, stdv, value.shape))


class Add(Module):
    """nn.Add(inputSize, [scalar=False]): ``y = x + b`` with a learnt bias ``b``.

    ``b`` has ``inputSize`` elements (or one with ``scalar=True``, added everywhere). An input
    of ``inputSize`` elements gets ``b`` added element for element; an (N, ...) batch whose
    samples have ``inputSize`` elements gets it added to each. ``b`` starts uniform in
    ``[-1/sqrt(inputSize), 1/sqrt(inputSize)]``.
    """

    def __init__(self, inputSize: int, scalar: bool = False) -> None:
        super().__init__()
        inputSize = int_arg(self, "inputSize", "the number of elements of a sample", inputSize)
        self.scalar = bool(scalar)
        self.bias = np.zeros((1 if self.scalar else inputSize,), np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> Add:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(size)``."""
        _reset_uniform(self, "bias", stdv, 1 / math.sqrt(self.bias.shape[0]))
        return self

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        b = self.bias
        if self.scalar:
            self.output = x + b[0]
        elif x.size == b.size:
            self.output = x + jnp.reshape(b, x.shape)
        elif x.ndim >= 2 and x.size == x.shape[0] * b.size:
            self.output = jnp.reshape(jnp.reshape(x, (x.shape[0], -1)) + b[None, :], x.shape)
        else:
            raise ModuleError(
                self._describe(),
                f"expected an input of {b.size} elements, or a batch of samples of {b.size} "
                f"elements, got {shape_str(x)}",
            )
        return self.output


class Mul(Module):
    """nn.Mul(): ``y = w * x`` with one learnt factor ``w`` (starts uniform in ``[-1, 1]``)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = np.zeros((1,), np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> Mul:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to 1."""
        _reset_uniform(self, "weight", stdv, 1.0)
        return self

    def updateOutput(self, input: Any) -> Any:
        self.output = array_input(self, input) * self.weight[0]
        return self.output


def _size_args(module: Module, sizes: tuple) -> tuple[int, ...]:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not sizes:
        raise ModuleError(module._describe(), "expected one or more sizes, got none")
    return tuple(int_arg(module, "size", "a size of the learnt array", s) for s in sizes)


def _check_broadcast(module: Module, x: Any, w: Any) -> None:
    """CMul/CAdd's three ways of applying a learnt array (see `functional.cmul`)."""
    ok = x.size == w.size
    if not ok and x.ndim == w.ndim:
        ok = all(a == b or b == 1 for a, b in zip(x.shape, w.shape, strict=True))
    ok = ok or (x.ndim >= 1 and x.shape[0] > 0 and x.size == x.shape[0] * w.size)
    if not ok:
        raise ModuleError(
            module._describe(),
            f"expected an input of {w.size} elements, one that broadcasts with "
            f"{shape_str(w)}, or a batch of samples of {w.size} elements, got {shape_str(x)}",
        )


class CMul(Module):
    """nn.CMul(size...): ``y = x * w`` element-wise, with a learnt ``w`` of the given size.

    ``w`` (uniform in ``[-1/sqrt(n), 1/sqrt(n)]``, n its element count) multiplies an input of
    as many elements, broadcasts over an input of as many dims (dims of size 1 expand), or
    multiplies each sample of an (N, ...) batch.
    """

    def __init__(self, *size: int) -> None:
        super().__init__()
        self.size = _size_args(self, size)
        self.weight = np.zeros(self.size, np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> CMul:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(nElement)``."""
        _reset_uniform(self, "weight", stdv, 1 / math.sqrt(math.prod(self.size)))
        return self

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        _check_broadcast(self, x, self.weight)
        self.output = F.cmul(x, self.weight)
        return self.output


class CAdd(Module):
    """nn.CAdd(size...): ``y = x + b`` element-wise, with a learnt ``b`` of the given size,
    applied as CMul applies its weight."""

    def __init__(self, *size: int) -> None:
        super().__init__()
        self.size = _size_args(self, size)
        self.bias = np.zeros(self.size, np.float32)
        self.reset()

    def reset(self, stdv: float | None = None) -> CAdd:
        """Uniform in ``[-stdv, stdv]``; ``stdv`` defaults to ``1/sqrt(nElement)``."""
        _reset_uniform(self, "bias", stdv, 1 / math.sqrt(math.prod(self.size)))
        return self

    def updateOutput(self, input: Any) -> Any:
        x = array_input(self, input)
        _check_broadcast(self, x, self.bias)
        self.output = F.cadd(x, self.bias)
        return self.output
