"""nn.Jacobian: finite-difference checks of a module's gradients (torch/nn Jacobian.lua).

Use it to test a custom layer's backward, hand-written or derived::

    err = nn.Jacobian.testJacobian(module, jnp.zeros((2, 3)))          # w.r.t. the input
    err = nn.Jacobian.testJacobianParameters(module, x, "weight")      # w.r.t. a parameter
    assert err < 1e-5

As in Torch7 the checks fill the input (and the parameter) with random values in
``[minval, maxval]``, build the Jacobian twice (central differences of ``forward``, and one
``backward`` per output element) and return the largest absolute difference. They run on a
float64 copy of the module (JAX's x64 mode is switched on for the duration), so Torch7's
``perturbation=1e-6`` and tolerances like 1e-5 apply; the module itself is left untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import NetsError, shape_str
from .criterion import Criterion
from .module import Module

_CHUNK = 256  # perturbed copies evaluated per vectorised call


@contextlib.contextmanager
def _float64(module: Module) -> Iterator[Module]:
    """A float64 clone of `module`, valid inside the block."""
    with jax.enable_x64(True):
        yield module.clone().double()


def _param_key(module: Module, param: Any) -> str:
    """The `split()` key of `param`: a name/path such as 'weight' or '0.weight', or the array."""
    params, _ = module.split()
    if isinstance(param, str):
        if param not in params:
            raise NetsError(
                f"nn.Jacobian: {module._describe()} has no parameter {param!r}; "
                f"expected one of {sorted(params)}"
            )
        return param
    for k, v in params.items():
        if v is param:
            return k
    raise NetsError(
        f"nn.Jacobian: the given array is not a parameter of {module._describe()}; "
        f"pass its name, one of {sorted(params)}"
    )


def _flat_output(out: Any) -> jax.Array:
    if not isinstance(out, jax.Array):
        raise NetsError(f"nn.Jacobian: expected the module to output one array, got {out!r}")
    return jnp.ravel(out)


def _forward(module: Module, input: Any, key: str | None, perturbation: float) -> np.ndarray:
    """(n_param, n_out) Jacobian by central differences of the module's pure forward."""
    params, buffers = module.split()
    x = jnp.asarray(input)
    base = x if key is None else params[key]

    def out_at(flat):
        v = flat.reshape(base.shape)
        if key is None:
            out, _ = module.call(params, buffers, v)
        else:
            out, _ = module.call({**params, key: v}, buffers, x)
        return _flat_output(out)

    many = jax.jit(jax.vmap(out_at))
    flat = jnp.ravel(base)
    rows = []
    for start in range(0, flat.size, _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, flat.size))
        step = (
            jnp.zeros((len(idx), flat.size), flat.dtype)
            .at[np.arange(len(idx)), idx]
            .set(perturbation)
        )
        plus = many(flat[None, :] + step)
        minus = many(flat[None, :] - step)
        rows.append(np.asarray((plus - minus) / (2 * perturbation)))
    return np.concatenate(rows, axis=0)


def _backward(module: Module, input: Any, key: str | None) -> np.ndarray:
    """(n_param, n_out) Jacobian from one ``backward`` per output element (Torch7's way)."""
    x = jnp.asarray(input)
    out = module.forward(x)
    n_out = int(np.prod(out.shape))
    index = None if key is None else list(module.split()[0]).index(key)
    cols = []
    for i in range(n_out):
        dout = jnp.zeros((n_out,), out.dtype).at[i].set(1).reshape(out.shape)
        module.zeroGradParameters()
        gin = module.backward(x, dout)
        grad = gin if key is None else module.parameters()[1][index]
        cols.append(np.ravel(np.asarray(grad)))
    return np.stack(cols, axis=1)


class Jacobian:
    """nn.Jacobian: Torch7's gradient checker (``testJacobian``, ``testJacobianParameters``)."""

    @staticmethod
    def forward(
        module: Module, input: Any, param: Any = None, perturbation: float = 1e-6
    ) -> np.ndarray:
        """The (nParam, nOutput) Jacobian of the output by central differences.

        Args:
            module: the module, used as is (its dtype sets the precision).
            input: the input array.
            param: None for d output / d input, else a parameter name ('weight') or array.
            perturbation: the finite-difference step.
        """
        key = None if param is None else _param_key(module, param)
        return _forward(module, input, key, perturbation)

    @staticmethod
    def backward(module: Module, input: Any, param: Any = None) -> np.ndarray:
        """The (nParam, nOutput) Jacobian from the module's own ``backward``."""
        key = None if param is None else _param_key(module, param)
        return _backward(module, input, key)

    @staticmethod
    def testJacobian(
        module: Module,
        input: Any,
        minval: float = -2.0,
        maxval: float = 2.0,
        perturbation: float = 1e-6,
    ) -> float:
        """Max |finite-difference - backward| of d output / d input, at a random input.

        The input's values are replaced by uniform ones in ``[minval, maxval]``; only its shape
        is used (Torch7 overwrites the given tensor; JAX arrays are immutable).
        """
        shape = np.shape(input)
        x = _random.generator().uniform(minval, maxval, size=shape)
        with _float64(module) as m:
            fd = _forward(m, x, None, perturbation)
            bp = _backward(m, x, None)
        return float(np.max(np.abs(fd - bp))) if fd.size else 0.0

    @staticmethod
    def testJacobianParameters(
        module: Module,
        input: Any,
        param: Any,
        dparam: Any = None,
        minval: float = -2.0,
        maxval: float = 2.0,
        perturbation: float = 1e-6,
    ) -> float:
        """Max |finite-difference - backward| of d output / d param, at random input and param.

        Args:
            param: the parameter's name ('weight', or a path such as '0.weight' in a
                container) or the array itself (``module.weight``).
            dparam: accepted for Torch7 compatibility and ignored: the gradient read is the
                one registered with the parameter (``gradWeight`` for ``weight``).
        """
        key = _param_key(module, param)
        gen = _random.generator()
        x = gen.uniform(minval, maxval, size=np.shape(input))
        with _float64(module) as m:
            shape = m.split()[0][key].shape
            m.merge({key: gen.uniform(minval, maxval, size=shape)})
            bp = _backward(m, x, key)
            fd = _forward(m, x, key, perturbation)
        return float(np.max(np.abs(fd - bp))) if fd.size else 0.0

    @staticmethod
    def testCriterion(
        criterion: Criterion, input: Any, target: Any, perturbation: float = 1e-6
    ) -> float:
        """Max |central difference - backward| of a criterion's d loss / d input at `input`."""
        with jax.enable_x64(True):
            c = criterion.clone().type(jnp.float64)
            x = np.asarray(input, np.float64)
            if x.dtype.kind != "f":
                raise NetsError(f"nn.Jacobian: expected a float input, got {shape_str(x)}")
            grad = np.ravel(np.asarray(c.backward(jnp.asarray(x), target)))
            fd = np.empty(x.size)
            flat = x.ravel()
            for i in range(x.size):
                old = flat[i]
                flat[i] = old + perturbation
                fp = c.forward(jnp.asarray(flat.reshape(x.shape)), target)
                flat[i] = old - perturbation
                fm = c.forward(jnp.asarray(flat.reshape(x.shape)), target)
                flat[i] = old
                fd[i] = (fp - fm) / (2 * perturbation)
        return float(np.max(np.abs(fd - grad))) if fd.size else 0.0
