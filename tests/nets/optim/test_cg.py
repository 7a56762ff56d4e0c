import jax.numpy as jnp
import numpy as np

from nets import optim


def test_cg_solves_a_quadratic_in_a_few_line_searches(quadratic, system):
    feval, _, x0 = quadratic
    a, b = system
    x, fx, evals = optim.cg(feval, jnp.asarray(x0, jnp.float32), {"maxIter": 20})
    # conjugate directions on a 3-d quadratic: the minimum A^-1 b (float32 residual)
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(a, b), atol=1e-4)
    assert all(f1 >= f2 for f1, f2 in zip(fx, fx[1:], strict=False))  # each search descends
    assert evals <= 20 * 1.25 + 1


def test_cg_minimises_rosenbrock(rosen):
    x = jnp.zeros(2)
    for _ in range(3):  # Rasmussen's example: minimize([0 0]', 'rosenbrock', -25), repeated
        x, fx, evals = optim.cg(rosen, x, {"maxEval": 25})
        assert evals <= 26
    np.testing.assert_allclose(np.asarray(x), [1.0, 1.0], atol=1e-4)
    assert fx[-1] < 1e-8
