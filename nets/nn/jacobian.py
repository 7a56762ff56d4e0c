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


def _forward(
    module: Module, input: Any, keys: list[str], with_input: bool, perturbation: float
) -> np.ndarray:
    """(n, n_out) Jacobian by central differences of the module's pure forward.

    Rows are the input's elements (if `with_input`) then each parameter's in `keys`; all are
    perturbed through one vectorised, compiled function.
    """
    params, buffers = module.split()
    x = np.asarray(input)
    parts = ([x] if with_input else []) + [np.asarray(params[k]) for k in keys]
    sizes = [int(np.prod(p.shape)) for p in parts]
    flat = np.concatenate([np.ravel(p) for p in parts])

    def out_at(z):
        pieces = jnp.split(z, np.cumsum(sizes)[:-1])
        if with_input:
            xx = pieces.pop(0).reshape(x.shape)
        else:
            xx = x
        p = {**params, **{k: v.reshape(params[k].shape) for k, v in zip(keys, pieces, strict=True)}}
        out, _ = module.call(p, buffers, xx)
        return _flat_output(out)

    many = jax.jit(jax.vmap(out_at))
    rows = []
    for start in range(0, flat.size, _CHUNK):
        idx = np.arange(start, min(start + _CHUNK, flat.size))
        step = np.zeros((len(idx), flat.size), flat.dtype)
        step[np.arange(len(idx)), idx] = perturbation
        plus = many(flat[None, :] + step)
        minus = many(flat[None, :] - step)
        rows.append(np.asarray((plus - minus) / (2 * perturbation)))
    return np.concatenate(rows, axis=0)


def _backward(module: Module, input: Any, keys: list[str], with_input: bool) -> np.ndarray:
    """(n, n_out) Jacobian from one ``backward`` per output element (Torch7's way).

    Each call gives the input's gradient and every parameter's at once; rows as `_forward`.
    """
    x = jnp.asarray(input)
    out = module.forward(x)
    n_out = int(np.prod(out.shape))
    order = list(module.split()[0])
    cols = []
    for i in range(n_out):
        dout = np.zeros((n_out,), out.dtype)
        dout[i] = 1
        dout = dout.reshape(out.shape)
        module.zeroGradParameters()
        gin = module.backward(x, dout)
        grads = module.parameters()[1]
        col = ([np.ravel(np.asarray(gin))] if with_input else []) + [
            np.ravel(np.asarray(grads[order.index(k)])) for k in keys
        ]
        cols.append(np.concatenate(col))
    return np.stack(cols, axis=1)


def _max_error(fd: np.ndarray, bp: np.ndarray) -> float:
    return float(np.max(np.abs(fd - bp))) if fd.size else 0.0


class Jacobian:
    """nn.Jacobian: Torch7's gradient checker (``testJacobian``, ``testJacobianParameters``).

    Example:
        >>> from nets import nn
        >>> nn.Jacobian.testJacobian(nn.Tanh(), jnp.zeros((2, 3))) < 1e-6
        True
    """

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
        keys = [] if param is None else [_param_key(module, param)]
        return _forward(module, input, keys, param is None, perturbation)

    @staticmethod
    def backward(module: Module, input: Any, param: Any = None) -> np.ndarray:
        """The (nParam, nOutput) Jacobian from the module's own ``backward``."""
        keys = [] if param is None else [_param_key(module, param)]
        return _backward(module, input, keys, param is None)

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
            fd = _forward(m, x, [], True, perturbation)
            bp = _backward(m, x, [], True)
        return _max_error(fd, bp)

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
            bp = _backward(m, x, [key], False)
            fd = _forward(m, x, [key], False, perturbation)
        return _max_error(fd, bp)

    @staticmethod
    def testAll(
        module: Module,
        input: Any,
        minval: float = -2.0,
        maxval: float = 2.0,
        perturbation: float = 1e-6,
    ) -> dict[str, float]:
        """d output / d input and d output / d every parameter, in one compiled pass.

        A nets addition for sweeping many layers quickly. The input is random in
        ``[minval, maxval]`` as in `testJacobian`; the parameters keep their values. The
        analytic Jacobian comes from the VJP of the module's functional form (the one
        ``backward`` runs, hand-written ``updateGradInput`` included), evaluated for every
        output element at once next to the finite differences, so one compilation covers all.

        Returns:
            ``{'input': err, 'weight': err, ...}``, max absolute errors keyed by parameter path.
        """
        x = _random.generator().uniform(minval, maxval, size=np.shape(input))
        # Everything is built in NumPy and float64 goes in as arguments of the one compiled
        # function: no eager JAX op (each would compile on its own) and no module copy.
        params, buffers = module.split()
        keys = list(params)
        params = {k: np.asarray(v, np.float64) for k, v in params.items()}
        buffers = {
            k: np.asarray(v, np.float64) if np.issubdtype(v.dtype, np.floating) else v
            for k, v in buffers.items()
        }
        parts = [x] + [params[k] for k in keys]
        sizes = [int(np.prod(np.shape(p))) for p in parts]
        flat = np.concatenate([np.ravel(p) for p in parts])

        def out_at(z):
            pieces = jnp.split(z, np.cumsum(sizes)[:-1])
            xx = pieces[0].reshape(x.shape)
            p = {k: v.reshape(params[k].shape) for k, v in zip(keys, pieces[1:], strict=True)}
            return _flat_output(module.call(p, buffers, xx)[0])

        def both(z, steps, cotangents):
            plus = jax.vmap(out_at)(z[None, :] + steps)
            minus = jax.vmap(out_at)(z[None, :] - steps)
            _, vjp = jax.vjp(out_at, z)
            return (plus - minus) / (2 * perturbation), jax.vmap(vjp)(cotangents)[0]

        with jax.enable_x64(True):
            n_out = int(np.prod(jax.eval_shape(out_at, flat).shape))
            steps = np.eye(flat.size) * perturbation
            fd, bp = jax.jit(both)(flat, steps, np.eye(n_out))
            fd, bp = np.asarray(fd), np.asarray(bp).T
        names = ["input", *keys]
        bounds = np.cumsum([0, *sizes])
        return {
            n: _max_error(fd[bounds[i] : bounds[i + 1]], bp[bounds[i] : bounds[i + 1]])
            for i, n in enumerate(names)
        }

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
