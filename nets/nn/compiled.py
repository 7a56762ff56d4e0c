"""Compiled code: the one cache, keyed by what the code computes.

Every compiled function of `nets` is made here: a module's forward and backward passes, a
criterion's loss and gradient, `StochasticGradient`'s and the Engine's steps. Each is kept under
a key made of its kind, the descriptions of the module trees it runs (`structure.Description`,
with each module's training flag), whatever else its code depends on (an optimizer, say), the
lowering's mode and the compiler's options. ``jax.jit`` then keeps one compiled program per
input shapes and dtypes under each entry. So:

* building another module, or changing a module elsewhere, leaves every entry valid;
* changing a hyper-parameter of a module changes the descriptions of the trees that contain
  it, and only their code is built again;
* two equal networks (a second ``models.get('lenet5')``) share their compiled code.

An entry's code runs on a *skeleton* of the trees it was built for: a copy with the structure
and no arrays (every array is handed to the compiled function as an argument). It never runs on
the user's modules, so later changes to them cannot reach code already built.

This layer also hands compiled inference the convolution weights in the layout XLA's CPU
convolutions read (`weight_layout`): Module and Engine call `forward` and `evaluation` and
never see that layout.
"""

from __future__ import annotations

import collections
import copy
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import jax

from . import compiler, lowering, weight_layout
from .binding import bound, pure_call
from .state import BUFFER, Box, is_tracer
from .structure import Tree, is_module, training_flags, tree

if TYPE_CHECKING:
    from .module import Module

# How many compiled functions are kept (each may hold programs for several input shapes);
# the least recently used goes first.
CACHE_SIZE = 256

_entries: collections.OrderedDict = collections.OrderedDict()


def clear() -> None:
    """Forget every compiled function (the next call of each compiles again)."""
    _entries.clear()


def size() -> int:
    """How many compiled functions are kept now."""
    return len(_entries)


def key_of(owner: Any, t: Tree | None = None) -> Hashable:
    """What compiled code over `owner` is keyed by: a module tree's description and flags
    (`t`: the owner's `Tree`, when the caller has it)."""
    if is_module(owner):
        t = t or tree(owner)
        return (t.description, training_flags(t))
    return ("object", id(owner))  # not a module (a user's duck-typed criterion): itself


def skeleton(owner: Any) -> Any:
    """A copy of a module tree with its structure and no arrays (see the module docstring)."""
    if not is_module(owner):
        return owner
    memo: dict = {}
    for m in tree(owner).modules:
        for box in m._vars.values():
            if id(box) not in memo:
                value = box.value
                memo[id(box)] = Box(jax.ShapeDtypeStruct(value.shape, value.dtype), box.kind)
    return copy.deepcopy(owner, memo)


def cached(
    kind: str,
    owners: tuple,
    build: Callable[..., Callable],
    extra: Hashable = (),
    trees: tuple | None = None,
    **jit_kwargs: Any,
) -> Callable:
    """The compiled function of `kind` over `owners`, built by ``build(*skeletons)`` on a miss.

    `extra` is anything else the built code depends on; `trees` the owners' `Tree`s where the
    caller has them; `jit_kwargs` go to ``jax.jit``.
    """
    trees = trees or (None,) * len(owners)
    owned = tuple(key_of(o, t) for o, t in zip(owners, trees, strict=True))
    key = (kind, owned, extra, lowering.mode(), compiler.options_key())
    fn = _entries.get(key)
    if fn is None:
        fn = compiler.jit(build(*(skeleton(o) for o in owners)), **jit_kwargs)
        _entries[key] = fn
        while len(_entries) > CACHE_SIZE:
            _entries.popitem(last=False)
    else:
        _entries.move_to_end(key)
    return fn


# ---------------------------------------------------------------------- a module's passes


def _wrap_key(raw):
    return jax.random.wrap_key_data(raw, impl="threefry2x32")


def _build_forward(m: Module):
    def forward(params, buffers, x, raw_key, hwio):
        params = weight_layout.restore(params, hwio)
        return pure_call(m, params, buffers, x, None, _wrap_key(raw_key))[:2]

    return forward


def _build_outputs(m: Module):
    def outputs(params, buffers, x, raw_key):
        return pure_call(m, params, buffers, x, None, _wrap_key(raw_key), collect=True)[2]

    return outputs


def _build_forward_vjp(m: Module):
    def forward_vjp(params, buffers, x, raw_key):
        key = _wrap_key(raw_key)

        def f(p, xx):
            out, new_b, _ = pure_call(m, p, buffers, xx, None, key)
            return out, new_b

        out, vjp_fn, new_b = jax.vjp(f, params, x, has_aux=True)
        return out, new_b, vjp_fn

    return forward_vjp


def _build_apply_vjp(m: Module):
    def apply_vjp(vjp_fn, g):
        return vjp_fn(g)

    return apply_vjp


