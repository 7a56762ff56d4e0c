"""Module: the Torch7 protocol over a pure functional core.

A layer is written the Torch way: it registers its parameters and buffers, and implements
``updateOutput(input)`` with ``jax.numpy``::

    class Scale(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n
            self.register_parameter("weight", jnp.ones(n))

        def updateOutput(self, input):
            self.output = input * self.weight
            return self.output

Everything else is derived from that one method:

* **The functional form.** ``params, buffers = m.split()`` gives flat dicts of arrays keyed by
  path (``'0.weight'``, ``'3.1.running_mean'``); ``out, new_buffers = m.call(params, buffers, x,
  train=True, key=key)`` is a pure function of them, safe under ``jax.jit``, ``jax.grad`` and
  ``jax.vmap``. It works by binding the given arrays (or tracers) into the module tree for the
  duration of one ``updateOutput`` call and restoring the module's own arrays afterwards.
* **The stateful Torch surface.** ``forward``/``backward``/``updateGradInput``/
  ``accGradParameters`` are thin shells that run compiled versions of ``call`` and its VJP, and
  write ``output``, ``gradInput`` and the ``grad*`` arrays back. Compiled code is cached per
  module and reused for same-shaped input; it is rebuilt only when a hyper-parameter changes.
  A sub-module's ``output`` after ``forward`` is computed when it is first read (see
  `_DeferredOutputs`), so a forward pass costs what the output alone costs.
* **Hand-written backward.** A subclass that also overrides ``updateGradInput`` (and
  ``accGradParameters``) has those used as its VJP (a ``jax.custom_vjp``), also inside compiled
  code, exactly as Torch7's developer docs describe.

Plain attributes set outside ``__init__`` are taken as hyper-parameter changes (compiled code is
rebuilt on next use), so ``updateOutput`` should set only ``self.output`` and registered arrays.

Parameters and buffers live in boxes registered by name (never found by walking ``__dict__``):
``share()`` makes two modules hold the same box, so shared weights stay shared under ``jit``.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import DeviceError, ModuleError, NetsError, shape_str
from . import compiler, weight_layout

# `_jit_cache` key of the HWIO copies of convolution weights that evaluate-mode forward reuses.
_HWIO = "hwio weights"

# Attributes that change at run time without changing what the compiled code must do.
_RUNTIME_ATTRS = frozenset({"output", "gradInput", "train"})

# Bumped whenever a hyper-parameter of any module changes; compiled code built under an older
# version is rebuilt on its next use.
_structure = {"version": 0}

# The PRNG key of the pure call being traced or run (see Module.next_key).
_call_context = threading.local()


def _bump_structure(*changing: Module) -> None:
    """Announce a change of structure or hyper-parameter of the `changing` modules; call it
    *before* making the change.

    Compiled code built under an older version is rebuilt on its next use, and sub-module
    outputs that a forward pass through any of `changing` still owes are computed now, by the
    network that ran. (A new layer registering its arrays is in no such network: building
    layers never triggers that work.)
    """
    for deferred in list(_DeferredOutputs.pending):
        if any(deferred.involves(m) for m in changing):
            deferred.resolve(strict=False)
    _structure["version"] += 1


_EMPTY: list = []


def _empty() -> jax.Array:
    """One shared empty float32 array: Torch7's fresh ``torch.Tensor()``."""
    if not _EMPTY:
        _EMPTY.append(jax.device_put(np.zeros((0,), np.float32)))
    return _EMPTY[0]


def to_array(value: Any) -> jax.Array:
    """A jax.Array for `value` (array, NumPy array, scalar or nested list), without compiling.

    ``jnp.asarray`` on a NumPy array compiles a small program per new shape in current JAX;
    ``jax.device_put`` only copies, with the same dtype rules (float64 -> float32 unless x64).
    """
    if isinstance(value, (jax.Array, jax.core.Tracer)):
        return value
    return jax.device_put(np.asarray(value))


def _zeros_like(value: jax.Array) -> jax.Array:
    """Zeros of value's shape, dtype and device, made on the host: no compilation per shape.

    (``jnp.zeros_like`` compiles a small program for every new shape, which made building a
    ResNet cost dozens of compilations.)
    """
    zeros = np.zeros(value.shape, value.dtype)
    devices = value.devices() if isinstance(value, jax.Array) else None
    if devices and len(devices) == 1:
        return jax.device_put(zeros, next(iter(devices)))
    return jax.device_put(zeros)


def _is_array(value: Any) -> bool:
    return isinstance(value, (jax.Array, np.ndarray))


