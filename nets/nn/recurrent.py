"""Recurrent layers: the core of the Element-Research ``rnn`` package (LSTM, GRU, Recurrent,
SeqLSTM).

Two ways to run a recurrence, as in rnn:

* **Step by step** (`LSTM`, `GRU`, `Recurrent`, subclasses of `AbstractRecurrent`): each
  ``forward(x_t)`` is one time step; the module keeps its hidden state between calls (in
  buffers, so it is saved in checkpoints too) until ``forget()``. Wrapped in `nn.Sequencer`
  the whole sequence runs in one call, and ``backward`` goes back through every step (BPTT).
  Called on its own, ``backward`` goes through the last step only: rnn's step-wise BPTT
  across separate calls is not offered.
* **A whole sequence per call** (`SeqLSTM`): a time-major (T, N, D) input, computed as one
  ``lax.scan``; ``remember()`` carries the last state over to the next call, ``forget()``
  drops it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _random
from .._errors import ModuleError, shape_str
from .._shape import int_arg
from . import functional as F  # noqa: N812
from .module import Module
from .table import CAddTable
from .transfer import Sigmoid

_REMEMBER = ("both", "train", "eval", "neither")


def _no_state() -> np.ndarray:
    """A forgotten state: an empty array (Torch's fresh ``torch.Tensor()``)."""
    return np.zeros((0,), np.float32)


def _remember_mode(owner: Module, mode: Any) -> str:
    if mode not in _REMEMBER:
        raise ModuleError(
            owner._describe(),
            f"remember expected one of {', '.join(map(repr, _REMEMBER))} "
            f"(default 'both'), got {mode!r}",
        )
    return mode


def _remembers(mode: str, train: bool) -> bool:
    """rnn's ``hasMemory``: whether the state is carried over in this training mode."""
    return mode == "both" or mode == ("train" if train else "eval")


class AbstractRecurrent(Module):
    """nn.AbstractRecurrent([rho=9999]): base of the step-by-step recurrent modules.

    Each ``forward`` is one time step; the state of the step before (the buffers named in
    ``state_names``) is kept until `forget`. ``rho``, the number of steps rnn back-propagates
    through, is recorded only: a `nn.Sequencer` back-propagates through its whole sequence
    (as rnn's Sequencer, which sets rho to the sequence length).
    """

    state_names: tuple[str, ...] = ()

    def __init__(self, rho: int = 9999) -> None:
        super().__init__()
        self.rho = int_arg(self, "rho", "the number of steps to back-propagate through", rho)
        for name in self.state_names:
            self.register_buffer(name, _no_state())

    def forget(self) -> AbstractRecurrent:
        """Drop the state: the next step starts from zeros (from the start module)."""
        for name in self.state_names:
            setattr(self, name, _no_state())
        return self

    def _previous(self, name: str, x: Any, size: int) -> Any:
        """The state `name` of the step before, or None at the first step; refuses a state
        whose batch does not match the input's."""
        value = getattr(self, name)
        if value.size == 0:
            return None
        want = (*x.shape[:-1], size)
        if tuple(value.shape) != want:
            raise ModuleError(
                self._describe(),
                f"the state kept from the step before ({name}) has shape {shape_str(value)}, "
                f"but the input {shape_str(x)} needs ({', '.join(map(str, want))}); call "
                "forget() to start a new sequence",
            )
        return value

    def _check_step(self, x: Any, size: int) -> None:
        if getattr(x, "ndim", None) not in (1, 2) or x.shape[-1] != size:
            raise ModuleError(
                self._describe(),
                f"expected a step of size {size} in the last dimension, (N, {size}) or "
                f"({size},), got {shape_str(x)}",
            )

    def __repr__(self) -> str:
        size_in = getattr(self, "inputSize", None)
        size_out = getattr(self, "outputSize", None)
        name = f"nn.{type(self).__name__}"
        return name if size_in is None else f"{name}({size_in} -> {size_out})"


def _no_dropout(owner: Module, p: Any) -> None:
    if p not in (0, 0.0, None):
        raise ModuleError(
            owner._describe(),
            f"p={p!r}: rnn's Bayesian dropout inside the gates is not offered here; expected "
            "p=0 (put an nn.Dropout before the layer instead)",
        )


class LSTM(AbstractRecurrent):
    """nn.LSTM(inputSize, [outputSize=inputSize], [rho=9999], [cell2gate=True], [p=0]).

    The rnn package's LSTM (Graves 2013), one time step per ``forward``: the gates see the
    input, the previous output and, with ``cell2gate`` (rnn's default), the cell through
    diagonal "peephole" weights (`nets.nn.functional.lstm_step` gives the formulas)::

        c(t) = f * c(t-1) + i * tanh(Wg x + Ug h(t-1) + bg)      h(t) = o * tanh(c(t))

    Parameters: ``weight`` (4*outputSize, inputSize) and ``bias`` (4*outputSize) for the input
    (rnn's four ``Linear(inputSize, outputSize)``), ``recurrentWeight`` (4*outputSize,
    outputSize) for the previous output (its ``LinearNoBias``), and with ``cell2gate``
    ``peephole`` (3, outputSize) (its ``CMul``s); rows in gate order input, forget, hidden,
    output; initialised as those modules are. The state (``prevOutput``, ``prevCell``) is kept
    between steps until ``forget()``.

    Input ``(N, inputSize)`` or ``(inputSize,)``; output ``(N, outputSize)`` or
    ``(outputSize,)``. Over a sequence: ``nn.Sequencer(nn.LSTM(...))``.

    Example:
        >>> from nets import nn
        >>> lstm = nn.LSTM(3, 4)
        >>> lstm.forward(jnp.ones((2, 3))).shape, lstm.prevCell.shape
        ((2, 4), (2, 4))
    """

    state_names = ("prevOutput", "prevCell")

    def __init__(
        self,
        inputSize: int,
        outputSize: int | None = None,
        rho: int = 9999,
        cell2gate: bool = True,
        p: float = 0,
        mono: bool = False,
    ) -> None:
        super().__init__(rho)
        self.inputSize = int_arg(self, "inputSize", "the size of each input step", inputSize)
        outputSize = inputSize if outputSize is None else outputSize
        self.outputSize = int_arg(self, "outputSize", "the size of the output", outputSize)
        _no_dropout(self, p)
        self.cell2gate = bool(cell2gate)
        d, h = self.inputSize, self.outputSize
        self.register_parameter("weight", np.zeros((4 * h, d), np.float32))
        self.register_parameter("bias", np.zeros((4 * h,), np.float32))
        self.register_parameter("recurrentWeight", np.zeros((4 * h, h), np.float32))
        if self.cell2gate:
            self.register_parameter("peephole", np.zeros((3, h), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> LSTM:
        """As rnn's sub-modules: input weights and biases uniform in ±1/sqrt(inputSize), the
        recurrent and peephole weights in ±1/sqrt(outputSize) (a given stdv: all in ±stdv)."""
        d, h = self.inputSize, self.outputSize
        a = stdv if stdv is not None else 1 / np.sqrt(d)
        b = stdv if stdv is not None else 1 / np.sqrt(h)
        self.weight = _random.uniform(-a, a, self.weight.shape)
        self.bias = _random.uniform(-a, a, self.bias.shape)
        self.recurrentWeight = _random.uniform(-b, b, self.recurrentWeight.shape)
        if self.cell2gate:
            self.peephole = _random.uniform(-b, b, self.peephole.shape)
        return self

    def updateOutput(self, input: Any) -> Any:
        self._check_step(input, self.inputSize)
        h, c = (self._previous(n, input, self.outputSize) for n in self.state_names)
        zeros = np.zeros((*input.shape[:-1], self.outputSize), np.float32)
        h = zeros if h is None else h
        c = zeros if c is None else c
        peephole = self.peephole if self.cell2gate else None
        h, c = F.lstm_step(input, h, c, self.weight, self.bias, self.recurrentWeight, peephole)
        self.prevOutput, self.prevCell = h, c
        self.output = h
        return h


class GRU(AbstractRecurrent):
    """nn.GRU(inputSize, outputSize, [rho=9999], [p=0]): a gated recurrent unit (Cho 2014).

    The rnn package's GRU, one time step per ``forward`` (formulas in
    `nets.nn.functional.gru_step`; the reset gate scales h(t-1) before its matrix)::

        h(t) = (1 - z) * tanh(Wn x + bn + Un (r * h(t-1))) + z * h(t-1)

    Parameters: ``weight`` (3*outputSize, inputSize) and ``bias`` (3*outputSize) for the input,
    ``recurrentWeight`` (3*outputSize, outputSize) for h(t-1), rows in order reset gate,
    update gate, hidden; uniform in ±1/sqrt(inputSize) and ±1/sqrt(outputSize), as rnn's
    ``Linear``/``LinearNoBias``. The state ``prevOutput`` is kept until ``forget()``.

    Input ``(N, inputSize)`` or ``(inputSize,)``; output ``(N, outputSize)`` or
    ``(outputSize,)``.
    """

    state_names = ("prevOutput",)

    def __init__(
        self, inputSize: int, outputSize: int, rho: int = 9999, p: float = 0, mono: bool = False
    ) -> None:
        super().__init__(rho)
        self.inputSize = int_arg(self, "inputSize", "the size of each input step", inputSize)
        self.outputSize = int_arg(self, "outputSize", "the size of the output", outputSize)
        _no_dropout(self, p)
        d, h = self.inputSize, self.outputSize
        self.register_parameter("weight", np.zeros((3 * h, d), np.float32))
        self.register_parameter("bias", np.zeros((3 * h,), np.float32))
        self.register_parameter("recurrentWeight", np.zeros((3 * h, h), np.float32))
        self.reset()

    def reset(self, stdv: float | None = None) -> GRU:
        """Input weights and biases uniform in ±1/sqrt(inputSize), recurrent weights in
        ±1/sqrt(outputSize) (a given stdv: all in ±stdv)."""
        a = stdv if stdv is not None else 1 / np.sqrt(self.inputSize)
        b = stdv if stdv is not None else 1 / np.sqrt(self.outputSize)
        self.weight = _random.uniform(-a, a, self.weight.shape)
        self.bias = _random.uniform(-a, a, self.bias.shape)
        self.recurrentWeight = _random.uniform(-b, b, self.recurrentWeight.shape)
        return self

    def updateOutput(self, input: Any) -> Any:
        self._check_step(input, self.inputSize)
        h = self._previous("prevOutput", input, self.outputSize)
        if h is None:
            h = np.zeros((*input.shape[:-1], self.outputSize), np.float32)
        h = F.gru_step(input, h, self.weight, self.bias, self.recurrentWeight)
        self.prevOutput = h
        self.output = h
        return h


class _Add(Module):
    """A learned bias of `size` (rnn's ``nn.Add(start)`` for a numeric start of Recurrent)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        size = int_arg(self, "size", "the size of the start bias", size)
        stdv = 1 / np.sqrt(size)
        self.register_parameter("bias", _random.uniform(-stdv, stdv, (size,)))

    def updateOutput(self, input: Any) -> Any:
        self.output = input + self.bias.reshape((1,) * (input.ndim - 1) + (-1,))
        return self.output

    def __repr__(self) -> str:
        return f"nn.Add({self.bias.shape[0]})"


class Recurrent(AbstractRecurrent):
    """nn.Recurrent(start, input, feedback, [transfer=nn.Sigmoid()], [rho=9999], [merge]).

    The rnn package's simple recurrent net (Elman / Mikolov), one time step per ``forward``::

        output(0) = transfer(start(input(x(0))))
        output(t) = transfer(merge({input(x(t)), feedback(output(t-1))}))

    Args:
        start: a module, or a size: a learned bias of that size (rnn's ``nn.Add(start)``).
        input: the module applied to each input step (e.g. ``nn.Linear(nIn, nOut)``).
        feedback: the module applied to the previous output (e.g. ``nn.Linear(nOut, nOut)``).
        transfer: the non-linearity (default ``nn.Sigmoid()``).
        rho: recorded only (see `AbstractRecurrent`).
        merge: joins the two (default ``nn.CAddTable()``).

    Its children are ``modules = [start, input, feedback, transfer, merge]``; the state
    ``prevOutput`` is kept between steps until ``forget()``.
    """

    state_names = ("prevOutput",)

    def __init__(
        self,
        start: Any,
        input: Module,
        feedback: Module,
        transfer: Module | None = None,
        rho: int = 9999,
        merge: Module | None = None,
    ) -> None:
        super().__init__(rho)
        if not isinstance(start, Module):
            start = _Add(start)
        given = {"input": input, "feedback": feedback, "transfer": transfer, "merge": merge}
        for name, m in given.items():
            if m is not None and not isinstance(m, Module):
                raise ModuleError(
                    "nn.Recurrent", f"expected {name} to be an nn.Module, got {type(m).__name__}"
                )
        transfer = Sigmoid() if transfer is None else transfer
        merge = CAddTable() if merge is None else merge
        self.modules = [start, input, feedback, transfer, merge]

    def _child(self, index: int, input: Any) -> Any:
        try:
            return self.modules[index]._run(input)
        except ModuleError as e:
            raise e.within(index).with_traceback(None) from e.__cause__

    def updateOutput(self, input: Any) -> Any:
        x = self._child(1, input)
        previous = self.prevOutput
        if previous.size == 0:
            h = self._child(3, self._child(0, x))
        else:
            if tuple(previous.shape[:-1]) != tuple(x.shape[:-1]):
                raise ModuleError(
                    self._describe(),
                    f"the output kept from the step before has shape {shape_str(previous)}, "
                    f"but this step's input gives {shape_str(x)} after (1); call forget() to "
                    "start a new sequence",
                )
            h = self._child(3, self._child(4, [x, self._child(2, previous)]))
        self.prevOutput = h
        self.output = h
        return h

    def reset(self, stdv: float | None = None) -> Recurrent:
        """Reset every child (Torch7's Container.reset)."""
        for m in self.modules:
            m.reset(*(() if stdv is None else (stdv,)))
        return self

    def __repr__(self) -> str:
        pad = "\n    "
        roles = ("start, t == 0", "input", "feedback", "transfer", "merge")
        chain = "[{input(t), output(t-1)} -> (1), (2) -> (4) -> (3) -> output(t)]"
        lines = ["nn.Recurrent {", "  " + chain]
        for i, (role, m) in enumerate(zip(roles, self.modules, strict=True)):
            lines.append(f"  ({i}) {role}: " + repr(m).replace("\n", pad))
        lines.append("}")
        return "\n".join(lines)


class SeqLSTM(Module):
    """nn.SeqLSTM(inputsize, hiddensize, [outputsize=hiddensize]): an LSTM over a sequence.

    The rnn package's fast LSTM (after Justin Johnson's torch-rnn): the whole time-major
    sequence in one call, as one ``lax.scan`` (`nets.nn.functional.seq_lstm`), no peepholes.

    Input ``x`` of shape (seqlen, batch, inputsize), or a table ``[h0, x]`` or ``[c0, h0, x]``
    with initial states (batch, hiddensize); output (seqlen, batch, hiddensize). With
    ``batchfirst = True`` input and output are (batch, seqlen, ...). A (seqlen, inputsize)
    input is one sequence (a nets addition; rnn takes batches only).

    Parameters: ``weight`` (inputsize + hiddensize, 4*hiddensize), normal with std
    1/sqrt(inputsize + hiddensize), and ``bias`` (4*hiddensize), zero but 1 for the forget
    gate (rnn's ``reset``); gate columns in order input, forget, output, cell input.

    Memory (rnn's ``remember``): by default each call starts from zeros. After
    ``remember('both')`` (or ``'train'``/``'eval'``: in that mode only) each call starts from
    the last state of the call before, kept in the buffers ``h0``/``c0``; ``forget()`` drops
    it, as does switching between training and evaluation.

    Example:
        >>> from nets import nn
        >>> nn.SeqLSTM(3, 4).forward(jnp.ones((5, 2, 3))).shape
        (5, 2, 4)
    """

    def __init__(self, inputsize: int, hiddensize: int, outputsize: int | None = None) -> None:
        super().__init__()
        self.inputsize = int_arg(self, "inputsize", "the size of each input step", inputsize)
        self.hiddensize = int_arg(self, "hiddensize", "the size of the state", hiddensize)
        if outputsize is not None and outputsize != hiddensize:
            raise ModuleError(
                self._describe(),
                f"expected outputsize equal to hiddensize ({hiddensize}), got {outputsize!r}: "
                "a projected LSTM (rnn's SeqLSTMP) is not offered",
            )
        self.outputsize = self.hiddensize
        self.batchfirst = False
        self.rememberMode = "neither"
        d, h = self.inputsize, self.hiddensize
        self.register_parameter("weight", np.zeros((d + h, 4 * h), np.float32))
        self.register_parameter("bias", np.zeros((4 * h,), np.float32))
        self.register_buffer("h0", _no_state())
        self.register_buffer("c0", _no_state())
        self.reset()

    def reset(self, std: float | None = None) -> SeqLSTM:
        """weight ~ N(0, std^2) (std = 1/sqrt(inputsize + hiddensize)); bias 0, forget gate 1."""
        h = self.hiddensize
        std = 1 / np.sqrt(self.inputsize + h) if std is None else std
        self.weight = _random.normal(0.0, std, self.weight.shape)
        bias = np.zeros((4 * h,), np.float32)
        bias[h : 2 * h] = 1
        self.bias = bias
        return self

    def remember(self, mode: str = "both") -> SeqLSTM:
        """Carry the state over between calls: in 'both' modes, 'train', 'eval' or 'neither'."""
        self.rememberMode = _remember_mode(self, mode)
        return self

    def forget(self) -> SeqLSTM:
        """Drop the remembered state: the next call starts from zeros."""
        self.h0 = _no_state()
        self.c0 = _no_state()
        return self

    def _set_mode(self, train: bool) -> None:
        if bool(train) != bool(self.train):
            self.forget()  # rnn forgets at the start of each training and evaluation
        super()._set_mode(train)

    def _split_input(self, input: Any) -> tuple[Any, Any, Any]:
        if isinstance(input, (list, tuple)):
            if len(input) == 3:
                return input[0], input[1], input[2]
            if len(input) == 2:
                return None, input[0], input[1]
            raise ModuleError(
                self._describe(),
                f"expected x, [h0, x] or [c0, h0, x], got a table of {len(input)}",
            )
        return None, None, input

    def updateOutput(self, input: Any) -> Any:
        c0, h0, x = self._split_input(input)
        d, h = self.inputsize, self.hiddensize
        ndim = getattr(x, "ndim", None)
        if ndim not in (2, 3) or x.shape[-1] != d:
            layout = "(batch, seqlen, " if self.batchfirst else "(seqlen, batch, "
            raise ModuleError(
                self._describe(),
                f"expected x of shape {layout}{d}) or (seqlen, {d}), got {shape_str(x)}",
            )
        single = ndim == 2
        if single:
            x = x[:, None]
        elif self.batchfirst:
            x = x.swapaxes(0, 1)
        n = x.shape[1]
        remember = _remembers(self.rememberMode, self.train)
        states = []
        for name, given in (("h0", h0), ("c0", c0)):
            if given is not None:
                state = given[None] if single and getattr(given, "ndim", 0) == 1 else given
                if getattr(state, "shape", None) != (n, h):
                    raise ModuleError(
                        self._describe(),
                        f"expected {name} of shape ({n}, {h}) for a batch of {n}, got "
                        f"{shape_str(given)}",
                    )
            else:
                kept = getattr(self, name)
                if remember and kept.size:
                    if tuple(kept.shape) != (n, h):
                        raise ModuleError(
                            self._describe(),
                            f"the remembered state {name} is for a batch of {kept.shape[0]}, "
                            f"got a batch of {n}: batch sizes must stay the same to remember "
                            "states (call forget() first)",
                        )
                    state = kept
                else:
                    state = np.zeros((n, h), np.float32)
            states.append(state)
        hs, cs = F.seq_lstm(x, states[0], states[1], self.weight, self.bias)
        if remember:
            self.h0, self.c0 = hs[-1], cs[-1]
        if single:
            hs = hs[:, 0]
        elif self.batchfirst:
            hs = hs.swapaxes(0, 1)
        self.output = hs
        return hs

    def __repr__(self) -> str:
        return f"nn.SeqLSTM({self.inputsize} -> {self.hiddensize})"
