"""A Torchnet-style engine whose whole update is one compiled JAX step.

``Engine().train(network, iterator, criterion, optimizer, maxepoch)`` runs, per batch::

    onSample -> [forward, loss, backward, optimizer update: one jax.jit call] -> onForward
             -> onBackward -> onUpdate

bracketed by onStart / onStartEpoch ... onEndEpoch / onEnd. Each hook receives the engine's
``state`` dict (Torchnet's fields: network, iterator, criterion, optimizer, config, maxepoch,
epoch, t, training, sample, output, loss, plus params, buffers, optim_state). Because forward,
backward and update are fused, onForward and onBackward fire after the step, in that order.

The step donates the parameters, buffers and optimizer state (``donate_argnums``), so training
updates them in place on the device; the network object gets current copies at the end of every
epoch (before onEndEpoch, so a hook can ``engine.test(network, ...)``) and when training stops.

Ctrl-C (SIGINT, which is also what a Jupyter kernel interrupt sends) finishes the current step,
writes a step-exact checkpoint when a checkpoint path is set, runs onEnd and returns the state
with the network and optimizer state intact; a second Ctrl-C stops at once. Training resumed
from that checkpoint goes on from the next step of the same epoch, on the same batches and
dropout keys, as if it had not stopped.

Garbage is refused, batch by batch, inside the compiled step: a class target outside the
network's outputs, a non-finite input (``check_finite``, on by default) and a non-finite
gradient (``check_gradients``, off by default: it costs up to 8% of a ResNet-18 step) make the
step keep the old parameters and report a NaN loss, the one number the loop reads back anyway.
The loop then stops with a `TrainingError` naming the epoch, the step and the cause: the
offending target, or the first layer whose output or gradient went non-finite (found by an eager
pass run only then). A non-finite loss stops training the same way. That step's update is not
applied and the last epoch's checkpoint is left as it was. With ``check_finite``, the parameters
are also checked at every epoch end, before the checkpoint is written, so a gradient that went
non-finite under a finite loss is caught within the epoch.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import _random, optim
from ..nn import compiled
from ..nn.binding import bound, pure_call
from ..nn.module import Module
from ..nn.state import BUFFER
from ..nn.structure import freeze, tree
from ..nn.trainer import all_finite, explain_nonfinite
from .checkpoint import load_training, save_training
from .log import ProgressBar
from .parallel import DataParallel
from .precision import Precision

HOOKS = (
    "onStart",
    "onStartEpoch",
    "onSample",
    "onForward",
    "onBackward",
    "onUpdate",
    "onEndEpoch",
    "onEnd",
)


class TrainingError(RuntimeError):
    """Training stopped on bad data or a diverged loss; the message says where."""


class _InterruptGuard:
    """First SIGINT: ask the loop to stop after this step. Second: KeyboardInterrupt at once."""

    def __init__(self, stream=None):
        self.stop = False
        self.stream = stream or sys.stderr
        self._previous = None

    def _handler(self, signum, frame):
        if self.stop:
            signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)
            raise KeyboardInterrupt
        self.stop = True
        self.stream.write(
            "\nInterrupted: finishing the current step, then stopping (Ctrl-C again to stop at "
            "once)\n"
        )
        self.stream.flush()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


@jax.jit
def _copy(tree: Any) -> Any:
    """Fresh buffers for every leaf, in one compiled call (not one eager op per shape)."""
    return jax.tree.map(jnp.copy, tree)


def _transform(
    optimizer: Any, config: Mapping | None
) -> tuple[optax.GradientTransformation, str, Any]:
    """``(transformation, name, key)``: the key names the update rule for the compile cache
    (a named optimizer by its name and config, an optax transformation by itself)."""
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer, type(optimizer).__name__, ("optax", id(optimizer))
    if callable(optimizer) and not isinstance(optimizer, str):
        names = [n for n in optim.names() if optim.get(n) is optimizer]
        if not names:
            raise TypeError(
                "Engine.train: optimizer must be a name ('sgd'), an nets.optim function or an "
                f"optax.GradientTransformation, got {optimizer!r}"
            )
        optimizer = names[0]
    config = dict(config or {})
    return optim.transform(optimizer, config), optimizer, ("named", optimizer, freeze(config))


class Engine:
    """Engine([hooks][, data_parallel][, devices][, progress][, seed]): train and test loops.

    Args:
        hooks: ``{name: fn(state)}`` for any of onStart, onStartEpoch, onSample, onForward,
            onBackward, onUpdate, onEndEpoch, onEnd (also settable later: ``engine.hooks[...]``).
        data_parallel: split every batch over `devices` (a mesh over the batch axis).
        devices: for data_parallel: None for all devices JAX sees, or a list.
        progress: a progress bar per epoch: None shows it only on a terminal, False never.
        seed: the seed of the dropout keys (one key per step, folded from it).
        check_finite: check in every training step that the inputs are finite, and at every
            epoch end that the parameters are (default True); a failure stops training with an
            error naming the step (or epoch) and the first layer whose output or gradient went
            non-finite. Costs under 1% of a step. Class targets are checked in every step
            either way.
        check_gradients: also check every step's gradients (default False): a gradient that
            goes non-finite under a finite loss then stops training at that very step, with
            its update not applied. Costs about 2% of a LeNet step and 5-8% of a ResNet-18
            one (``python -m bench --rows lenet-train --engine``).
        precision: ``"float32"`` (default), ``"bfloat16"`` or ``"float16"`` (parameters
            kept in float32, forward and backward in the given dtype, loss in float32; float16
            with dynamic loss scaling), or a jmp policy (`nets.engine.precision`).

    Example:
        >>> engine = Engine()
        >>> engine.hooks["onEndEpoch"] = lambda state: print(state["epoch"])
    """

    def __init__(
        self,
        hooks: Mapping[str, Callable] | None = None,
        data_parallel: bool = False,
        devices: list | None = None,
        progress: bool | None = None,
        seed: int | None = None,
        check_finite: bool = True,
        check_gradients: bool = False,
        precision: Any = "float32",
    ):
        self.precision = Precision.of(precision)
        self.hooks = _Hooks()
        for name, fn in (hooks or {}).items():
            self.hooks[name] = fn
        self.parallel = DataParallel(devices) if data_parallel else None
        self.progress = progress
        self.seed = seed
        self.check_finite = bool(check_finite)
        self.check_gradients = bool(check_gradients)
        self._background: Any = None  # the BackgroundTraining of train(..., background=True)

    # ---------------------------------------------------------------- compiled steps

    def _train_step(
        self, network: Module, criterion: Any, tx: optax.GradientTransformation, tx_key: Any
    ):
        """The compiled training step (`nets.nn.compiled`): one per network, criterion,
        optimizer and finite check, whatever the Engine or the call."""
        checks = (self.check_finite, self.check_gradients)
        precision = self.precision

        def build(net, crit):
            def train_step(params, buffers, crit_buffers, opt_state, x, y, base_key, t):
                key = jax.random.fold_in(base_key, t)
                if precision.loss_scaling:  # float16: the scale rides with the optimizer state
                    opt_state, scale_state = opt_state
                    scaler = precision.scaler(scale_state)

                def loss_fn(p):
                    if precision.full:
                        out, new_buffers, _ = pure_call(net, p, buffers, x, True, key)
                    else:
                        pc, xc = precision.cast_params(p), precision.cast_input(x)
                        out, new_buffers, _ = pure_call(net, pc, buffers, xc, True, key)
                        out = precision.cast_output(out)
                        new_buffers = jax.tree.map(
                            lambda n, o: n.astype(o.dtype), new_buffers, buffers
                        )
                    with bound(crit, {}, crit_buffers, None, None):
                        _, target = crit.prepare(out, y)
                        loss = crit.loss(out, target)
                        bad = _bad_targets(crit, out, target)
                    scaled = scaler.scale(loss) if precision.loss_scaling else loss
                    return scaled, (loss, out, new_buffers, bad)

                (_, (loss, out, new_buffers, bad)), grads = jax.value_and_grad(
                    loss_fn, has_aux=True
                )(params)
                if precision.loss_scaling:
                    grads = scaler.unscale(grads)
                updates, new_opt = tx.update(grads, opt_state, params)
                new_params = optax.apply_updates(params, updates)
                # a bad target, a non-finite loss (or input, or gradient) leaves everything as
                # it was, and the loss reads NaN: the loop then stops and says why
                ok = jnp.isfinite(loss) & ~bad
                if checks[0]:
                    ok = ok & all_finite(x)
                if checks[1] and not precision.loss_scaling:  # overflow is expected there
                    ok = ok & all_finite(grads)
                loss = jnp.where(ok, loss, jnp.nan)
                # float16: scaled gradients that overflowed skip the step (the loss stays
                # finite, so training goes on) and halve the scale
                apply = ok & all_finite(grads) if precision.loss_scaling else ok

                def keep(new, old):
                    return jax.tree.map(lambda n, o: jnp.where(apply, n, o), new, old)

                new_opt = keep(new_opt, opt_state)
                if precision.loss_scaling:
                    adjusted = scaler.adjust(all_finite(grads))
                    new_opt = (new_opt, precision.scale_state(adjusted))
                return (
                    keep(new_params, params),
                    keep(new_buffers, buffers),
                    new_opt,
                    loss,
                    out,
                )

            return train_step

        return compiled.cached(
            "Engine.train",
            (network, criterion),
            build,
            extra=(tx_key, checks, precision.key),
            donate_argnums=(0, 1, 3),
        )

    # ---------------------------------------------------------------- helpers

    def _put(self, array: Any) -> jax.Array:
        if self.parallel is not None:
            return self.parallel.batch(array)
        return jnp.asarray(array)

    def _check_batch(self, network, criterion, params, buffers, x, y, where: str) -> None:
        """Shape inference (no compute) and the criterion's target checks, before tracing."""
        try:
            out = jax.eval_shape(
                lambda p, b, xx: network.call(p, b, xx, train=False)[0],
                params,
                buffers,
                jax.ShapeDtypeStruct(np.shape(x), jnp.result_type(x)),
            )
        except Exception as error:
            raise TrainingError(
                f"{where}: the network rejected a batch of inputs of shape {tuple(np.shape(x))}: "
                f"{error}"
            ) from error
        if criterion is not None:
            try:
                criterion.prepare(out, np.asarray(y))
            except Exception as error:
                raise TrainingError(f"{where}: bad targets for {criterion!r}: {error}") from error

    def _refused(self, network, criterion, params, buffers, out, x, y, where: str) -> str:
        """Why a step reported a NaN loss, in words (host-side; only after it did)."""
        if _has_target_check(criterion):
            try:
                criterion.prepare(np.asarray(out), _host(y))
            except Exception as error:
                return f"{where}: bad targets for {criterion!r}: {error}"
        try:
            why = explain_nonfinite(network, criterion, params, buffers, x, y)
        except Exception as error:  # the eager pass failed: say what the step saw
            why = f"the loss is nan (the eager pass that looks for the cause failed: {error})"
        return f"{where}: {why}"

    def _hook(self, name: str, state: dict) -> None:
        fn = self.hooks.get(name)
        if fn is not None:
            fn(state)

    def _bar(self, total: int, desc: str, control: Any = None) -> ProgressBar:
        stream = control.output if control is not None else None
        return ProgressBar(total, desc, stream=stream, enabled=self.progress)

    def _control(self) -> Any:
        """The background run this thread is executing, if it is one."""
        control = self._background
        if control is not None and control.thread is threading.current_thread():
            return control
        return None

    # ---------------------------------------------------------------- background control

    def _running(self, what: str) -> Any:
        control = self._background
        if control is None or not control.running:
            raise RuntimeError(
                f"Engine.{what}: no training is running in the background on this engine "
                "(start one with engine.train(..., background=True))"
            )
        return control

    def pause(self) -> Any:
        """Pause background training at the next step boundary (the network then holds the
        current parameters); returns its handle."""
        return self._running("pause").pause()

    def resume(self) -> Any:
        """Resume paused background training; returns its handle."""
        return self._running("resume").resume()

    def stop(self) -> dict:
        """Stop background training at the next step boundary; returns its final state."""
        return self._running("stop").stop()

    # ---------------------------------------------------------------- train

    def train(
        self,
        network: Module,
        iterator: Iterable,
        criterion: Any,
        optimizer: Any = "sgd",
        config: Mapping[str, Any] | None = None,
        maxepoch: int = 1,
        checkpoint: str | Path | None = None,
        background: bool = False,
    ) -> Any:
        """Train `network` for `maxepoch` epochs over `iterator`; returns the engine state.

        Args:
            network: an ``nn.Module``.
            iterator: iterable once per epoch, yielding ``(inputs, targets)`` batches
                (``nets.data.DatasetIterator``).
            criterion: an ``nn.Criterion``.
            optimizer: a name in ``nets.optim.names()`` (not lbfgs), an ``nets.optim``
                function, or an ``optax.GradientTransformation``.
            config: the optimizer's Torch7 config (``{'learningRate': 0.1, 'momentum': 0.9}``).
            maxepoch: train until ``state['epoch'] == maxepoch``.
            checkpoint: a path; if the file exists training resumes from it (parameters,
                buffers, optimizer state, epoch and step), and it is rewritten atomically after
                every epoch and when Ctrl-C stops training mid-epoch.
            background: run on a thread and return at once a `BackgroundTraining` handle
                (``engine.pause()``, ``resume()``, ``stop()`` act at a step boundary;
                ``with handle.lock:`` or ``with handle.paused():`` to evaluate the network
                meanwhile; see `nets.engine.background`).
        """
        if background:
            return self._train_in_background(
                network, iterator, criterion, optimizer, config, maxepoch, checkpoint
            )
        control = self._control()
        lock = control.lock if control is not None else nullcontext()
        tx, opt_name, tx_key = _transform(optimizer, config)
        params, buffers = _copy(network.split())
        # compiled init; _copy gives every leaf its own buffer, as each is donated on its own
        init = compiled.cached("optimizer.init", (), lambda: tx.init, extra=tx_key)
        opt_state = _copy(init(params))
        if self.precision.loss_scaling:
            opt_state = (opt_state, self.precision.initial_scale())
        state: dict[str, Any] = {
            "network": network,
            "iterator": iterator,
            "criterion": criterion,
            "optimizer": opt_name,
            "config": dict(config or {}),
            "maxepoch": maxepoch,
            "epoch": 0,
            "t": 0,
            "training": True,
            "sample": None,
            "output": None,
            "loss": None,
            "interrupted": False,
        }
        if control is not None:
            control.state = state
        skip = 0  # steps of the current epoch done before an interrupted run stopped
        seed = self.seed
        if checkpoint is not None and Path(checkpoint).is_file():
            params, buffers, opt_state, meta = load_training(checkpoint, network, opt_state)
            state["epoch"], state["t"] = int(meta["epoch"]), int(meta["t"])
            skip = int(meta.get("step_in_epoch", 0))
            if seed is None and isinstance(meta.get("seed"), int):
                seed = meta["seed"]  # the same dropout keys as the run that wrote it
        if self.parallel is not None:
            params, buffers, opt_state = self.parallel.replicate((params, buffers, opt_state))
        step = self._train_step(network, criterion, tx, tx_key)
        crit_buffers = tree(criterion).values(BUFFER)
        if seed is None:
            seed = int(_random.generator().integers(2**31))
        base_key = jax.random.key(seed)
        checked_shapes: set = set()

        def publish() -> None:
            """Give the network (and the state) current copies of the donated arrays."""
            with lock:
                state["params"], state["buffers"] = params, buffers
                state["optim_state"] = opt_state
                network.merge(*_copy((params, buffers)))

        try:
            with _InterruptGuard() as guard:
                self._hook("onStart", state)
                while state["epoch"] < maxepoch and not guard.stop:
                    epoch = state["epoch"] + 1
                    if hasattr(iterator, "set_epoch"):
                        iterator.set_epoch(state["epoch"])  # the same shuffle after a resume
                    self._hook("onStartEpoch", state)
                    bar = self._bar(
                        len(iterator) if hasattr(iterator, "__len__") else 0,
                        f"epoch {epoch}/{maxepoch}",
                        control,
                    )
                    running = 0.0
                    done = 0  # steps of this epoch done
                    steps = enumerate(iterator)
                    if control is not None:  # each step under its lock; pause/stop between
                        steps = control.steps(steps, guard, publish)
                    for k, sample in steps:
                        if k < skip:  # done before the interrupted run that wrote the checkpoint
                            done = k + 1
                            bar.update(1)
                            continue
                        state["sample"] = sample
                        self._hook("onSample", state)
                        x, y = state["sample"]
                        sig = (np.shape(x), np.shape(y))
                        if sig not in checked_shapes:
                            self._check_batch(
                                network,
                                criterion,
                                params,
                                buffers,
                                x,
                                y,
                                f"Engine.train (epoch {epoch}, step {k + 1})",
                            )
                            checked_shapes.add(sig)
                        where = f"Engine.train (epoch {epoch}, step {k + 1})"
                        _check_int32(criterion, y, where)
                        params, buffers, opt_state, loss, out = step(
                            params,
                            buffers,
                            crit_buffers,
                            opt_state,
                            self._put(x),
                            self._put(y),
                            base_key,
                            np.int32(state["t"]),
                        )
                        loss_value = float(loss)
                        if not math.isfinite(loss_value):
                            publish()
                            why = self._refused(
                                network, criterion, *network.split(), out, x, y, where
                            )
                            raise TrainingError(
                                f"{why}. Training stopped at iteration {state['t'] + 1} with the "
                                "parameters of the last good step (that update was not applied)"
                            )
                        state["output"], state["loss"] = out, loss_value
                        self._hook("onForward", state)
                        self._hook("onBackward", state)
                        state["t"] += 1
                        state["params"], state["optim_state"] = params, opt_state
                        self._hook("onUpdate", state)
                        running = loss_value if k == skip else 0.9 * running + 0.1 * loss_value
                        bar.update(1, loss=running)
                        done = k + 1
                        if guard.stop:
                            break
                    bar.close()
                    skip = 0
                    if guard.stop and not (hasattr(iterator, "__len__") and done == len(iterator)):
                        if checkpoint is not None and done:
                            publish()  # a step-exact checkpoint of the interrupted epoch
                            meta = {
                                "epoch": epoch - 1,
                                "t": state["t"],
                                "step_in_epoch": done,
                                "optimizer": opt_name,
                                "seed": seed,
                            }
                            save_training(checkpoint, network, opt_state, meta)
                        break
                    state["epoch"] = epoch
                    publish()
                    if self.check_finite and not bool(_finite((params, buffers))):
                        raise TrainingError(_nonfinite_parameters(network, epoch))
                    if checkpoint is not None:
                        meta = {
                            "epoch": epoch,
                            "t": state["t"],
                            "optimizer": opt_name,
                            "seed": seed,
                        }
                        save_training(checkpoint, network, opt_state, meta)
                    self._hook("onEndEpoch", state)
                state["interrupted"] = guard.stop
                publish()
                self._hook("onEnd", state)
        finally:
            try:
                publish()
            except RuntimeError:  # a second Ctrl-C inside a step: its inputs were donated
                pass  # the network keeps the copies of the last epoch end
        return state

    def _train_in_background(self, *args: Any) -> Any:
        from .background import BackgroundTraining

        if self._background is not None and self._background.running:
            raise RuntimeError(
                "Engine.train: this engine is already training in the background; "
                "engine.stop() it first, or use another Engine"
            )
        self._background = BackgroundTraining(self)
        return self._background.start(args, {})

    # ---------------------------------------------------------------- test

    def test(self, network: Module, iterator: Iterable, criterion: Any = None) -> dict:
        """Evaluate `network` (evaluation mode) over `iterator`: onStart, then per batch
        onSample and onForward (``state['output']``, ``state['loss']``), then onEnd.

        ``state['loss']`` ends as the mean batch loss when a criterion is given.
        """
        params, buffers = network.split()
        if self.parallel is not None:
            params, buffers = self.parallel.replicate((params, buffers))
        step = compiled.evaluation(network, criterion, params, buffers)
        state: dict[str, Any] = {
            "network": network,
            "iterator": iterator,
            "criterion": criterion,
            "training": False,
            "t": 0,
            "sample": None,
            "output": None,
            "loss": None,
        }
        checked: set = set()
        total = 0.0
        self._hook("onStart", state)
        for sample in iterator:
            state["sample"] = sample
            self._hook("onSample", state)
            x, y = state["sample"]
            if (np.shape(x), np.shape(y)) not in checked:
                self._check_batch(
                    network,
                    criterion,
                    params,
                    buffers,
                    x,
                    y,
                    f"Engine.test (step {state['t'] + 1})",
                )
                checked.add((np.shape(x), np.shape(y)))
            where = f"Engine.test (step {state['t'] + 1})"
            _check_int32(criterion, y, where)
            out, loss = step(self._put(x), self._put(y))
            state["output"], state["loss"] = out, float(loss)
            if not math.isfinite(state["loss"]) and _has_target_check(criterion):
                try:
                    criterion.prepare(np.asarray(out), _host(y))
                except Exception as error:
                    raise TrainingError(
                        f"{where}: bad targets for {criterion!r}: {error}"
                    ) from error
            total += state["loss"]
            state["t"] += 1
            self._hook("onForward", state)
        if criterion is not None and state["t"]:
            state["loss"] = total / state["t"]
        self._hook("onEnd", state)
        return state


