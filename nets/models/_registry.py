"""The one registry of the zoo: ``@register(name, meta=ModelMeta(...))`` and `list`/`get`.

Each entry is a builder plus the paper's facts about the network it builds (`ModelMeta`). The
published figures are kept as the paper printed them (``"138M"``, ``"60,965,224"``), so a test
can check the built network against them within the paper's own rounding (`figure_range`).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nets._errors import NetsError

__all__ = ["ModelMeta", "ModelError", "register", "alias", "list_models", "get", "meta", "entry"]


class ModelError(NetsError, ValueError):
    """An unknown model name, configuration or depth; the message lists the valid ones."""


@dataclass(frozen=True)
class ModelMeta:
    """What the paper says about a network.

    Attributes:
        paper: title and first author.
        year: year of publication.
        url: where the paper is.
        input_size: (C, H, W) the network is built for.
        layers: the depth the paper states (weight layers on the longest path), or None.
        params: the published parameter count as printed (``"138M"``, ``"60,965,224"``).
        params_source: where `params` comes from when the paper itself gives none.
        mult_adds: published multiply-adds per image as printed (``"1.8G"``), or None.
        mult_adds_source: where `mult_adds` comes from when not the paper.
        top5: the seed notes' ILSVRC top-5 error figure (``"6.7%"``), or None.
        notes: where the paper's own figures are inconsistent, and what the network has.
        paper_off: which of ``'params'``/``'mult_adds'`` the paper misprints (see notes): the
            network is built to the paper's layer sizes, so its count differs from the figure.
    """

    paper: str
    year: int
    url: str
    input_size: tuple[int, int, int]
    layers: int | None
    params: str | None
    params_source: str = "paper"
    mult_adds: str | None = None
    mult_adds_source: str = "paper"
    top5: str | None = None
    notes: str = ""
    paper_off: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """A registered model: its name, builder, the keyword arguments it is built with, meta."""

    name: str
    builder: Callable[..., Any]
    kwargs: dict
    meta: ModelMeta

    def build(self, **kw: Any) -> Any:
        return self.builder(**{**self.kwargs, **kw})


_MODELS: dict[str, Entry] = {}
_SCALE = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def figure_range(figure: str) -> tuple[float, float]:
    """The interval a published figure stands for, given how it was rounded.

    ``"138M"`` is 137.5M to 138.5M, ``"1.8G"`` is 1.75G to 1.85G and ``"60,965,224"`` is exact.

    Raises:
        ValueError: the figure is not a number with an optional K/M/G suffix.
    """
    text = figure.replace(",", "").strip()
    suffix = text[-1] if text and text[-1] in "KMG" else ""
    digits = text[: len(text) - len(suffix)]
    try:
        value = float(digits)
    except ValueError:
        raise ValueError(
            f"figure_range: expected a number like '138M' or '1.8G', got {figure!r}"
        ) from None
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    scale = _SCALE[suffix]
    half = 0.5 * 10.0**-decimals * scale if (suffix or decimals) else 0.0
    return value * scale - half, value * scale + half


def register(name: str, meta: ModelMeta, **kwargs: Any) -> Callable:
    """Register `builder(**kwargs)` under `name`; usable as a decorator, stacked or not."""

    def deco(builder: Callable) -> Callable:
        if name in _MODELS:
            raise ModelError(f"register: the model name {name!r} is taken")
        _MODELS[name] = Entry(name, builder, dict(kwargs), meta)
        return builder

    return deco


def alias(name: str, builder: Callable, meta: ModelMeta, doc: str, **fixed: Any) -> Callable:
    """Make and register a public builder ``name(**kw) = builder(**fixed, **kw)`` (``vgg16``)."""

    @functools.wraps(builder)
    def make(**kw: Any) -> Any:
        return builder(**{**fixed, **kw})

    make.__name__ = make.__qualname__ = name
    make.__doc__ = doc
    del make.__wrapped__  # the signature shown is the alias's, not the general builder's
    register(name, meta)(make)
    return make


def list_models() -> builtins.list[str]:
    """The registered model names, in registration order (family by family)."""
    return builtins.list(_MODELS)


def entry(name: str) -> Entry:
    """The registry entry of `name`.

    Raises:
        ModelError: unknown name; the message lists the valid ones.
    """
    if name not in _MODELS:
        raise ModelError(
            f"nets.models: unknown model {name!r}; expected one of: {', '.join(_MODELS)}"
        )
    return _MODELS[name]


def get(name: str, **kw: Any) -> Any:
    """Build the model registered as `name`, e.g. ``get('resnet50', num_classes=10)``."""
    return entry(name).build(**kw)


def meta(name: str) -> ModelMeta:
    """The paper's facts about the model registered as `name`."""
    return entry(name).meta


def valid_choice(what: str, value: Any, valid: Any, builder: str) -> None:
    """Raise `ModelError` naming the valid values unless `value` is one of them."""
    if value not in valid:
        shown = ", ".join(repr(v) for v in valid)
        raise ModelError(f"{builder}: unknown {what} {value!r}; expected one of {shown}")
