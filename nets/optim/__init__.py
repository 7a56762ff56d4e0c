"""Torch7 optim on optax: ``x, fx = optim.sgd(feval, x, config, state)``.

``feval(x) -> (loss, grad)``; ``x`` is a flat vector or any pytree and the updated parameters are
returned. ``transform(name, config)`` gives the same rule as an optax GradientTransformation for a
compiled training step.
"""

from .adadelta import adadelta as adadelta
from .adagrad import adagrad as adagrad
from .adam import adam as adam
from .lbfgs import lbfgs as lbfgs
from .registry import get as get
from .registry import names as names
from .registry import transform as transform
from .rmsprop import rmsprop as rmsprop
from .sgd import sgd as sgd

__all__ = ["sgd", "adam", "adagrad", "rmsprop", "adadelta", "lbfgs", "transform", "get", "names"]
