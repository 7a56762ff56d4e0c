"""Module: the Torch7 protocol over a pure functional core.

A layer is written the Torch way: it sets its arrays in its constructor and implements
``updateOutput(input)`` with ``jax.numpy``::

    class Scale(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = jnp.ones(n)          # a parameter, with gradWeight, as in Torch7

        def updateOutput(self, input):
            self.output = input * self.weight
            return self.output

The arrays a module holds, by the name it assigns them:

* ``weight`` and ``bias`` are parameters, with ``gradWeight`` and ``gradBias`` (Torch7's
  ``parameters()``); `register_parameter` declares a parameter of any other name;
* any other array attribute is a buffer: state that moves with ``type()``/``to()`` and is saved
  in checkpoints (running statistics); `register_buffer` says so explicitly;
* everything else (numbers, strings, tuples) is a hyper-parameter: part of the module's
  description (`nets.nn.structure`), so changing one rebuilds the compiled code of the
  networks that contain the module, and of no other.

Everything else is derived from ``updateOutput``:

* **The functional form.** ``params, buffers = m.split()`` gives flat dicts of arrays keyed by
  path (``'0.weight'``); ``out, new_buffers = m.call(params, buffers, x, train=True, key=key)``
  is a pure function of them (`nets.nn.binding`), safe under ``jax.jit``, ``jax.grad`` and
  ``jax.vmap``.
* **The stateful Torch surface.** ``forward``/``backward``/``updateGradInput``/
  ``accGradParameters`` run compiled versions of ``call`` and its VJP (`nets.nn.compiled`) and
  write ``output``, ``gradInput`` and the ``grad*`` arrays back. Sub-module outputs are
  computed when first read (`nets.nn.deferred`).
* **Inside a JAX transformation** (``jax.jit``, ``jax.grad``, ``jax.vmap``, ``jax.eval_shape``,
  ``jax.export``), ``forward``, ``backward`` and ``__call__`` run the pure call inline and
  return its result; they leave the module's state (``output``, buffers, gradients) as it was,
  since traced values must not outlive the trace.
* **Hand-written backward.** A subclass that also overrides ``updateGradInput`` (and
  ``accGradParameters``) has those used as its VJP (`nets.nn.custom_backward`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random
from .._errors import ModuleError, NetsError, shape_str
from . import compiled, custom_backward
from .binding import handoffs, next_key, pure_call
from .deferred import DeferredOutputs
from .devices import resolve_device
from .node import Node, as_parents
from .state import (
    BUFFER,
    GRAD,
    PARAM,
    TORCH_PARAMETERS,
    Box,
    as_input,
    contains_tracer,
    empty,
    grad_name,
    is_abstract,
    is_array,
    is_tracer,
    param_of_grad,
    to_array,
    zeros_like,
)
from .structure import RUNTIME_ATTRS, touch, tree

try:  # whether any JAX transformation is being traced now (a closed-over input is no tracer)
    from jax._src.core import trace_state_clean as _trace_state_clean
except ImportError:  # pragma: no cover - another JAX: tracers among the arguments decide
    _trace_state_clean = None


_MISSING = object()


class Module:
    """nn.Module(): the base class of every layer and container.

    Subclasses call ``super().__init__()``, set their arrays (``self.weight = ...``, or
    ``register_parameter`` / ``register_buffer``) and implement ``updateOutput``. See the
    module docstring for the whole protocol.
    """

    # Parameters this layer hands the convolution as (nOut, nIn/groups, kH, kW) weights, with
    # its ``groups`` attribute: compiled inference may take them in XLA's layout
    # (`nets.nn.weight_layout`).
    conv_weights: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's constructor records the arguments of the outermost call in
        ``_init_args``: a checkpoint rebuilds the module by calling it again (`nets.load`)."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self, *args: Any, **kw: Any) -> None:
            if "_init_args" not in self.__dict__:
                self.__dict__["_init_args"] = (args, kw)
            init(self, *args, **kw)

        cls.__init__ = recording_init

    def __init__(self) -> None:
        d = self.__dict__
        d["_vars"] = {}
        d["_version"] = 0
        d["_pending_vjp"] = None
        d.setdefault("_init_args", ((), {}))  # a class without a constructor of its own
        # Torch7 starts both as empty tensors; setting gradInput to None (Torch's `nil`) tells
        # backward not to compute the gradient with respect to the input.
        self.output = empty()
        self.gradInput = empty()
        self.train = True

    # ------------------------------------------------------------------ registry

    def register_parameter(self, name: str, value: Any) -> None:
        """Declare a trainable array (and its zero-initialised gradient ``grad<Name>``)."""
        value = self._storable(name, value)
        touch(self)
        self.__dict__.pop(name, None)
        self._vars[name] = Box(value, PARAM)
        grad = self._vars.get(grad_name(name))
        if grad is None or grad.kind == PARAM or tuple(grad.value.shape) != tuple(value.shape):
            self._vars[grad_name(name)] = Box(zeros_like(value), GRAD)
        else:  # a gradient set before its parameter (Torch7 allows either order): keep it
            grad.kind = GRAD

    def register_buffer(self, name: str, value: Any) -> None:
        """Declare a non-trainable array that the module updates itself (running statistics)."""
        value = self._storable(name, value)
        touch(self)
        self.__dict__.pop(name, None)
        self._vars[name] = Box(value, BUFFER)

    def own_arrays(self) -> dict[str, tuple[str, int, Any]]:
        """This module's own registered arrays (not its children's), by name:
        ``(kind, identity of its cell, value)``; two names with one identity share an array."""
        return {name: (box.kind, id(box), box.value) for name, box in self._vars.items()}

    def share_array(self, name: str, owner: Module, owner_name: str | None = None) -> None:
        """Make this module's array `name` the very array (box) of `owner`'s `owner_name`."""
        touch(self)
        self._vars[name] = owner._vars[owner_name or name]

    def unregister(self, name: str) -> None:
        """Remove a registered array (and a parameter's gradient); the attribute reads None."""
        touch(self)
        box = self._vars.pop(name, None)
        if box is not None and box.kind == PARAM:
            self._vars.pop(grad_name(name), None)
        self.__dict__[name] = None

    def _storable(self, name: str, value: Any) -> Any:
        if contains_tracer(value):
            raise _leak(self, name)
        return to_array(value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: that is how registered arrays are read.
        vars_ = self.__dict__.get("_vars")
        if vars_ is None:
            raise _uninitialised(self, name)
        if name in vars_:
            return vars_[name].value
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        vars_ = d.get("_vars")
        if vars_ is None:
            raise _uninitialised(self, name)
        box = vars_.get(name)
        if box is not None:
            if value is None and box.kind != GRAD:
                self.unregister(name)  # Torch's `m.bias = nil`
                return
            if value is None:
                raise ModuleError(self._describe(), f"{name} is a gradient array; got None")
            box.value = to_array(value)
            return
        if name.startswith("_") or name in RUNTIME_ATTRS or _is_property(type(self), name):
            object.__setattr__(self, name, value)
            return
        if is_array(value):
            if name in TORCH_PARAMETERS:
                self.register_parameter(name, value)
            elif param_of_grad(name) in vars_ and vars_[param_of_grad(name)].kind == PARAM:
                vars_[name] = Box(self._storable(name, value), GRAD)
            else:
                self.register_buffer(name, value)
            return
        if contains_tracer(value):
            raise _leak(self, name)
        if not _same(d.get(name, _MISSING), value):
            touch(self)
        object.__setattr__(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_vars", {})))

    @property
    def output(self) -> Any:
        """The last forward pass's output (Torch7's ``module.output``)."""
        value = self.__dict__.get("_output")
        if isinstance(value, DeferredOutputs):
            return value.resolve(self)
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
        return list(tree(self).modules)

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

    def describe(self) -> Any:
        """The tree's structure as a hashable value: each module's path, class,
        hyper-parameters and arrays (names, kinds, shapes, dtypes, sharing).

        Two networks with equal descriptions compute the same function of their arrays;
        compiled code is shared between them (`nets.nn.compiled`).
        """
        return tree(self).full_description()

    # ------------------------------------------------------------------ functional form

    def split(self) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
        """The module's state as two flat dicts of arrays: ``(params, buffers)``.

        Keys are paths (``'0.weight'``); a shared parameter appears once. Together with `call`
        this is the pure functional form of the module.
        """
        t = tree(self)
        return t.values(PARAM), t.values(BUFFER)

    def merge(self, params: dict | None = None, buffers: dict | None = None) -> Module:
        """Write arrays from `split`-shaped dicts back into the module (missing keys are kept)."""
        t = tree(self)
        for given, kind in ((params, PARAM), (buffers, BUFFER)):
            if given is None:
                continue
            boxes = t.boxes[kind]
            unknown = sorted(set(given) - set(boxes))
            if unknown:
                raise ModuleError(
                    self._describe(),
                    f"merge got unknown {kind} names {unknown}; expected some of {sorted(boxes)}",
                )
            for k, v in given.items():
                if contains_tracer(v):
                    raise _leak(self, k)
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
            input: the input array (or list of arrays for table modules); a float input of
                another dtype than the parameters' is cast to theirs.
            train: training mode for every module; None keeps each module's own flag.
            key: a JAX PRNG key for dropout; None uses a fixed key (deterministic).
        """
        input = as_input(input)
        if not _tracing(input, params):
            _refuse_abstract(self, params)
        out, new_buffers, _ = pure_call(self, params, buffers, input, train, key)
        return out, new_buffers

    next_key = staticmethod(next_key)

    def _run(self, input: Any) -> Any:
        """updateOutput with the module's error context, and its custom VJP if it has one."""
        try:
            cls = type(self)
            if cls.updateGradInput is not Module.updateGradInput:
                own_acc = cls.accGradParameters is not Module.accGradParameters
                out = custom_backward.call(self, input, own_acc)
                self.output = out
            else:
                out = self.updateOutput(input)
        except NetsError:
            raise
        except Exception as e:  # an error from jax inside the layer: name the layer
            raise ModuleError(self._describe(), f"{type(e).__name__}: {e}") from e
        return out

    # ------------------------------------------------------------------ Torch surface

    def updateOutput(self, input: Any) -> Any:
        """Compute ``self.output`` from `input` (override this; the default is the identity)."""
        self.output = input
        return self.output

    def forward(self, input: Any) -> Any:
        """Compute and return the output (compiled; sets ``output`` on every sub-module).

        In training mode the pass also keeps what ``backward`` needs, so a following
        ``backward(input, gradOutput)`` on the same input does not recompute the forward pass.
        Inside a JAX transformation it returns the pure call's output and changes nothing.
        """
        given = input
        input = as_input(input)
        t = tree(self)
        params, buffers = t.values(PARAM), t.values(BUFFER)
        if _tracing(input, params):
            return pure_call(self, params, buffers, input, None, _random.next_key())[0]
        _refuse_abstract(self, params)
        raw_key = _random.next_key_data()
        if self.train:
            # Keep the VJP even without parameters: a Dropout's backward must see its own mask.
            compiled.drop_weight_copies(self)  # weights change every step: hold no copies
            fn = compiled.module_fn(self, "forward_vjp", t)
            out, new_buffers, vjp_fn = fn(params, buffers, input, raw_key)
            self.__dict__["_pending_vjp"] = (given, vjp_fn, _shapes_of(out))
        else:
            out, new_buffers = compiled.forward(self, t, params, buffers, input, raw_key)
            self.__dict__["_pending_vjp"] = None
        DeferredOutputs(self, t, (params, buffers, input, raw_key))
        # A backward without the pending VJP recomputes this forward: from these buffers, not
        # from those it left (a recurrent layer's state has moved on by one call).
        self.__dict__["_buffers_before"] = buffers if new_buffers else None
        for k, v in new_buffers.items():
            t.boxes[BUFFER][k].value = v
        self.output = out
        return out

    def __call__(self, *args: Any) -> Any:
        """``forward(input)``; with nodes (or nothing), an nngraph node instead.

        As nngraph does in Torch7: ``nn.Linear(10, 20)(x)`` with ``x`` a `Node` (or a list of
        nodes) builds a graph node for `nn.gModule`, and ``nn.Identity()()`` a graph input.
        """
        made = as_parents(args)
        if made is not None:
            return Node(self, *made)
        if len(args) != 1:
            raise ModuleError(
                self._describe(),
                f"expected one input (an array or a table of arrays), got {len(args)} "
                "arguments; pass several inputs as one list: module([a, b])",
            )
        return self.forward(args[0])

    def _vjp(self, input: Any, gradOutput: Any, with_input: bool = True) -> tuple[dict, Any]:
        """(parameter gradients, gradInput or None) for the last forward's input, compiled.

        Without `with_input`, XLA drops the input gradient's computation from the program: for
        a first convolution with few input planes it can cost more than all the rest.
        """
        pending = self._pending_vjp
        gradOutput = as_input(gradOutput)
        suffix = "" if with_input else "_params"
        if pending is not None and pending[0] is input:
            self._check_grad_output(pending[2], gradOutput)
            return compiled.module_fn(self, "apply_vjp" + suffix)(pending[1], gradOutput)
        params, buffers = self.split()
        before = self.__dict__.get("_buffers_before")
        if before is not None and before.keys() == buffers.keys():
            buffers = before  # the last forward's own state
        input = as_input(input)
        raw_key = _random.next_key_data()
        # no pending forward: the output's shape by shape inference of the compiled forward
        # (its trace is cached by jax.jit, so a repeated backward pays no second trace)
        out, _ = compiled.module_fn(self, "forward").eval_shape(
            params, buffers, input, raw_key, frozenset()
        )
        self._check_grad_output(_shapes_of(out), gradOutput)
        return compiled.module_fn(self, "vjp" + suffix)(params, buffers, input, gradOutput, raw_key)

    def _check_grad_output(self, expected: Any, gradOutput: Any) -> None:
        """Refuse a gradOutput whose shapes are not the output's, before the compiled VJP."""
        try:
            got = _shapes_of(gradOutput)
        except Exception:  # not arrays at all
            got = None
        if got != expected:
            raise ModuleError(
                self._describe(),
                f"backward expected a gradOutput of the output's shape, {_shapes_str(expected)}, "
                f"got {shape_str(gradOutput)}",
            )

    def _traced_vjp(self, input: Any, gradOutput: Any) -> tuple[dict, Any]:
        """The VJP inline, inside a user's JAX transformation."""
        params, buffers = self.split()
        key = _random.next_key()
        _, vjp_fn = jax.vjp(
            lambda p, x: pure_call(self, p, buffers, x, None, key)[0], params, as_input(input)
        )
        return vjp_fn(as_input(gradOutput))

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
        Inside a JAX transformation it returns the input gradient and accumulates nothing.
        """
        if _tracing(input, gradOutput):
            return self._traced_vjp(input, gradOutput)[1]
        with_input = self._wants_grad_input()
        gparams, gin = self._vjp(input, gradOutput, with_input)
        gin = _zeros_for_integers(gin)
        self._accumulate(gparams, scale)
        if with_input:
            self.gradInput = gin
        return gin

    def updateGradInput(self, input: Any, gradOutput: Any) -> Any:
        """Compute ``self.gradInput`` (derived by autodiff unless a subclass overrides it)."""
        if _tracing(input, gradOutput):
            return self._traced_vjp(input, gradOutput)[1]
        _, gin = _zeros_for_integers(self._vjp(input, gradOutput))
        self.gradInput = gin
        return gin

    def accGradParameters(self, input: Any, gradOutput: Any, scale: float = 1.0) -> None:
        """Add ``scale`` times the parameter gradients to ``grad*`` (autodiff unless overridden)."""
        if _tracing(input, gradOutput):
            raise ModuleError(
                self._describe(),
                "accGradParameters inside a JAX transformation would store traced gradients "
                "in grad*; take jax.grad of the functional form (net.call) instead",
            )
        gparams, _ = self._vjp(input, gradOutput)
        self._accumulate(gparams, scale)

    def accUpdateGradParameters(self, input: Any, gradOutput: Any, lr: float) -> None:
        """Update the parameters directly by ``-lr`` times their gradient (Torch7)."""
        gparams, _ = self._vjp(input, gradOutput)
        boxes = tree(self).boxes[PARAM]
        new = _axpy(-float(lr), gparams, {k: b.value for k, b in boxes.items()})
        for k, v in new.items():
            boxes[k].value = v

    def _accumulate(self, gparams: dict, scale: float) -> None:
        if not gparams:
            return
        grads = tree(self).grads
        new = _axpy(float(scale), gparams, {k: grads[k].value for k in gparams})
        for k, v in new.items():
            grads[k].value = v

    def zeroGradParameters(self) -> None:
        """Set every gradient to zero."""
        for box in tree(self).grads.values():
            box.value = zeros_like(box.value)

    def updateParameters(self, learningRate: float) -> None:
        """``param -= learningRate * gradParam`` for every parameter."""
        t = tree(self)
        params = t.boxes[PARAM]
        new = _axpy(
            -float(learningRate),
            {k: t.grads[k].value for k in params},
            {k: b.value for k, b in params.items()},
        )
        for k, v in new.items():
            params[k].value = v

    def parameters(self) -> tuple[list[jax.Array], list[jax.Array]]:
        """``(params, gradParams)``: two lists of arrays in module order (Torch7)."""
        t = tree(self)
        params = t.boxes[PARAM]
        return [b.value for b in params.values()], [t.grads[k].value for k in params]

    def getParameters(self) -> tuple[jax.Array, jax.Array]:
        """``(flatParams, flatGradParams)``: all parameters (and gradients) as two 1-D arrays.

        JAX arrays are immutable, so unlike Torch7 the flat vector is a copy: write an updated
        vector back with `setParameters` (e.g. after ``x, fx = optim.sgd(feval, x, config)``).
        """
        params, grads = self.parameters()
        if not params:
            empty_ = jnp.zeros((0,), jnp.float32)
            return empty_, empty_
        return (
            jnp.concatenate([p.ravel() for p in params]),
            jnp.concatenate([g.ravel() for g in grads]),
        )

    def setParameters(self, flat: Any) -> Module:
        """Write a flat vector (as from `getParameters`) back into the parameters."""
        flat = to_array(flat)
        boxes = list(tree(self).boxes[PARAM].values())
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
            m._set_mode(True)
        return self

    def evaluate(self) -> Module:
        """Evaluation mode for this module and its descendants."""
        for m in self.listModules():
            m._set_mode(False)
        return self

    def _set_mode(self, train: bool) -> None:
        """Set the training flag (as Torch7's containers call each child's ``training()``;
        a module with remembered state overrides this to forget it when the mode changes)."""
        self.train = train

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
            if k == "_tree":
                continue
            if k in ("_pending_vjp", "_buffers_before"):
                v = None
            elif k in ("_output", "gradInput"):
                v = None if v is None else empty()
            else:
                v = copy.deepcopy(v, memo)
            new.__dict__[k] = v
        return new

    def share(self, other: Module, *names: str) -> Module:
        """Make this module use `other`'s arrays for `names`, in every pair of sub-modules."""
        mine, theirs = self.listModules(), other.listModules()
        if len(mine) != len(theirs):
            raise ModuleError(
                self._describe(), f"share expected a module of the same structure, got {other!r}"
            )
        for a, b in zip(mine, theirs, strict=True):
            for name in names:
                if name in a._vars and name in b._vars:
                    touch(a)
                    a._vars[name] = b._vars[name]
        return self

    # ------------------------------------------------------------------ types and devices

    def type(self, dtype: Any = None) -> Any:
        """Without argument, the parameters' dtype name; with one, cast every floating-point
        array to it. The network then casts a float input of another dtype to it at its entry.
        """
        if dtype is None:
            t = tree(self)
            first = next(iter({**t.boxes[PARAM], **t.boxes[BUFFER]}.values()), None)
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

    def half(self) -> Module:
        """Cast every floating-point array to float16."""
        return self.type(jnp.float16)

    def bfloat16(self) -> Module:
        """Cast every floating-point array to bfloat16."""
        return self.type(jnp.bfloat16)

    def to(self, device: Any) -> Module:
        """Place every array on `device` (a jax.Device, or 'cpu', 'gpu', 'cuda', 'gpu:1')."""
        dev = resolve_device(device)
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

    def handoff(self) -> dict:
        """Where this module leaves values for a partner module later in the same pass (a
        pooling module's input for its unpooling module): inside a pure call, storage that
        the call drops when it ends; outside one (an eager ``updateOutput``), a dict kept on
        the module, as Torch7 kept ``indices``."""
        per_call = handoffs()
        if per_call is None:
            return self.__dict__.setdefault("_handoff", {})
        # copies of one module (a checkpoint rebuilds each reference as its own copy) carry
        # one `handoffKey` hyper-parameter, and share the storage
        return per_call.setdefault(self.__dict__.get("handoffKey", id(self)), {})

    # ------------------------------------------------------------------ printing

    def _describe(self) -> str:
        """One line naming the module, used in error messages."""
        return repr(self).split("\n", 1)[0].rstrip(" {")

    def __repr__(self) -> str:
        return _type_name(self)


def _shapes_of(value: Any) -> Any:
    """The shapes of an array or a table of arrays, as a comparable value."""
    if isinstance(value, (list, tuple)):
        return tuple(_shapes_of(v) for v in value)
    return tuple(value.shape)


def _shapes_str(shapes: Any) -> str:
    if shapes and isinstance(shapes[0], tuple):
        return "a table of " + str(len(shapes)) + " [" + ", ".join(map(_shapes_str, shapes)) + "]"
    return "(" + ", ".join(map(str, shapes)) + ("," if len(shapes) == 1 else "") + ")"


def _zeros_for_integers(gin: Any) -> Any:
    """Zeros (float32) for the gradient of an integer input (indices), which JAX gives as
    ``float0``: Torch7's LookupTable returns a zero gradInput of the input's size."""
    return jax.tree_util.tree_map(
        lambda g: jnp.zeros(g.shape, jnp.float32) if g.dtype == jax.dtypes.float0 else g, gin
    )


def _is_property(cls: type, name: str) -> bool:
    return isinstance(getattr(cls, name, None), property)


def _uninitialised(module: Module, name: str) -> NetsError:
    cls = type(module).__name__
    return NetsError(
        f"{cls}.{name}: this module was never initialised.\n"
        f"A subclass of nn.Module must call super().__init__() at the start of its __init__, "
        f"before it sets attributes or registers parameters.\n"
        f"help: add `super().__init__()` as the first line of {cls}.__init__."
    )


def _leak(module: Module, name: str) -> ModuleError:
    return ModuleError(
        module._describe(),
        f"self.{name} was given a traced value (from inside jax.jit, jax.grad or another "
        "transformation), which would outlive the trace. Keep per-call values in local "
        "variables or self.output; register state that must persist in __init__, and give "
        "it concrete arrays (e.g. merge() the results of a compiled step after it returns).",
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


def _tracing(*values: Any) -> bool:
    """Whether a JAX transformation is being traced around the caller (where JAX does not say,
    whether a tracer is among `values`: arrays, tables, dicts)."""
    if _trace_state_clean is not None:
        return not _trace_state_clean()
    return any(is_tracer(v) or contains_tracer(v) for v in values)


def _refuse_abstract(module: Module, params: dict) -> None:
    """A shape-only network (built under nets.shape_only()) has no numbers to run on."""
    for k, v in params.items():
        if is_abstract(v):
            raise ModuleError(
                module._describe(),
                f"this network was built shape-only (parameter {k} has a shape, no values): "
                "it runs only under jax.eval_shape (e.g. jax.eval_shape(net.forward, "
                "jax.ShapeDtypeStruct((1, 3, 224, 224), jnp.float32))) and in nets.summary. "
                "Build it outside nets.shape_only(), or nets.load a checkpoint into it.",
            )


@jax.jit
def _axpy(a, x: dict, y: dict) -> dict:
    return jax.tree_util.tree_map(lambda xi, yi: yi + a * xi.astype(yi.dtype), x, y)
