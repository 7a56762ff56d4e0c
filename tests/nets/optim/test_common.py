import math

import jax.numpy as jnp
import pytest

from nets import optim


def feval(x):
    return jnp.sum(x**2), 2 * x


@pytest.mark.parametrize(
    ("name", "config", "message"),
    [
        (
            "sgd",
            {"learningRate": -1},
            r"optim.sgd: config\['learningRate'\] must be a finite "
            r"number >= 0, got -1",
        ),
        (
            "adam",
            {"learningRate": math.nan},
            r"optim.adam: config\['learningRate'\] must be a "
            r"finite number >= 0, got nan",
        ),
        ("rmsprop", {"learningRate": math.inf}, r"optim.rmsprop: config\['learningRate'\]"),
        ("sgd", {"lr": 0.1}, r"optim.sgd: unknown config key 'lr'; valid keys: learningRate, "),
        ("adam", {"beta1": 1.0}, r"optim.adam: config\['beta1'\] must be a number in \[0, 1\)"),
        ("sgd", {"nesterov": 1}, r"optim.sgd: config\['nesterov'\] must be True or False"),
        ("adadelta", {"learningRate": 1.0}, r"optim.adadelta: unknown config key 'learningRate'"),
        ("lbfgs", {"maxIter": 0}, r"optim.lbfgs: config\['maxIter'\] must be an integer >= 1"),
    ],
)
def test_bad_config_names_optimizer_key_and_expectation(name, config, message):
    with pytest.raises(ValueError, match=message):
        optim.get(name)(feval, jnp.ones(2), config)


def test_gradient_of_the_wrong_shape_is_reported():
    with pytest.raises(ValueError, match=r"optim.sgd: feval\(x\) returned a gradient of shape"):
        optim.sgd(lambda x: (0.0, jnp.ones(3)), jnp.ones(2))


def test_unknown_algorithm_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"optim: unknown algorithm 'sgdd'; valid names: sgd, "):
        optim.transform("sgdd", {})
