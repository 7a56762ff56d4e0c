"""nn.StochasticGradient: Torch7's simplest trainer, one example at a time, compiled.

Torch7's loop (torch/nn StochasticGradient.lua) visits the examples in a random order and, for
each one, runs forward, the criterion, backward and a parameter update. Here the same per-example
updates run inside one compiled ``lax.scan`` per chunk of examples, so the Python loop does no
per-layer (or even per-example) work. With a ``hookExample`` set, the examples go one compiled
step at a time instead, so the hook sees each one as Torch7's did.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import NetsError
from . import compiled
from .binding import bound, pure_call
from .module import Module
from .state import BUFFER
from .structure import is_module, tree

_INT32 = np.iinfo(np.int32)

# Examples per compiled call: large enough to amortise dispatch, small enough that Ctrl-C and
# the per-epoch print come back quickly.
_CHUNK = 512


class StochasticGradient:
    """nn.StochasticGradient(module, criterion): per-example SGD over a data set.

    Fields (Torch7's, with its defaults): ``learningRate`` 0.01, ``learningRateDecay`` 0
    (the rate at epoch i is learningRate / (1 + i * learningRateDecay)), ``maxIteration`` 25
    epochs (0 means no limit), ``shuffleIndices`` True, ``hookIteration(trainer, iteration,
    currentError)``, ``hookExample(trainer, example)``, ``verbose`` True (prints
    ``# current error = ...`` after every epoch).

    ``checkFinite`` (True; not in Torch7): refuse a data set with a NaN or infinite input, and
    check after every chunk of examples that the parameters are still finite (a NaN gradient
    leaves them NaN for good, even while the loss stays finite, as after a ReLU). When they are
    not, the chunk is undone and replayed one example at a time to name the example and the
    first layer whose output or gradient went non-finite. The check costs one reduction per
    chunk of 512 examples.

    The data set is anything with ``dataset[i] -> (input, target)`` (0-based) and ``len()`` or
    ``size()``, like the seed's CIFAR example.

    Example:
        >>> trainer = nn.StochasticGradient(net, nn.ClassNLLCriterion())
        >>> trainer.learningRate = 0.001
        >>> trainer.maxIteration = 5
        >>> trainer.train(trainset)   # doctest: +SKIP
    """

    def __init__(self, module: Module, criterion: Any) -> None:
        self.module = module
        self.criterion = criterion
        self.learningRate = 0.01
        self.learningRateDecay = 0.0
        self.maxIteration = 25
        self.shuffleIndices = True
        self.hookIteration: Callable | None = None
        self.hookExample: Callable | None = None
        self.verbose = True
        self.checkFinite = True
        self._epoch = 0  # the epoch being trained, for error messages

    def __repr__(self) -> str:
        return (
            f"nn.StochasticGradient(learningRate={self.learningRate}, "
            f"maxIteration={self.maxIteration})"
        )

    # ------------------------------------------------------------------ checks

    def _check_settings(self) -> None:
        for name in ("learningRate", "learningRateDecay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise NetsError(
                    f"nn.StochasticGradient.{name}: expected a finite number >= 0, got {value!r}"
                )
        if not isinstance(self.maxIteration, int) or self.maxIteration < 0:
            raise NetsError(
                f"nn.StochasticGradient.maxIteration: expected an integer >= 0 "
                f"(0 = no limit), got {self.maxIteration!r}"
            )

    def _examples(self, dataset: Any) -> tuple[np.ndarray, np.ndarray]:
        size = dataset.size() if hasattr(dataset, "size") and callable(dataset.size) else None
        n = int(size) if size is not None else len(dataset)
        if n <= 0:
            raise NetsError("nn.StochasticGradient.train: the data set is empty")
        inputs, targets = [], []
        for i in range(n):
            example = dataset[i]
            if not isinstance(example, (tuple, list)) or len(example) != 2:
                raise NetsError(
                    f"nn.StochasticGradient.train: dataset[{i}] should be "
                    f"(input, target), got {type(example).__name__}"
                )
            inputs.append(np.asarray(example[0]))
            targets.append(np.asarray(example[1]))
        try:
            x = np.stack(inputs)
            y = np.stack(targets)
        except ValueError as e:
            raise NetsError(f"nn.StochasticGradient.train: examples differ in shape ({e})") from e
        if np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer):
            x = x.astype(np.float32)
        if np.issubdtype(y.dtype, np.floating):
            y = y.astype(np.float32)
        return x, y

    def _check_targets(self, x: np.ndarray, y: np.ndarray) -> None:
        """Class targets must index the network's output (checked once, before compiling)."""
        if not np.issubdtype(y.dtype, np.integer):
            return
        out = jax.eval_shape(
            lambda v: self.module.call(*self.module.split(), v, train=False)[0],
            jax.ShapeDtypeStruct(x.shape[1:], jnp.float32),
        )
        classes = out.shape[-1] if out.shape else None
        if classes is None:
            return
        bad = np.flatnonzero(((y < 0) | (y >= classes)).reshape(len(y), -1).any(axis=1))
        if bad.size:
            i = int(bad[0])
            value = np.asarray(y[i]).ravel()
            value = value[(value < 0) | (value >= classes)][0]
            raise NetsError(
                f"nn.StochasticGradient.train: dataset[{i}] has target {int(value)}, "
                f"expected a class index in [0, {classes - 1}] (0-based) for a "
                f"network with {classes} outputs"
            )

    # ------------------------------------------------------------------ training

    def train(self, dataset: Any) -> float:
        """Train for ``maxIteration`` epochs; returns the last epoch's mean error."""
        self._check_settings()
        if not is_module(self.criterion):
            raise NetsError(
                "nn.StochasticGradient: the criterion must be an nn.Criterion (a subclass with "
                f"call(input, target) or updateOutput(input, target)), got {self.criterion!r}"
            )
        x, y = self._examples(dataset)
        module = self.module
        module.training()
        params, buffers = module.split()
        # Shape inference on the first example gives a clear error (with the module path) for a
        # data/network mismatch before anything is compiled.
        jax.eval_shape(
            lambda p, b, xi, yi: _criterion_loss(
                self.criterion, self._criterion_buffers(), module.call(p, b, xi, train=False)[0], yi
            ),
            params,
            buffers,
            jax.ShapeDtypeStruct(x.shape[1:], x.dtype),
            jax.ShapeDtypeStruct(y.shape[1:], y.dtype),
        )
        self._check_targets(x, y)
        if np.issubdtype(y.dtype, np.integer):
            if y.size and (y.min() < _INT32.min or y.max() > _INT32.max):
                i = int(np.flatnonzero((y < _INT32.min) | (y > _INT32.max))[0])
                raise NetsError(
                    f"nn.StochasticGradient.train: dataset[{i}] has target {int(y.flat[i])}, "
                    "beyond the int32 range of targets"
                )
            y = y.astype(np.int32)  # only now: a cast would wrap 2**32 + 3 to 3
        if self.checkFinite:
            _check_finite_inputs(x)
        xs, ys = jax.device_put(x), jax.device_put(y)
        n = len(x)
        order = np.random.default_rng(_random.generator().integers(2**31))
        print("# StochasticGradient: training")
        iteration = 1
        lr = float(self.learningRate)
        error = float("nan")
        try:
            while True:
                perm = order.permutation(n) if self.shuffleIndices else np.arange(n)
                if self.hookExample is None:
                    self._epoch = iteration
                    params, buffers, total = self._epoch_chunks(params, buffers, xs, ys, perm, lr)
                else:
                    params, buffers, total = self._epoch_examples(
                        params, buffers, dataset, xs, ys, perm, lr
                    )
                error = total / n
                if not math.isfinite(error):
                    raise NetsError(
                        f"nn.StochasticGradient: the error became {error} in epoch "
                        f"{iteration} (learningRate {lr}); the parameters are kept "
                        f"from the end of epoch {iteration - 1}. Try a smaller "
                        f"learningRate."
                    )
                module.merge(params, buffers)
                if self.hookIteration is not None:
                    self.hookIteration(self, iteration, error)
                if self.verbose:
                    print(f"# current error = {error:.6f}")
                iteration += 1
                lr = self.learningRate / (1 + iteration * self.learningRateDecay)
                if self.maxIteration > 0 and iteration > self.maxIteration:
                    print("# StochasticGradient: you have reached the maximum number of iterations")
                    print(f"# training error = {error:.6f}")
                    break
        except KeyboardInterrupt:
            print(
                f"# StochasticGradient: interrupted in epoch {iteration}; the parameters are "
                "those of the last finished chunk"
            )
            raise
        return error

    def _compiled(self, kind: str, build: Callable, **jit_kwargs: Any) -> Callable:
        """The compiled step or scan over this network and criterion (`nets.nn.compiled`)."""
        owners = (self.module, self.criterion)
        return compiled.cached("StochasticGradient." + kind, owners, build, **jit_kwargs)

    def _criterion_buffers(self) -> dict:
        return tree(self.criterion).values(BUFFER)

    def _epoch_chunks(self, params, buffers, xs, ys, perm, lr):
        scan = self._compiled("scan", _build_scan)
        total = 0.0
        start_params, start_buffers = params, buffers
        for start in range(0, len(perm), _CHUNK):
            idx = jax.device_put(perm[start : start + _CHUNK].astype(np.int32))
            before = (params, buffers)
            raw_key = _random.next_key_data()
            params, buffers, loss_sum = scan(
                params, buffers, self._criterion_buffers(), xs, ys, idx, lr, raw_key
            )
            total += float(loss_sum)
            # Non-finite parameters: a NaN gradient, which the loss may not have seen (the
            # loss of a NaN pixel after a ReLU stays finite). Replay the chunk to say where.
            if self.checkFinite and (
                not math.isfinite(total) or not bool(_all_finite_jit((params, buffers)))
            ):
                self.module.merge(*before)
                self._replay(*before, xs, ys, perm[start : start + _CHUNK], lr, raw_key)
            if math.isfinite(total):
                # Keep the module current, so an interrupt leaves finished work in place.
                self.module.merge(params, buffers)
            else:
                self.module.merge(start_params, start_buffers)
                break
        return params, buffers, total

    def _replay(self, params, buffers, xs, ys, order, lr, raw_key) -> None:
        """Run a chunk whose parameters went non-finite again, one example at a time (the same
        keys), and raise naming the first example after which they are, and why."""
        step = self._compiled("step_checked", _build_step)
        key = jax.random.wrap_key_data(raw_key, impl="threefry2x32")
        for i in order:
            k = jax.random.key_data(jax.random.fold_in(key, int(i)))
            new = step(params, buffers, self._criterion_buffers(), xs[i], ys[i], lr, k)
            if not (math.isfinite(float(new[2])) and bool(_all_finite_jit(new[:2]))):
                why = explain_nonfinite(self.module, self.criterion, params, buffers, xs[i], ys[i])
                raise NetsError(
                    f"nn.StochasticGradient: training went non-finite in epoch {self._epoch} at "
                    f"dataset[{i}] (learningRate {lr}): {why}. The parameters are kept from "
                    f"before the chunk of {_CHUNK} examples that holds it. If the error grew "
                    "first, try a smaller learningRate; set checkFinite = False to skip this check."
                )
            params, buffers = new[0], new[1]

    def _epoch_examples(self, params, buffers, dataset, xs, ys, perm, lr):
        step = self._compiled("step", _build_step, donate_argnums=(0, 1))
        total = 0.0
        for i in perm:
            params, buffers, loss = step(
                params,
                buffers,
                self._criterion_buffers(),
                xs[int(i)],
                ys[int(i)],
                lr,
                _random.next_key_data(),
            )
            total += float(loss)
            self.module.merge(params, buffers)
            self.hookExample(self, dataset[int(i)])
        return params, buffers, total


# ---------------------------------------------------------------------- finite checks


def all_finite(*trees: Any) -> jax.Array:
    """Whether every floating leaf of `trees` is finite: a boolean array, one reduction per
    array inside a compiled step. (Measured against one float sum per array and against one
    reduction over their concatenation, on the LeNet and ResNet-18 training steps, this was the
    cheapest of the three.)"""
    ok = jnp.ones((), bool)
    for leaf in jax.tree_util.tree_leaves(trees):
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            ok = ok & jnp.all(jnp.isfinite(leaf))
    return ok


_all_finite_jit = jax.jit(all_finite)


def _first_nonfinite(a: Any) -> tuple[tuple[int, ...], float] | None:
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        return None
    bad = np.argwhere(~np.isfinite(a))
    if not len(bad):
        return None
    where = tuple(int(i) for i in bad[0])
    return where, float(a[where])


def _check_finite_inputs(x: np.ndarray) -> None:
    found = _first_nonfinite(x)
    if found is not None:
        where, value = found
        raise NetsError(
            f"nn.StochasticGradient.train: dataset[{where[0]}]'s input holds {value} at "
            f"{list(where[1:])}; a non-finite input makes the gradients NaN (set checkFinite = "
            "False to train anyway)"
        )


def explain_nonfinite(
    network: Module, criterion: Any, params: dict, buffers: dict, x: Any, y: Any
) -> str:
    """Why a training step on ``(x, y)`` from `params` gave non-finite values, in words: a
    non-finite input or parameter, the first layer whose output is non-finite, the first
    parameter whose gradient is. Runs eager passes: call it only after a cheap check fired."""
    modules = dict(network.named_modules())

    def name(path: str) -> str:
        return f"({path}) {modules[path]._describe()}" if path else modules[path]._describe()

    parts = []
    found = _first_nonfinite(x)
    if found is not None:
        parts.append(f"the input holds {found[1]} at {list(found[0])}")
    for k, v in params.items():
        if _first_nonfinite(v) is not None:
            parts.append(f"parameter {k} was already non-finite")
            break
    key = jax.random.key(0)
    _, _, outputs = pure_call(network, params, buffers, x, True, key, collect=True)
    leaves = [p for p, m in network.named_modules() if p and not m.children()]
    for path in leaves:
        value = outputs.get(path)
        if value is not None and any(
            _first_nonfinite(v) is not None for v in jax.tree_util.tree_leaves(value)
        ):
            parts.append(f"the first non-finite output is that of {name(path)}")
            break
    crit_buffers = tree(criterion).values(BUFFER) if is_module(criterion) else {}

    def loss_of(p):
        o = pure_call(network, p, buffers, x, True, key)[0]
        with bound(criterion, {}, crit_buffers, None, None):
            _, target = criterion.prepare(o, y)
            return criterion.loss(o, target)

    try:
        loss, grads = jax.value_and_grad(loss_of)(params)
    except Exception as error:  # the criterion refused what it was given: that is the reason
        parts.append(f"the criterion refused the output: {error}")
    else:
        if not np.isfinite(float(loss)):
            parts.append(f"the loss is {float(loss)}")
        for k, g in grads.items():
            if _first_nonfinite(g) is not None:
                owner = k.rpartition(".")[0]
                parts.append(f"the first non-finite gradient is {k}'s, in {name(owner)}")
                break
    return "; ".join(parts) if parts else "no non-finite value found when run again"


def _criterion_loss(criterion: Any, crit_buffers: dict, output: Any, target: Any) -> Any:
    """The criterion's loss as a pure function of (output, target), safe inside compiled code."""
    with bound(criterion, {}, crit_buffers, None, None):
        return criterion.loss(output, target)


def _example_update(module: Module, criterion: Any):
    def update(params, buffers, crit_buffers, x, y, lr, key):
        def loss_fn(p):
            out, new_buffers, _ = pure_call(module, p, buffers, x, True, key)
            return _criterion_loss(criterion, crit_buffers, out, y), new_buffers

        (loss, new_buffers), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        params = jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
        return params, new_buffers, loss

    return update


def _build_step(module: Module, criterion: Any):
    update = _example_update(module, criterion)

    def step(params, buffers, crit_buffers, x, y, lr, raw_key):
        key = jax.random.wrap_key_data(raw_key, impl="threefry2x32")
        return update(params, buffers, crit_buffers, x, y, lr, key)

    return step


def _build_scan(module: Module, criterion: Any):
    update = _example_update(module, criterion)

    def scan(params, buffers, crit_buffers, xs, ys, idx, lr, raw_key):
        key = jax.random.wrap_key_data(raw_key, impl="threefry2x32")

        def body(carry, i):
            p, b, total = carry
            p, b, loss = update(p, b, crit_buffers, xs[i], ys[i], lr, jax.random.fold_in(key, i))
            return (p, b, total + loss), None

        (params, buffers, total), _ = jax.lax.scan(body, (params, buffers, jnp.float32(0)), idx)
        return params, buffers, total

    return scan
