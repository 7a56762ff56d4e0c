"""The pure call: a module tree run on arrays it is handed, the tree left as it was.

`bound` is the one place where given arrays (or tracers) are put into a module tree's boxes for
the length of a call and the tree's own arrays put back afterwards. Everything pure in
`nets.nn` goes through it: `Module.call`, the compiled forward and backward passes, criterions,
hand-written backward passes (`custom_backward`), and the Engine's and StochasticGradient's
steps.

It also guards the trace: a layer's ``updateOutput`` may set ``self.output`` and its registered
arrays, which are restored on the way out; a traced value left in any other attribute would
outlive the trace (a "leaked tracer"), so it is undone and reported, naming the attribute.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from .. import _random
from .._errors import ModuleError
from .state import BUFFER, PARAM, contains_tracer, is_abstract
from .structure import tree

if TYPE_CHECKING:
    from .module import Module

# The PRNG key stream of the pure call being run (see `next_key`).
_context = threading.local()


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


def next_key() -> jax.Array:
    """A PRNG key for randomness inside ``updateOutput`` (dropout masks): from the pure call's
    `key` inside one, from the `nets.manual_seed` stream outside."""
    stream = getattr(_context, "keys", None)
    if stream is None:
        return _random.next_key()
    return stream.next()


def handoffs() -> dict | None:
    """Values that one module hands to another within the pure call being run, keyed by the
    module (Torch7's SpatialMaxUnpooling reads its pooling module's input there); dropped
    when the call ends, so no traced value outlives it. None outside a pure call."""
    return getattr(_context, "handoffs", None)


@contextlib.contextmanager
def swapped(values: dict) -> Iterator[None]:
    """Put ``{box: value}`` into the boxes for the block; the old values come back after."""
    saved = [(box, box.value) for box in values]
    try:
        for box, value in values.items():
            box.value = value
        yield
    finally:
        for box, value in saved:
            box.value = value


def _check_keys(root: Module, given: dict, boxes: dict, kind: str) -> None:
    if given.keys() != boxes.keys():
        missing = sorted(set(boxes) - set(given))
        extra = sorted(set(given) - set(boxes))
        raise ModuleError(
            root._describe(),
            f"call expected {kind} with keys {sorted(boxes)}; "
            f"missing {missing}, unexpected {extra}",
        )


@contextlib.contextmanager
def bound(
    root: Module, params: dict, buffers: dict, train: bool | None, key: Any
) -> Iterator[None]:
    """Run the block with `params`/`buffers` in `root`'s tree (see the module docstring).

    `train` (when not None) is every module's training flag for the block; `key` seeds
    `next_key`. On the way out every module gets back its arrays, ``output``, ``gradInput``
    and flag, and a tracer left in any other attribute raises a `ModuleError` naming it.
    """
    t = tree(root)
    _check_keys(root, params, t.boxes[PARAM], "params")
    _check_keys(root, buffers, t.boxes[BUFFER], "buffers")
    values = {t.boxes[PARAM][k]: v for k, v in params.items()}
    values.update({t.boxes[BUFFER][k]: v for k, v in buffers.items()})
    before = [(m, dict(m.__dict__)) for m in t.modules]
    saved_keys = getattr(_context, "keys", None)
    saved_handoffs = getattr(_context, "handoffs", None)
    _context.handoffs = {}
    ok = False
    try:
        with swapped(values):
            for m in t.modules:
                if "_output" in m.__dict__ and not isinstance(m.__dict__["_output"], jax.Array):
                    m.__dict__["_output"] = None  # a deferred record is not owed inside a call
                if train is not None:
                    m.__dict__["train"] = bool(train)
            _context.keys = _KeyStream(key)
            yield
            ok = True
    finally:
        _context.keys = saved_keys
        _context.handoffs = saved_handoffs
        leaks = _restore(t, before)
        if ok and leaks:
            path, module, name = leaks[0]
            raise ModuleError(
                module._describe(),
                f"updateOutput left a traced value in self.{name} (module "
                f"{path or '<root>'}), which would outlive the trace. Keep per-call values in "
                "local variables or self.output; register state that must persist with "
                "register_buffer in __init__ and assign it there.",
            )


def _restore(t, before: list) -> list:
    """Put back every module's attributes; return the (path, module, name) of leaked tracers."""
    leaks = []
    paths = {id(m): p for p, m in t.named}
    for m, saved in before:
        d = m.__dict__
        for name in list(d):
            if name not in saved:
                if contains_tracer(d[name]):
                    leaks.append((paths[id(m)], m, name))
                del d[name]
        for name, value in saved.items():
            current = d.get(name, value)
            if current is not value:
                if name not in ("_output", "gradInput", "train") and contains_tracer(current):
                    leaks.append((paths[id(m)], m, name))
                d[name] = value
    return leaks


def _materialise(values: dict) -> dict:
    """Shape-only arrays as zeros: inside a transformation (jax.eval_shape) they stay abstract."""
    return {k: jnp.zeros(v.shape, v.dtype) if is_abstract(v) else v for k, v in values.items()}


def compute_dtype(params: dict) -> Any:
    """The floating dtype of a network's parameters (its first floating one), or None."""
    for v in params.values():
        if jnp.issubdtype(v.dtype, jnp.floating):
            return v.dtype
    return None


def cast_input(input: Any, dtype: Any) -> Any:
    """Floating input leaves cast to `dtype`: a network converted with ``type()`` takes any
    float input and computes in its own dtype throughout (cast once, at its entry)."""
    if dtype is None:
        return input

    def cast(x):
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != dtype:
            return x.astype(dtype)
        return x

    if isinstance(input, (list, tuple)):
        return [cast_input(v, dtype) for v in input]
    return cast(input)


def pure_call(
    root: Module,
    params: dict,
    buffers: dict,
    input: Any,
    train: bool | None,
    key: Any,
    collect: bool = False,
) -> tuple[Any, dict, dict]:
    """``(output, new buffers, {path: sub-module output} if collect)`` of one pure pass."""
    params, buffers = _materialise(params), _materialise(buffers)
    input = cast_input(input, compute_dtype(params))
    with bound(root, params, buffers, train, key):
        output = root._run(input)
        t = tree(root)
        new_buffers = t.values(BUFFER)
        outputs = {}
        if collect:
            for path, m in t.named:
                out = m.__dict__.get("_output")
                if path and _is_array_tree(out):
                    outputs[path] = out
    return output, new_buffers, outputs


def _is_array_tree(value: Any) -> bool:
    if value is None:
        return False
    leaves = jax.tree_util.tree_leaves(value)
    return bool(leaves) and all(isinstance(x, jax.Array) for x in leaves)
