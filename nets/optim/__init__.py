"""Torch7 optim on optax: ``x, fx = optim.sgd(feval, x, config, state)``.

``feval(x) -> (loss, grad)``; ``x`` is a flat vector or any pytree and the updated parameters are
returned. ``transform(name, config)`` gives the same rule as an optax GradientTransformation for a
compiled training step.
"""

from .adadelta import adadelta as adadelta
from .adagrad import adagrad as adagrad
from .adam import adam as adam
from .adamax import adamax as adamax
from .asgd import asgd as asgd
from .cg import cg as cg
from .lbfgs import lbfgs as lbfgs
from .lswolfe import lswolfe as lswolfe
from .nag import nag as nag
from .polyinterp import polyinterp as polyinterp
from .registry import get as get
from .registry import names as names
from .registry import transform as transform
from .rmsprop import rmsprop as rmsprop
from .rprop import rprop as rprop
from .sgd import sgd as sgd

__all__ = [
    "sgd",
    "adam",
    "adagrad",
    "rmsprop",
    "adadelta",
    "lbfgs",
    "nag",
    "asgd",
    "adamax",
    "rprop",
    "cg",
    "lswolfe",
    "polyinterp",
    "transform",
    "get",
    "names",
]