_finite = jax.jit(all_finite)


def _nonfinite_parameters(network: Module, epoch: int) -> str:
    params, buffers = network.split()
    name = next(k for k, v in {**params, **buffers}.items() if not bool(jnp.all(jnp.isfinite(v))))
    return (
        f"Engine.train (end of epoch {epoch}): {name} is non-finite: a gradient went non-finite "
        "while the loss stayed finite. The epoch's checkpoint was not written; "
        "Engine(check_gradients=True) stops at the step that does it, naming the layer"
    )


def _bad_targets(crit: Any, out: Any, target: Any) -> jax.Array:
    """The criterion's in-step target check (`Criterion.bad_targets`); none for others."""
    check = getattr(crit, "bad_targets", None)
    return jnp.zeros((), bool) if check is None else check(out, target)


def _has_target_check(criterion: Any) -> bool:
    from ..nn.criterion import Criterion

    return (
        criterion is not None
        and isinstance(criterion, Criterion)
        and type(criterion).bad_targets is not Criterion.bad_targets
    )


def _host(y: Any) -> np.ndarray:
    return np.asarray(jax.device_get(y))


_INT32 = np.iinfo(np.int32)


def _check_int32(criterion: Any, y: Any, where: str) -> None:
    """Integer targets wider than int32 go to the device as int32: refuse those that would
    wrap (2**32 + 3 would train as 3), on the host, before the cast. Costs a min and a max
    over the batch's targets, and only for 64-bit ones."""
    if isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.dtype.itemsize > 4 and y.size:
        if y.min() < _INT32.min or y.max() > _INT32.max:
            i = int(np.flatnonzero((y < _INT32.min) | (y > _INT32.max))[0])
            raise TrainingError(
                f"{where}: bad targets for {criterion!r}: target {int(y.flat[i])} at position "
                f"{i} is beyond the int32 range of targets, so it cannot be a class index"
            )


class _Hooks(dict):
    """The hook table: only Torchnet's hook names are accepted."""

    def __setitem__(self, name: str, fn: Callable | None) -> None:
        if name not in HOOKS:
            raise KeyError(f"Engine: unknown hook {name!r}; valid hooks: {', '.join(HOOKS)}")
        if fn is not None and not callable(fn):
            raise TypeError(f"Engine: hook {name} must be callable, got {fn!r}")
        super().__setitem__(name, fn)

    def update(self, other=(), **hooks: Callable) -> None:
        for name, fn in dict(other, **hooks).items():
            self[name] = fn