def _build_apply_vjp_params(m: Module):
    def apply_vjp_params(vjp_fn, g):
        return vjp_fn(g)[0], None

    return apply_vjp_params


def _build_vjp(m: Module):
    def vjp(params, buffers, x, g, raw_key):
        key = _wrap_key(raw_key)
        _, vjp_fn = jax.vjp(lambda p, xx: pure_call(m, p, buffers, xx, None, key)[0], params, x)
        return vjp_fn(g)

    return vjp


def _build_vjp_params(m: Module):
    def vjp_params(params, buffers, x, g, raw_key):
        key = _wrap_key(raw_key)
        _, vjp_fn = jax.vjp(lambda p: pure_call(m, p, buffers, x, None, key)[0], params)
        return vjp_fn(g)[0], None

    return vjp_params


_MODULE_BUILDERS = {
    "forward": (_build_forward, {"static_argnums": (4,)}),
    "outputs": (_build_outputs, {}),
    "forward_vjp": (_build_forward_vjp, {}),
    "apply_vjp": (_build_apply_vjp, {}),
    "apply_vjp_params": (_build_apply_vjp_params, {}),
    "vjp": (_build_vjp, {}),
    "vjp_params": (_build_vjp_params, {}),
}


def module_fn(module: Module, kind: str, t: Tree | None = None) -> Callable:
    """The compiled pass `kind` of `module` ("forward_vjp", "vjp", "outputs", ...); `t` is the
    module's `Tree` where the caller has it."""
    build, jit_kwargs = _MODULE_BUILDERS[kind]
    return cached("module." + kind, (module,), build, trees=(t,), **jit_kwargs)


# HWIO copies of the convolution weights, per module: {param path: (source array, copy)}.
_weight_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def forward(module: Module, t: Tree, params: dict, buffers: dict, x: Any, raw_key: Any) -> tuple:
    """``(output, new buffers)`` of an evaluate-mode pass of `module` (its `Tree` `t`),
    compiled, with the convolution weights handed over as HWIO copies kept from one call to the
    next (`weight_layout`)."""
    hwio = weight_layout.hwio_paths(module, params, t)
    fed = weight_layout.prepare(params, hwio, _weight_copies.setdefault(module, {}))
    return module_fn(module, "forward", t)(fed, buffers, x, raw_key, hwio)


def drop_weight_copies(module: Module) -> None:
    """Forget `module`'s HWIO copies (its weights change at every training step)."""
    _weight_copies.pop(module, None)


def weight_copies(module: Module) -> dict:
    """The HWIO copies `forward` keeps for `module` (for tests and memory accounting)."""
    return _weight_copies.get(module, {})


# ---------------------------------------------------------------------- criterions


def _build_loss(c):
    def loss(buffers, input, target):
        with bound(c, {}, buffers, None, None):
            return c.loss(input, target)

    return loss


def _build_loss_grad(c):
    return jax.grad(_build_loss(c), argnums=1)


def criterion_fn(criterion: Module, kind: str) -> Callable:
    """A criterion's compiled ``loss`` or ``grad`` (d loss / d input), of (buffers, input,
    target)."""
    build = _build_loss if kind == "loss" else _build_loss_grad
    return cached("criterion." + kind, (criterion,), build)


# ---------------------------------------------------------------------- evaluation loops


def evaluation(network: Module, criterion: Any, params: dict, buffers: dict) -> Callable:
    """``run(x, y) -> (output, loss)`` over fixed `params`: one compiled step for a pass over
    a data set (the Engine's test). The weights are laid out for it once, here."""
    single = all(
        not is_tracer(v) and len(getattr(v, "sharding", None).device_set) == 1
        for v in params.values()
        if isinstance(v, jax.Array)
    )
    hwio = weight_layout.hwio_paths(network, params) if single else frozenset()
    fed = weight_layout.prepare(params, hwio, {})
    crit_buffers = tree(criterion).values(BUFFER) if criterion is not None else {}

    def build(net, crit=None):
        def evaluation_step(params, buffers, crit_buffers, x, y):
            out, _, _ = pure_call(net, weight_layout.restore(params, hwio), buffers, x, False, None)
            if crit is None:
                return out, jax.numpy.zeros(())
            with bound(crit, {}, crit_buffers, None, None):
                _, target = crit.prepare(out, y)
                loss = crit.loss(out, target)
                check = getattr(crit, "bad_targets", None)
                if check is not None:  # a bad class target gives no finite loss
                    loss = jax.numpy.where(check(out, target), jax.numpy.nan, loss)
                return out, loss

        return evaluation_step

    owners = (network,) if criterion is None else (network, criterion)
    step = cached("evaluation", owners, build, extra=hwio)

    def run(x, y):
        return step(fed, buffers, crit_buffers, x, y)

    return run
