import jax
import jax.numpy as jnp
import optax
import pytest

from nets import optim
from tests.tolerance import assert_close, path_terms


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("sgd", {"learningRate": 0.1, "momentum": 0.9, "weightDecay": 0.01}),
        ("adam", {"learningRate": 0.01, "learningRateDecay": 0.1}),
        ("adagrad", {"learningRate": 0.1}),
        ("rmsprop", {"learningRate": 0.01}),
        ("adadelta", {}),
        ("adamax", {"learningRate": 0.01, "weightDecay": 0.1}),
        ("asgd", {"eta0": 0.1, "lambda": 0.01, "t0": 2}),
        ("rprop", {"stepsize": 0.05}),
    ],
)
def test_transform_in_a_jitted_step_equals_the_torch_style_call(name, config):
    """The engine's path (optax transform under jit) and optim.<name> give the same iterates."""
    a = jnp.array([[2.0, 0.3], [0.3, 1.0]])

    def loss(x):
        return 0.5 * x @ a @ x - x[0]

    tx = optim.transform(name, config)

    @jax.jit
    def train_step(x, opt_state):
        g = jax.grad(loss)(x)
        updates, opt_state = tx.update(g, opt_state, x)
        return optax.apply_updates(x, updates), opt_state

    x_engine = jnp.array([1.0, -1.0])
    opt_state = tx.init(x_engine)
    x_torch, state = x_engine, {}
    for _ in range(5):
        x_engine, opt_state = train_step(x_engine, opt_state)
        x_torch = optim.get(name)(jax.value_and_grad(loss), x_torch, dict(config), state)[0]
    # two float32 programs for 5 steps: the gradient (2 products and -x[0], 3 terms) and the
    # longest update path (adam's, 20 operations)
    assert_close(x_engine, x_torch, terms=5 * path_terms(3, 20))


def test_names_lists_every_algorithm():
    assert optim.names() == [
        "sgd",
        "adam",
        "adagrad",
        "rmsprop",
        "adadelta",
        "nag",
        "asgd",
        "adamax",
        "rprop",
        "lbfgs",
        "cg",
    ]