class _Box:
    """A mutable cell holding one array; shared between modules by `share()`."""

    __slots__ = ("value", "kind")

    def __init__(self, value: Any, kind: str):
        self.value = value
        self.kind = kind  # 'param', 'buffer' or 'grad'


def grad_name(param: str) -> str:
    """Torch7's name for a parameter's gradient: weight -> gradWeight, bias -> gradBias."""
    return "grad" + param[0].upper() + param[1:]


class Module:
    """nn.Module(): the base class of every layer and container.

    Subclasses call ``super().__init__()``, register their arrays with ``register_parameter`` /
    ``register_buffer`` and implement ``updateOutput``. See the module docstring for the whole
    protocol.
    """

    # Parameters this layer hands `functional.conv2d` as (nOut, nIn/groups, kH, kW) weights,
    # with its ``groups`` attribute: evaluate-mode forward passes them to compiled code in the
    # layout XLA's convolutions read (`weight_layout`).
    conv_weights: tuple[str, ...] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_vars", {})
        object.__setattr__(self, "_jit_cache", {})
        object.__setattr__(self, "_pending_vjp", None)
        # Torch7 starts both as empty tensors; setting gradInput to None (Torch's `nil`) tells
        # backward not to compute the gradient with respect to the input.
        self.output = _empty()
        self.gradInput = _empty()
        self.train = True

    # ------------------------------------------------------------------ registry

    def register_parameter(self, name: str, value: Any) -> None:
        """Declare a trainable array (and its zero-initialised gradient ``grad<Name>``)."""
        value = to_array(value)
        _bump_structure(self)
        self._vars[name] = _Box(value, "param")
        self._vars[grad_name(name)] = _Box(_zeros_like(value), "grad")

    def register_buffer(self, name: str, value: Any) -> None:
        """Declare a non-trainable array that the module updates itself (running statistics)."""
        value = to_array(value)
        _bump_structure(self)
        self._vars[name] = _Box(value, "buffer")

    def unregister(self, name: str) -> None:
        """Remove a registered array (and a parameter's gradient); the attribute reads None."""
        _bump_structure(self)
        box = self._vars.pop(name, None)
        if box is not None and box.kind == "param":
            self._vars.pop(grad_name(name), None)
        object.__setattr__(self, name, None)

    def _names(self, kind: str) -> list[str]:
        return [n for n, b in self._vars.items() if b.kind == kind]

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: that is how registered arrays are read.
        vars_ = self.__dict__.get("_vars")
        if vars_ is None:
            raise _uninitialised(self, name)
        if name in vars_:
            return vars_[name].value
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        vars_ = self.__dict__.get("_vars")
        if vars_ is None:
            raise _uninitialised(self, name)
        if name in vars_:
            box = vars_[name]
            if value is None:
                raise ModuleError(self._describe(), f"{name} is a registered array; got None")
            box.value = to_array(value)
            return
        if (
            not name.startswith("_")
            and name not in _RUNTIME_ATTRS
            and not _is_array(value)
            and not _same(self.__dict__.get(name, _MISSING), value)
        ):
            _bump_structure(self)
        object.__setattr__(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_vars", {})))

    @property
    def output(self) -> Any:
        """The last forward pass's output (Torch7's ``module.output``)."""
        value = self.__dict__.get("_output")
        if isinstance(value, _DeferredOutputs):
            value.resolve()
            value = self.__dict__.get("_output")
        return value

    @output.setter
    def output(self, value: Any) -> None:
        self.__dict__["_output"] = value

    # ------------------------------------------------------------------ tree walking

    def children(self) -> list[Module]:
        """The direct sub-modules (a container's ``modules``; none for a layer)."""
        return list(self.__dict__.get("modules", ()))

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(path, module) pairs, this module first, depth first; paths are '0', '3.1', ..."""
        yield prefix, self
        for i, child in enumerate(self.children()):
            yield from child.named_modules(f"{prefix}.{i}" if prefix else str(i))

    def listModules(self) -> list[Module]:
        """This module and all its descendants, depth first (Torch7 order)."""
        return list(self._tree()["modules"])

    def findModules(self, typename: str | type) -> list[Module]:
        """All modules of a type: a class, 'SpatialConvolution' or 'nn.SpatialConvolution'."""
        if isinstance(typename, type):
            return [m for m in self.listModules() if isinstance(m, typename)]
        name = typename[3:] if typename.startswith("nn.") else typename
        return [m for m in self.listModules() if type(m).__name__ == name]

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on this module and every descendant (Torch7's ``apply``)."""
        for m in self.listModules():
            fn(m)
        return self

    def _tree(self) -> dict:
        """Walks of the tree that only change with its structure, cached per structure version."""
        cached = self.__dict__.get("_tree_cache")
        if cached is not None and cached["version"] == _structure["version"]:
            return cached
        named = list(self.named_modules())
        cached = {
            "version": _structure["version"],
            "named": named,
            "modules": [m for _, m in named],
            "by_path": dict(named),
            "param": self._walk_boxes(("param",)),
            "buffer": self._walk_boxes(("buffer",)),
            "param+buffer": self._walk_boxes(("param", "buffer")),
            "grad": self._walk_grad_boxes(),
        }
        object.__setattr__(self, "_tree_cache", cached)
        return cached

    def _boxes(self, kinds: tuple[str, ...]) -> dict[str, _Box]:
        """Path-keyed boxes of the given kinds, each shared box once (at its first path)."""
        return self._tree()["+".join(kinds)]

    def _walk_boxes(self, kinds: tuple[str, ...]) -> dict[str, _Box]:
        seen: set[int] = set()
        out: dict[str, _Box] = {}
        for path, m in self.named_modules():
            for name, box in m._vars.items():
                if box.kind in kinds and id(box) not in seen:
                    seen.add(id(box))
                    out[f"{path}.{name}" if path else name] = box
        return out

    # ------------------------------------------------------------------ functional form

    def split(self) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
        """The module's state as two flat dicts of arrays: ``(params, buffers)``.

        Keys are paths (``'0.weight'``); a shared parameter appears once. Together with `call`
        this is the pure functional form of the module.
        """
        params = {k: b.value for k, b in self._boxes(("param",)).items()}
        buffers = {k: b.value for k, b in self._boxes(("buffer",)).items()}
        return params, buffers

    def merge(self, params: dict | None = None, buffers: dict | None = None) -> Module:
        """Write arrays from `split`-shaped dicts back into the module (missing keys are kept)."""
        for tree, kind in ((params, "param"), (buffers, "buffer")):
            if tree is None:
                continue
            boxes = self._boxes((kind,))
            unknown = sorted(set(tree) - set(boxes))
            if unknown:
                raise ModuleError(
                    self._describe(),
                    f"merge got unknown {kind} names {unknown}; expected some of {sorted(boxes)}",
                )
            for k, v in tree.items():
                boxes[k].value = to_array(v)
        return self

    def call(
        self,
        params: dict,
        buffers: dict,
        input: Any,
        *,
        train: bool | None = None,
        key: jax.Array | None = None,
    ) -> tuple[Any, dict]:
        """Pure forward pass: ``(output, new_buffers)``, the module itself left unchanged.

        Args:
            params, buffers: dicts as returned by `split` (arrays or tracers).
            input: the input array (or list of arrays for table modules).
            train: training mode for every module; None keeps each module's own flag.
            key: a JAX PRNG key for dropout; None uses a fixed key (deterministic).
        """
        out, new_buffers, _ = self._pure(params, buffers, input, train, key, collect=False)
        return out, new_buffers

    def _pure(self, params, buffers, input, train, key, collect):
        with self._bound(params, buffers, train, key):
            output = self._run(input)
            new_buffers = {k: b.value for k, b in self._boxes(("buffer",)).items()}
            outputs = {}
            if collect:
                for path, m in self._tree()["named"]:
                    if path and _is_array_tree(m.output):
                        outputs[path] = m.output
        return output, new_buffers, outputs

    @contextlib.contextmanager
    def _bound(self, params, buffers, train, key):
        """Temporarily put `params`/`buffers` (arrays or tracers) into the module tree."""
        pboxes = self._boxes(("param",))
        bboxes = self._boxes(("buffer",))
        for tree, boxes, kind in ((params, pboxes, "params"), (buffers, bboxes, "buffers")):
            if set(tree) != set(boxes):
                missing = sorted(set(boxes) - set(tree))
                extra = sorted(set(tree) - set(boxes))
                raise ModuleError(
                    self._describe(),
                    f"call expected {kind} with keys {sorted(boxes)}; "
                    f"missing {missing}, unexpected {extra}",
                )
        modules = self.listModules()
        saved_values = {id(b): (b, b.value) for b in [*pboxes.values(), *bboxes.values()]}
        saved_attrs = [
            (m, m.__dict__.get("_output"), m.__dict__.get("gradInput"), m.train) for m in modules
        ]
        saved_key = getattr(_call_context, "key", None)
        try:
            for k, v in params.items():
                pboxes[k].value = v
            for k, v in buffers.items():
                bboxes[k].value = v
            for m in modules:
                if isinstance(m.__dict__.get("_output"), _DeferredOutputs):
                    m.__dict__["_output"] = _empty()  # not owed inside this call
                if train is not None:
                    object.__setattr__(m, "train", bool(train))
            _call_context.key = _KeyStream(key)
            yield
        finally:
            for box, value in saved_values.values():
                box.value = value
            for m, out, gin, tr in saved_attrs:
                m.__dict__["_output"] = out
                object.__setattr__(m, "gradInput", gin)
                object.__setattr__(m, "train", tr)
            _call_context.key = saved_key

    def next_key(self) -> jax.Array:
        """A PRNG key for randomness inside ``updateOutput`` (e.g. dropout masks).

        Inside a pure call the keys derive from the call's `key` argument; outside one (an eager
        ``updateOutput`` call) they come from the global stream of `nets.manual_seed`.
        """
        stream = getattr(_call_context, "key", None)
        if stream is None:
            return _random.next_key()
        return stream.next()

    def _run(self, input: Any) -> Any:
        """updateOutput with the module's error context, and its custom VJP if it has one."""
        try:
            if self._has_custom_backward():
                out = _custom_backward_call(self, input)
                self.output = out
            else:
                out = self.updateOutput(input)
        except NetsError:
            raise
        except Exception as e:  # an error from jax inside the layer: name the layer
            raise ModuleError(self._describe(), f"{type(e).__name__}: {e}") from e
        return out

    def _has_custom_backward(self) -> bool:
        return type(self).updateGradInput is not Module.updateGradInput

    # ------------------------------------------------------------------ compiled calls

    def _signature(self) -> tuple:
        return (_structure["version"], tuple(m.train for m in self.listModules()))

    def _compiled(self, kind: str) -> Callable:
        return self._compiled_entry(kind)[1]

    def _compiled_entry(self, kind: str) -> tuple:
        """``(signature, compiled function, its HWIO weight keys)``, rebuilt when stale."""
        sig = self._signature()
        entry = self._jit_cache.get(kind)
        if entry is None or entry[0] != sig:
            fn = _BUILDERS[kind](self)
            entry = (sig, compiler.jit(fn), getattr(fn, "hwio_paths", frozenset()))
            self._jit_cache[kind] = entry
        return entry

    def _write_back(self, new_buffers: dict) -> None:
        if new_buffers:
            boxes = self._boxes(("buffer",))
            for k, v in new_buffers.items():
                boxes[k].value = v

    # ------------------------------------------------------------------ Torch surface

    def updateOutput(self, input: Any) -> Any:
        """Compute ``self.output`` from `input` (override this; the default is the identity)."""
        self.output = input
        return self.output

    def forward(self, input: Any) -> Any:
        """Compute and return the output (compiled; sets ``output`` on every sub-module).

        In training mode the pass also keeps what ``backward`` needs, so a following
        ``backward(input, gradOutput)`` on the same input does not recompute the forward pass.
        """
        given = input
        input = _as_input(input)
        params, buffers = self.split()
        raw_key = _random.next_key_data()
        if self.train:
            # Keep the VJP even without parameters: a Dropout's backward must see its own mask.
            self._jit_cache.pop(_HWIO, None)  # weights change every step: hold no copies
            fn = self._compiled("forward_vjp")
            out, new_buffers, vjp_fn = fn(params, buffers, input, raw_key)
            object.__setattr__(self, "_pending_vjp", (given, vjp_fn))
        else:
            _, fn, hwio = self._compiled_entry("forward")
            fed = weight_layout.prepare(params, hwio, self._jit_cache.setdefault(_HWIO, {}))
            out, new_buffers = fn(fed, buffers, input, raw_key)
            object.__setattr__(self, "_pending_vjp", None)
        _DeferredOutputs(self, params, buffers, input, raw_key)
        self._write_back(new_buffers)
        self.output = out
        return out

    __call__ = forward

    def _vjp(self, input: Any, gradOutput: Any, with_input: bool = True) -> tuple[dict, Any]:
        """(parameter gradients, gradInput or None) for the last forward's input, compiled.

        Without `with_input`, XLA drops the input gradient's computation from the program: for
        a first convolution with few input planes it can cost more than all the rest.
        """
        pending = self._pending_vjp
        gradOutput = _as_input(gradOutput)
        suffix = "" if with_input else "_params"
        if pending is not None and pending[0] is input:
            return self._compiled("apply_vjp" + suffix)(pending[1], gradOutput)
        params, buffers = self.split()
        return self._compiled("vjp" + suffix)(
            params, buffers, _as_input(input), gradOutput, _random.next_key_data()
        )

    def _wants_grad_input(self) -> bool:
        """False when this module, or the first module of its chain, has gradInput = None."""
        m = self
        while True:
            if m.__dict__.get("gradInput", _MISSING) is None:
                return False
            children = m.children()
            if not (getattr(m, "_feeds_first_child", False) and children):
                return True
            m = children[0]

    def backward(self, input: Any, gradOutput: Any, scale: float = 1.0) -> Any:
        """updateGradInput + accGradParameters in one compiled pass; returns ``gradInput``.

        As in Torch7, ``module.gradInput = None`` (Torch's ``gradInput = nil``) on this module,
        or on the first module of a Sequential, skips the gradient with respect to the input:
        backward then returns None. Training loops that never read it save that work (on the
        seed's LeNet, the first convolution's input gradient is most of the backward pass).
        """
        with_input = self._wants_grad_input()
        gparams, gin = self._vjp(input, gradOutput, with_input)
        self._accumulate(gparams, scale)
        if with_input:
            self.gradInput = gin
        return gin

    def updateGradInput(self, input: Any, gradOutput: Any) -> Any:
        """Compute ``self.gradInput`` (derived by autodiff unless a subclass overrides it)."""
        _, gin = self._vjp(input, gradOutput)
        self.gradInput = gin
        return gin

    def accGradParameters(self, input: Any, gradOutput: Any, scale: float = 1.0) -> None:
        """Add ``scale`` times the parameter gradients to ``grad*`` (autodiff unless overridden)."""
        gparams, _ = self._vjp(input, gradOutput)
        self._accumulate(gparams, scale)

    def accUpdateGradParameters(self, input: Any, gradOutput: Any, lr: float) -> None:
        """Update the parameters directly by ``-lr`` times their gradient (Torch7)."""
        gparams, _ = self._vjp(input, gradOutput)
        boxes = self._boxes(("param",))
        new = _axpy(-float(lr), gparams, {k: b.value for k, b in boxes.items()})
        for k, v in new.items():
            boxes[k].value = v

    def _accumulate(self, gparams: dict, scale: float) -> None:
        if not gparams:
            return
        grads = self._grad_boxes()
        new = _axpy(float(scale), gparams, {k: grads[k].value for k in gparams})
        for k, v in new.items():
            grads[k].value = v

    def _grad_boxes(self) -> dict[str, _Box]:
        """Gradient boxes keyed by the path of their parameter (``'0.weight'``)."""
        return self._tree()["grad"]

    def _walk_grad_boxes(self) -> dict[str, _Box]:
        out: dict[str, _Box] = {}
        seen: set[int] = set()
        for path, m in self.named_modules():
            for name, box in m._vars.items():
                if box.kind == "param" and id(box) not in seen:
                    seen.add(id(box))
                    out[f"{path}.{name}" if path else name] = m._vars[grad_name(name)]
        return out

    def zeroGradParameters(self) -> None:
        """Set every gradient to zero."""
        for box in self._grad_boxes().values():
            box.value = _zeros_like(box.value)

    def updateParameters(self, learningRate: float) -> None:
        """``param -= learningRate * gradParam`` for every parameter."""
        params = self._boxes(("param",))
        grads = self._grad_boxes()
        new = _axpy(
            -float(learningRate),
            {k: grads[k].value for k in params},
            {k: b.value for k, b in params.items()},
        )
        for k, v in new.items():
            params[k].value = v

    def parameters(self) -> tuple[list[jax.Array], list[jax.Array]]:
        """``(params, gradParams)``: two lists of arrays in module order (Torch7)."""
        params = self._boxes(("param",))
        grads = self._grad_boxes()
        return [b.value for b in params.values()], [grads[k].value for k in params]

    def getParameters(self) -> tuple[jax.Array, jax.Array]:
        """``(flatParams, flatGradParams)``: all parameters (and gradients) as two 1-D arrays.

        JAX arrays are immutable, so unlike Torch7 the flat vector is a copy: write an updated
        vector back with `setParameters` (e.g. after ``x, fx = optim.sgd(feval, x, config)``).
        """
        params, grads = self.parameters()
        if not params:
            empty = jnp.zeros((0,), jnp.float32)
            return empty, empty
        return (
            jnp.concatenate([p.ravel() for p in params]),
            jnp.concatenate([g.ravel() for g in grads]),
        )

    def setParameters(self, flat: Any) -> Module:
        """Write a flat vector (as from `getParameters`) back into the parameters."""
        flat = to_array(flat)
        boxes = list(self._boxes(("param",)).values())
        total = sum(int(np.prod(b.value.shape)) for b in boxes)
        if flat.ndim != 1 or flat.shape[0] != total:
            raise ModuleError(
                self._describe(),
                f"setParameters expected a 1-D vector of {total} values, got {shape_str(flat)}",
            )
        offset = 0
        for b in boxes:
            n = int(np.prod(b.value.shape))
            b.value = flat[offset : offset + n].reshape(b.value.shape).astype(b.value.dtype)
            offset += n
        return self

    def training(self) -> Module:
        """Training mode for this module and its descendants (dropout on, BN batch stats)."""
        for m in self.listModules():
            m.train = True
        return self

    def evaluate(self) -> Module:
        """Evaluation mode for this module and its descendants."""
        for m in self.listModules():
            m.train = False
        return self

    def reset(self, *args: Any) -> Module:
        """Re-initialise parameters (layers override with Torch7's scheme)."""
        return self

    # ------------------------------------------------------------------ copies and sharing

    def clone(self, *names: str) -> Module:
        """A deep copy; with names (``'weight', 'bias', 'gradWeight'``), shares those with self."""
        new = copy.deepcopy(self)
        if names:
            new.share(self, *names)
        return new

    def __deepcopy__(self, memo: dict) -> Module:
        new = object.__new__(type(self))
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k == "_tree_cache":
                continue
            if k == "_jit_cache":
                v = {}
            elif k == "_pending_vjp":
                v = None
            elif k in ("_output", "gradInput"):
                v = None if v is None else _empty()
            else:
                v = copy.deepcopy(v, memo)
            object.__setattr__(new, k, v)
        return new

    def share(self, other: Module, *names: str) -> Module:
        """Make this module use `other`'s arrays for `names`, in every pair of sub-modules."""
        mine, theirs = self.listModules(), other.listModules()
        if len(mine) != len(theirs):
            raise ModuleError(
                self._describe(), f"share expected a module of the same structure, got {other!r}"
            )
        _bump_structure(self)
        for a, b in zip(mine, theirs, strict=True):
            for name in names:
                if name in a._vars and name in b._vars:
                    a._vars[name] = b._vars[name]
        return self

    # ------------------------------------------------------------------ types and devices

    def type(self, dtype: Any = None) -> Any:
        """Without argument, the parameters' dtype name; with one, cast every array to it."""
        if dtype is None:
            boxes = self._boxes(("param", "buffer"))
            first = next(iter(boxes.values()), None)
            return str(first.value.dtype) if first is not None else "float32"
        dtype = jnp.dtype(dtype)
        if dtype == jnp.float64 and not jax.config.jax_enable_x64:
            raise NetsError(
                "double(): 64-bit floats are switched off in JAX, so the arrays would stay "
                "float32.\nhelp: start with JAX_ENABLE_X64=1 in the environment, or call "
                "jax.config.update('jax_enable_x64', True) before creating the network."
            )
        for m in self.listModules():
            for box in m._vars.values():
                if jnp.issubdtype(box.value.dtype, jnp.floating):
                    box.value = box.value.astype(dtype)
        return self

    def float(self) -> Module:
        """Cast every floating-point array to float32."""
        return self.type(jnp.float32)

    def double(self) -> Module:
        """Cast every floating-point array to float64 (needs JAX's x64 mode)."""
        return self.type(jnp.float64)

    def to(self, device: Any) -> Module:
        """Place every array on `device` (a jax.Device, or 'cpu', 'gpu', 'cuda', 'gpu:1')."""
        dev = _resolve_device(device)
        for m in self.listModules():
            for box in m._vars.values():
                box.value = jax.device_put(box.value, dev)
        return self

    def cuda(self, index: int = 0) -> Module:
        """Move to GPU `index` (a clear error, naming JAX's devices, where there is none)."""
        return self.to(f"gpu:{index}")

    def cpu(self) -> Module:
        """Move to the CPU."""
        return self.to("cpu")

    # ------------------------------------------------------------------ printing

    def _describe(self) -> str:
        """One line naming the module, used in error messages."""
        return repr(self).split("\n", 1)[0].rstrip(" {")

    def __repr__(self) -> str:
        return _type_name(self)


_MISSING = object()


def _uninitialised(module: Module, name: str) -> NetsError:
    cls = type(module).__name__
    return NetsError(
        f"{cls}.{name}: this module was never initialised.\n"
        f"A subclass of nn.Module must call super().__init__() at the start of its __init__, "
        f"before it sets attributes or registers parameters.\n"
        f"help: add `super().__init__()` as the first line of {cls}.__init__."
    )


def _same(old: Any, new: Any) -> bool:
    """Whether setting `new` over `old` leaves the module's structure as it was."""
    if old is new:
        return True
    if isinstance(new, (int, float, str, bool, tuple, type(None))) and type(old) is type(new):
        try:
            return bool(old == new)
        except Exception:
            return False
    return False


def _type_name(module: Module) -> str:
    """``nn.Linear`` for library classes, the plain class name for a user's own."""
    cls = type(module)
    if cls.__module__.startswith("nets.nn"):
        return "nn." + cls.__name__
    return cls.__name__


def _is_array_tree(value: Any) -> bool:
    if value is None:
        return False
    leaves = jax.tree_util.tree_leaves(value)
    return bool(leaves) and all(isinstance(x, (jax.Array, jax.core.Tracer)) for x in leaves)


def _as_input(x: Any) -> Any:
    if isinstance(x, np.ndarray) or isinstance(x, (np.generic, float, int)):
        return to_array(x)
    if isinstance(x, (list, tuple)):
        return [_as_input(v) for v in x]
    return x


class _KeyStream:
    """Hands out distinct keys within one pure call, derived from its `key` argument."""

    def __init__(self, key):
        self.key = key
        self.count = 0

    def next(self):
        if self.key is None:
            self.key = jax.random.key(0)
        self.count += 1
        return jax.random.fold_in(self.key, self.count)


@jax.jit
def _axpy(a, x: dict, y: dict) -> dict:
    return jax.tree_util.tree_map(lambda xi, yi: yi + a * xi.astype(yi.dtype), x, y)


def _resolve_device(device: Any):
    if isinstance(device, jax.Device):
        return device
    name = str(device).lower()
    platform, _, index = name.partition(":")
    if platform == "cuda":
        platform = "gpu"
    try:
        devices = jax.devices(platform)
    except RuntimeError:
        devices = []
    idx = int(index) if index else 0
    if idx >= len(devices):
        seen = ", ".join(str(d) for d in jax.devices())
        raise DeviceError(
            f"cannot move to {device!r}: JAX sees no such device (it sees: {seen}). "
            "Install the CUDA build of JAX (pip install 'trepl[cuda]') on a machine with a GPU."
        )
    return devices[idx]


# ---------------------------------------------------------------------- custom backward


def _custom_backward_call(module: Module, input: Any) -> Any:
    """Run `module.updateOutput` under a custom VJP made of its own backward methods."""
    pnames = module._names("param")
    pvals = {n: module._vars[n].value for n in pnames}

    @contextlib.contextmanager
    def values(vals):
        saved = {n: module._vars[n].value for n in vals}
        try:
            for n, v in vals.items():
                module._vars[n].value = v
            yield
        finally:
            for n, v in saved.items():
                module._vars[n].value = v

    @jax.custom_vjp
    def f(vals, x):
        with values(vals):
            return module.updateOutput(x)

    def fwd(vals, x):
        return f(vals, x), (vals, x)

    own_acc = type(module).accGradParameters is not Module.accGradParameters

    def param_grads_by_autodiff(vals, x, g):
        def out_of(v):
            with values(v):
                return module.updateOutput(x)

        return jax.vjp(out_of, vals)[1](g)[0]

    def bwd(res, g):
        vals, x = res
        grads = {grad_name(n): jnp.zeros_like(v) for n, v in vals.items()}
        with values({**vals, **grads}):
            module.updateOutput(x)
            gin = module.updateGradInput(x, g)
            if own_acc:
                module.accGradParameters(x, g, 1.0)
                gvals = {n: module._vars[grad_name(n)].value for n in vals}
        if not own_acc:
            # Only updateGradInput is hand-written: parameter gradients come from autodiff.
            gvals = param_grads_by_autodiff(vals, x, g) if vals else {}
        return gvals, gin

    f.defvjp(fwd, bwd)
    return f(pvals, input)


class _DeferredOutputs:
    """The sub-module outputs one `Module.forward` call owes, computed when first read.

    Torch7 code reads ``net.modules[i].output`` after ``net:forward(x)``. Returning every
    intermediate array from the compiled forward pass made it a third slower (ResNet-18
    inference at 8x3x224x224: 473 ms against 371), so ``forward`` compiles the output alone
    and leaves this record in each sub-module's ``output``. The first read of any of them runs
    the network once more on the same parameters, buffers, input and PRNG key, with each
    module in the training mode it had, and writes all the owed outputs: the values are those
    the forward pass computed. `_bump_structure` settles a record before any module of its
    network changes, so a later read never sees a network that did not run.
    """

    pending: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, root: Module, params, buffers, input, raw_key) -> None:
        named = root._tree()["named"]
        self.root: Module | None = root
        self.args = (params, buffers, input, raw_key)
        self.modes = [(m, m.train) for _, m in named]
        self.owed = [m for path, m in named if path]
        self.members = {id(m) for _, m in named}
        for m in self.owed:
            m.__dict__["_output"] = self
        if self.owed:
            _DeferredOutputs.pending.add(self)

    def involves(self, module: Module) -> bool:
        """Whether `module` took part in the pass (so changing it must settle the record)."""
        return self.root is not None and id(module) in self.members

    def resolve(self, strict: bool = True) -> None:
        """Compute and write the owed outputs (once). With ``strict=False`` a failure leaves
        them empty instead of raising: a network about to change must not fail to change."""
        root, args = self.root, self.args
        if root is None:  # settled already, or being settled further up the stack
            return
        self.root = self.args = None
        _DeferredOutputs.pending.discard(self)
        current = [(m, m.train) for m, _ in self.modes]
        try:
            for m, flag in self.modes:
                object.__setattr__(m, "train", flag)
            outputs = root._compiled("outputs")(*args)
            by_path = root._tree()["by_path"]
            for path, out in outputs.items():
                if by_path[path].__dict__.get("_output") is self:
                    by_path[path].__dict__["_output"] = out
        except Exception:
            if strict:
                raise
        finally:
            for m, flag in current:
                object.__setattr__(m, "train", flag)
            for m in self.owed:  # a non-array output (or a failure): Torch's empty tensor
                if m.__dict__.get("_output") is self:
                    m.__dict__["_output"] = _empty()


