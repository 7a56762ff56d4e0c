"""The errors `nets` raises, and the one helper that formats them.

Every message says who (the module, with its path in the container), what was expected and what
was given: ``(7) nn.Linear(400 -> 120): expected input of size 400 in the last dimension, got
(128, 256)``. Containers add their index as the error travels up, so the path is complete.
"""

from __future__ import annotations


class NetsError(Exception):
    """Base class of every error raised on purpose by `nets`."""


class ModuleError(NetsError, ValueError):
    """A module refused its input (or failed inside), with the module's path in the network.

    Attributes:
        module: one-line description of the module, e.g. ``nn.Linear(400 -> 120)``.
        detail: what was expected and what was given.
        path: indices from the outermost container down to the module (0-based).
    """

    def __init__(self, module: str, detail: str, path: tuple[int, ...] = ()):
        self.module = module
        self.detail = detail
        self.path = tuple(path)
        super().__init__(self._message())

    def _message(self) -> str:
        where = "".join(f"({i})" if n == 0 else f".({i})" for n, i in enumerate(self.path))
        prefix = f"{where} {self.module}" if where else self.module
        return f"{prefix}: {self.detail}"

    def within(self, index: int) -> ModuleError:
        """The same error seen from a container that holds the module at `index`."""
        return ModuleError(self.module, self.detail, (index, *self.path))

    def __reduce__(self):
        return (ModuleError, (self.module, self.detail, self.path))


class StateDictError(NetsError, ValueError):
    """A state dict that does not fit the network, or a file that holds none."""


class DeviceError(NetsError, RuntimeError):
    """A module or array was sent to a device that JAX does not see."""


def shape_str(x) -> str:
    """`(128, 256)` for an array (or anything with .shape), else the type name."""
    shape = getattr(x, "shape", None)
    if shape is None:
        if isinstance(x, (list, tuple)):
            return "a table of " + str(len(x)) + " [" + ", ".join(shape_str(v) for v in x) + "]"
        return type(x).__name__
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
