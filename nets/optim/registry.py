"""Look an algorithm up by name: its Torch7-style function, or its optax transformation.

``transform(name, config)`` is what a compiled training step uses: the same update rule as
``optim.<name>(feval, x, config, state)``, as an ``optax.GradientTransformation`` whose ``init``
and ``update`` can be traced inside ``jax.jit``.
"""

from __future__ import annotations

from collections.abc import Callable

import optax

from ._common import Key, check_config
from .adadelta import SPEC as _ADADELTA_SPEC
from .adadelta import adadelta
from .adadelta import make_transform as _adadelta_transform
from .adagrad import SPEC as _ADAGRAD_SPEC
from .adagrad import adagrad
from .adagrad import make_transform as _adagrad_transform
from .adam import SPEC as _ADAM_SPEC
from .adam import adam
from .adam import make_transform as _adam_transform
from .adamax import SPEC as _ADAMAX_SPEC
from .adamax import adamax
from .adamax import make_transform as _adamax_transform
from .asgd import SPEC as _ASGD_SPEC
from .asgd import asgd
from .asgd import make_transform as _asgd_transform
from .cg import cg
from .lbfgs import lbfgs
from .nag import SPEC as _NAG_SPEC
from .nag import make_transform as _nag_transform
from .nag import nag
from .rmsprop import SPEC as _RMSPROP_SPEC
from .rmsprop import make_transform as _rmsprop_transform
from .rmsprop import rmsprop
from .rprop import SPEC as _RPROP_SPEC
from .rprop import make_transform as _rprop_transform
from .rprop import rprop
from .sgd import SPEC as _SGD_SPEC
from .sgd import make_transform as _sgd_transform
from .sgd import sgd

# name -> (Torch-style function, config spec, config -> optax chain)
_FIRST_ORDER: dict[str, tuple[Callable, dict[str, Key], Callable]] = {
    "sgd": (sgd, _SGD_SPEC, _sgd_transform),
    "adam": (adam, _ADAM_SPEC, _adam_transform),
    "adagrad": (adagrad, _ADAGRAD_SPEC, _adagrad_transform),
    "rmsprop": (rmsprop, _RMSPROP_SPEC, _rmsprop_transform),
    "adadelta": (adadelta, _ADADELTA_SPEC, _adadelta_transform),
    "nag": (nag, _NAG_SPEC, _nag_transform),
    "asgd": (asgd, _ASGD_SPEC, _asgd_transform),
    "adamax": (adamax, _ADAMAX_SPEC, _adamax_transform),
    "rprop": (rprop, _RPROP_SPEC, _rprop_transform),
}
# algorithms that evaluate the function several times per call: no GradientTransformation
_MULTI_EVAL = {"lbfgs": lbfgs, "cg": cg}


def names() -> list[str]:
    """The algorithms ``transform`` and ``get`` know, in Torch7 optim's spelling."""
    return [*_FIRST_ORDER, *_MULTI_EVAL]


def get(name: str) -> Callable:
    """The Torch7-style function ``optim.<name>``; unknown names list the valid ones."""
    if name in _MULTI_EVAL:
        return _MULTI_EVAL[name]
    if name not in _FIRST_ORDER:
        raise ValueError(f"optim: unknown algorithm {name!r}; valid names: {', '.join(names())}")
    return _FIRST_ORDER[name][0]


def transform(name: str, config: dict | None = None) -> optax.GradientTransformation:
    """The optax GradientTransformation of algorithm `name` under a Torch7 `config`.

    Raises:
        ValueError: unknown name or bad config (as ``optim.<name>`` would); ``lbfgs`` and
            ``cg``, which evaluate the function several times per step and so are not
            transformations.
    """
    if name in _MULTI_EVAL:
        raise ValueError(
            f"optim.transform: {name} evaluates the function several times per step, so it has "
            f"no GradientTransformation; call optim.{name}(feval, x, config, state) instead"
        )
    get(name)
    _, spec, make_transform = _FIRST_ORDER[name]
    return make_transform(check_config(name, spec, config))
