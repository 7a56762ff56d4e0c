"""A small strictly convex quadratic and Rosenbrock's function, as float32 JAX and float64 NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])
B = np.array([1.0, -2.0, 0.5])
X0 = np.array([0.5, 0.5, -1.0])


@pytest.fixture
def quadratic():
    """(feval for JAX, gradient for NumPy, x0): f(x) = x'Ax/2 - b'x."""
    a, b = jnp.asarray(A, jnp.float32), jnp.asarray(B, jnp.float32)

    def feval(x):
        return 0.5 * x @ a @ x - b @ x, a @ x - b

    def grad64(x):
        return A @ x - B

    return feval, grad64, X0.copy()


@jax.jit
def rosenbrock(x):
    """Rosenbrock's function and its gradient (torch/optim test/rosenbrock.lua), minimum at 1s."""
    fx = jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    dx = jnp.zeros_like(x)
    dx = dx.at[:-1].add(-400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1]))
    dx = dx.at[1:].add(200.0 * (x[1:] - x[:-1] ** 2))
    return fx, dx


@pytest.fixture
def rosen():
    return rosenbrock


def _run(optimizer, feval, x0, config, steps):
    """Call a Torch-style optimizer `steps` times on one state dict; returns (x, state)."""
    x = jnp.asarray(x0, jnp.float32)
    state = {}
    for _ in range(steps):
        x, _ = optimizer(feval, x, config, state)
    return np.asarray(x), state


@pytest.fixture
def run():
    """run(optimizer, feval, x0, config, steps) -> (x, state)."""
    return _run


@pytest.fixture
def system():
    """The quadratic's (A, b) in float64."""
    return A, B
