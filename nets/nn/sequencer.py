"""Sequencers (the rnn package): a module applied to every step of a sequence.

A sequence is an array whose dim 0 is time, (seqlen, ...), or a list of one array per step.
The steps run one after the other inside one call, so a recurrent module (`nn.LSTM`,
`nn.GRU`, `nn.Recurrent`) carries its state from step to step and ``backward`` goes back
through the whole sequence (BPTT). Errors name the time step they happened at.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .._errors import ModuleError, shape_str
from .module import Module
from .table import JoinTable

_REMEMBER = ("both", "train", "eval", "neither")


def _forget_all(root: Module) -> None:
    """Forget the state of every module below `root` that keeps one (rnn's ``forget``)."""
    for m in root.listModules()[1:]:
        forget = getattr(m, "forget", None)
        if callable(forget):
            forget()


def _steps(owner: Module, input: Any) -> list:
    """The input's steps: the rows of an array's dim 0, or the items of a list."""
    if isinstance(input, (list, tuple)):
        steps = list(input)
    elif getattr(input, "ndim", 0) >= 1:
        steps = [input[t] for t in range(input.shape[0])]
    else:
        steps = []
    if not steps:
        raise ModuleError(
            owner._describe(),
            "expected a sequence: an array (seqlen, ...) with seqlen >= 1 or a non-empty list "
            f"of steps, got {shape_str(input)}",
        )
    return steps


def _run_steps(owner: Module, index: int, steps: list) -> list:
    """Module `index` of `owner` on each step, errors naming the time step."""
    module = owner.modules[index]
    outputs = []
    for t, x in enumerate(steps):
        try:
            outputs.append(module._run(x))
        except ModuleError as e:
            detail = f"at time step {t} of {len(steps)} (0-based): {e.detail}"
            raise (
                ModuleError(e.module, detail, e.path).within(index).with_traceback(None)
            ) from e.__cause__
    return outputs


def _like_input(input: Any, outputs: list) -> Any:
    """An array (seqlen, ...) for an array input, a list for a list."""
    if isinstance(input, (list, tuple)):
        return outputs
    return jnp.stack(outputs)


class Sequencer(Module):
    """nn.Sequencer(module): applies `module` to each step of a sequence.

    Input and output are arrays (seqlen, ...) or lists of steps; for a recurrent module the
    steps run in order and its state flows from one to the next. By default the module's state
    is forgotten before each sequence (rnn's default); ``remember('both')`` (or ``'train'``,
    ``'eval'``) carries it over from one call to the next, and ``forget()`` drops it.

    Example:
        >>> from nets import nn
        >>> seq = nn.Sequencer(nn.LSTM(3, 4))
        >>> seq.forward(jnp.ones((5, 2, 3))).shape
        (5, 2, 4)
    """

    def __init__(self, module: Module) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise ModuleError(
                "nn.Sequencer", f"expected an nn.Module at arg 1, got {type(module).__name__}"
            )
        self.modules = [module]
        self.rememberMode = "neither"

    def remember(self, mode: str = "both") -> Sequencer:
        """Keep the state between calls in `mode`: 'both', 'train', 'eval' or 'neither'."""
        if mode not in _REMEMBER:
            raise ModuleError(
                self._describe(),
                f"remember expected one of {', '.join(map(repr, _REMEMBER))}, got {mode!r}",
            )
        self.rememberMode = mode
        return self

    def hasMemory(self) -> bool:
        """Whether the state is carried over between calls in the current mode."""
        mode = self.rememberMode
        return mode == "both" or mode == ("train" if self.train else "eval")

    def forget(self) -> Sequencer:
        """Drop the state of the recurrent modules inside."""
        _forget_all(self)
        return self

    def _set_mode(self, train: bool) -> None:
        if bool(train) != bool(self.train):
            self.forget()  # rnn forgets at the start of each training and evaluation
        super()._set_mode(train)

    def updateOutput(self, input: Any) -> Any:
        steps = _steps(self, input)
        if not self.hasMemory():
            _forget_all(self)
        self.output = _like_input(input, _run_steps(self, 0, steps))
        return self.output

    def __repr__(self) -> str:
        return "nn.Sequencer @ " + repr(self.modules[0]).replace("\n", "\n  ")


class BiSequencer(Module):
    """nn.BiSequencer(forward, [backward], [merge]): a bidirectional sequencer.

    ``forward`` runs over the steps in order, ``backward`` over them in reverse; at each step
    their outputs are merged by ``merge`` (default ``nn.JoinTable(0, 1)``: joined along the
    features, for a single step or a batch; a number ``n`` means ``nn.JoinTable(0, n)``).
    Without ``backward``, a copy of ``forward`` with its parameters reset is used. Input and
    output as `nn.Sequencer`; each sequence starts from a forgotten state.
    """

    def __init__(self, forward: Module, backward: Module | None = None, merge: Any = None):
        super().__init__()
        if not isinstance(forward, Module):
            raise ModuleError(
                "nn.BiSequencer",
                f"expected an nn.Module at arg 1, got {type(forward).__name__}",
            )
        if backward is None:
            backward = forward.clone()
            for m in backward.listModules():
                m.reset()
        if not isinstance(backward, Module):
            raise ModuleError(
                "nn.BiSequencer",
                f"expected an nn.Module (or None) at arg 2, got {type(backward).__name__}",
            )
        if merge is None or (isinstance(merge, int) and not isinstance(merge, bool)):
            merge = JoinTable(0, 1 if merge is None else merge)
        if not isinstance(merge, Module):
            raise ModuleError(
                "nn.BiSequencer",
                f"expected an nn.Module or a number at arg 3, got {type(merge).__name__}",
            )
        self.modules = [forward, backward, merge]

    def forget(self) -> BiSequencer:
        """Drop the state of the recurrent modules inside."""
        _forget_all(self)
        return self

    def updateOutput(self, input: Any) -> Any:
        steps = _steps(self, input)
        _forget_all(self)
        ahead = _run_steps(self, 0, steps)
        back = _run_steps(self, 1, steps[::-1])[::-1]
        merged = _run_steps(self, 2, [[a, b] for a, b in zip(ahead, back, strict=True)])
        self.output = _like_input(input, merged)
        return self.output

    def __repr__(self) -> str:
        pad = "\n  |    "
        names = ("forward", "backward", "merge")
        lines = ["nn.BiSequencer {", "  [input -> (0) forward, (1) reversed -> (2) -> output]"]
        for i, (name, m) in enumerate(zip(names, self.modules, strict=True)):
            lines.append(f"  |`-> ({i}) {name}: " + repr(m).replace("\n", pad))
        lines.append("}")
        return "\n".join(lines)