# ---------------------------------------------------------------------- compiled builders


def _wrap_key(raw):
    return jax.random.wrap_key_data(raw, impl="threefry2x32")


def _build_forward(m: Module):
    """Evaluate-mode forward; it takes some convolution weights as HWIO (`weight_layout`)."""
    hwio = weight_layout.hwio_paths(m)

    def forward(params, buffers, x, raw_key):
        params = weight_layout.restore(params, hwio)
        return m._pure(params, buffers, x, None, _wrap_key(raw_key), collect=False)[:2]

    forward.hwio_paths = hwio
    return forward


def _build_outputs(m: Module):
    def outputs(params, buffers, x, raw_key):
        return m._pure(params, buffers, x, None, _wrap_key(raw_key), collect=True)[2]

    return outputs


def _build_forward_vjp(m: Module):
    def forward_vjp(params, buffers, x, raw_key):
        key = _wrap_key(raw_key)

        def f(p, xx):
            out, new_b, _ = m._pure(p, buffers, xx, None, key, collect=False)
            return out, new_b

        out, vjp_fn, new_b = jax.vjp(f, params, x, has_aux=True)
        return out, new_b, vjp_fn

    return forward_vjp


def _build_apply_vjp_params(m: Module):
    def apply_vjp_params(vjp_fn, g):
        return vjp_fn(g)[0], None

    return apply_vjp_params


def _build_vjp_params(m: Module):
    def vjp_params(params, buffers, x, g, raw_key):
        key = _wrap_key(raw_key)

        def f(p):
            return m._pure(p, buffers, x, None, key, collect=False)[0]

        _, vjp_fn = jax.vjp(f, params)
        return vjp_fn(g)[0], None

    return vjp_params


def _build_apply_vjp(m: Module):
    def apply_vjp(vjp_fn, g):
        return vjp_fn(g)

    return apply_vjp


def _build_vjp(m: Module):
    def vjp(params, buffers, x, g, raw_key):
        key = _wrap_key(raw_key)

        def f(p, xx):
            return m._pure(p, buffers, xx, None, key, collect=False)[0]

        _, vjp_fn = jax.vjp(f, params, x)
        return vjp_fn(g)

    return vjp


_BUILDERS = {
    "forward": _build_forward,
    "outputs": _build_outputs,
    "forward_vjp": _build_forward_vjp,
    "apply_vjp": _build_apply_vjp,
    "vjp": _build_vjp,
    "apply_vjp_params": _build_apply_vjp_params,
    "vjp_params": _build_vjp_params,
}
