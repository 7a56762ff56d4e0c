"""The preloaded namespace: lazy `jax`/`nets` names, `who()`, `import_()`, `_RESULTS`/`_LAST`.

Importing JAX takes about a second, so the preloaded modules are `LazyModule` stand-ins that
import the real module on first use. `th` shows its prompt before any of them is loaded; the
evaluator swaps a loaded stand-in for the real module (`materialize`) so that `type(jnp)`,
`jnp is jax.numpy` and completion all see the genuine object.
"""

from __future__ import annotations

import importlib
import threading
import types
from typing import Any

from trepl import guard, timing

# Held while a preloaded module is imported. JAX's package cannot be imported from two threads at
# once (the second sees partially initialised modules), so the warm-up thread and the main thread
# take turns; waiting on it stays interruptible by Ctrl-C.
_IMPORT_LOCK = threading.RLock()

# name in the namespace -> module path. `itorch` is optional (the kernel package provides it).
PRELOADED_MODULES: dict[str, str] = {
    "np": "numpy",
    "jax": "jax",
    "jnp": "jax.numpy",
    "nets": "nets",
    "nn": "nets.nn",
    "optim": "nets.optim",
    "models": "nets.models",
    "itorch": "kernel.itorch",
}


class LazyModule(types.ModuleType):
    """A module stand-in that imports `target` when an attribute is first read.

    A failed import (say `nets.models` not written yet) raises only when the name is used, with
    a message that names the preloaded name and the module behind it.
    """

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name)
        # Stored in __dict__ under private names, so __getattr__ never sees them.
        self.__dict__["_lazy_target"] = target
        self.__dict__["_lazy_module"] = None

    def _load(self) -> types.ModuleType:
        module = self.__dict__["_lazy_module"]
        if module is None:
            target = self.__dict__["_lazy_target"]
            try:
                with _IMPORT_LOCK:
                    module = importlib.import_module(target)
            except ImportError as exc:
                raise type(exc)(
                    f"preloaded name {self.__name__!r}: could not import {target!r} ({exc})"
                ) from exc
            self.__dict__["_lazy_module"] = module
            timing.install_listener()  # count compilations from this cell on
        return module

    @property
    def lazy_loaded(self) -> bool:
        """True once the real module has been imported (here or anywhere in the process)."""
        if self.__dict__["_lazy_module"] is not None:
            return True
        # A module the warm-up thread is still importing does not count as loaded yet.
        return timing.imported(self.__dict__["_lazy_target"]) is not None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # Probes such as __wrapped__ or __path__ must not trigger a one-second import.
            raise AttributeError(attr)
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        if self.lazy_loaded:
            return repr(self._load())
        return f"<module {self.__dict__['_lazy_target']!r} (loads on first use)>"


def preloaded_namespace() -> dict[str, Any]:
    """Return the names `th` starts with: lazy modules plus the `who`/`import_` helpers."""
    ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    for name, target in PRELOADED_MODULES.items():
        ns[name] = LazyModule(name, target)
    return ns


def materialize(namespace: dict[str, Any], names: list[str] | None = None) -> None:
    """Replace stand-ins by their real modules: all loaded ones, plus `names` (importing them).

    A name whose import fails keeps its stand-in, so the error shows when the user touches it.
    """
    for key, value in list(namespace.items()):
        # type(), not isinstance(): isinstance reads `__class__` through the object, which
        # raises for a dead weakref.proxy or a raising __getattribute__ (every cell would fail).
        if not issubclass(type(value), LazyModule):
            continue
        if value.lazy_loaded or (names is not None and key in names):
            try:
                namespace[key] = value._load()
            except ImportError:
                continue


def warm_up(
    names: tuple[str, ...] = ("jax", "jnp", "nets", "nn"), also: tuple[str, ...] = ()
) -> None:
    """Import the heavy preloaded modules, then the modules `also` names.

    Called from a background thread once the prompt is up; holds the import lock throughout.
    """
    targets = [PRELOADED_MODULES[name] for name in names] + list(also)
    with _IMPORT_LOCK:
        for target in targets:
            try:
                importlib.import_module(target)
            except Exception:  # noqa: BLE001 - reported when the user touches the name
                continue
        timing.install_listener()


def wait_for_imports() -> None:
    """Return once no preloaded module is being imported (by the warm-up thread)."""
    with _IMPORT_LOCK:
        pass


def _array_facts(value: Any) -> tuple[str, str, str, int] | None:
    """(shape, dtype, device, bytes) for a numpy or JAX array, else None. Never imports JAX."""
    np_mod = timing.imported("numpy")
    if np_mod is not None and isinstance(value, np_mod.ndarray):
        return ("x".join(map(str, value.shape)) or "scalar", str(value.dtype), "cpu", value.nbytes)
    jax_mod = timing.imported("jax")
    if jax_mod is not None and isinstance(value, jax_mod.Array):
        devices = sorted(value.devices(), key=lambda d: d.id)
        device = str(devices[0]) if len(devices) == 1 else f"{len(devices)} devices"
        shape = "x".join(map(str, value.shape)) or "scalar"
        return (shape, str(value.dtype), device.lower(), value.nbytes)
    return None


def _format_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def who_table(namespace: dict[str, Any], hidden: set[str], show_all: bool = False) -> str:
    """The text of `who()`: one row per variable with type, shape, dtype, device and bytes."""
    rows = []
    sizes: dict[str, int] = {}
    total = 0
    for name in sorted(namespace, key=str):
        if not isinstance(name, str) or name.startswith("_") or (name in hidden and not show_all):
            continue
        value = namespace[name]
        if issubclass(type(value), types.ModuleType) and name not in hidden and not show_all:
            continue
        facts = guard.attempt(lambda value=value: _array_facts(value), None)
        if facts is None:
            rows.append((name, type(value).__name__, "", "", "", ""))
        else:
            shape, dtype, device, nbytes = facts
            total += nbytes
            sizes[name] = nbytes
            kind = "numpy.ndarray" if type(value).__module__ == "numpy" else "jax.Array"
            rows.append((name, kind, shape, dtype, device, _format_bytes(nbytes)))
    rows.sort(key=lambda row: -sizes.get(row[0], -1))  # the largest arrays first
    header = ("name", "type", "shape", "dtype", "device", "bytes")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    lines.append(f"{len(rows)} variable(s), {_format_bytes(total)} in arrays")
    return "\n".join(lines)


class Who:
    """`who()` lists user variables; `who(True)` adds the preloaded names."""

    def __init__(self, namespace: dict[str, Any], hidden: set[str]) -> None:
        self._namespace = namespace
        self._hidden = hidden
        self.footer: Any = None  # a callable giving more lines (the evaluator's memory ledger)

    def __call__(self, show_all: bool = False) -> None:
        print(who_table(self._namespace, self._hidden, show_all))
        if self.footer is not None:
            for line in self.footer():
                print(line)

    def __repr__(self) -> str:
        return "<who(): list variables with shape, dtype, device and bytes; who(True) for all>"


class Importer:
    """`import_('pkg')`: copy a module's public names into the namespace (TREPL's `import`)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def __call__(self, package: str) -> list[str]:
        if not isinstance(package, str):
            raise TypeError(f"import_: expected a module name as a string, got {package!r}")
        module = importlib.import_module(package)
        public = getattr(module, "__all__", None)
        if public is None:
            public = [n for n in vars(module) if not n.startswith("_")]
        names = []
        for name in public:
            self._namespace[name] = getattr(module, name)
            names.append(name)
        return names

    def __repr__(self) -> str:
        return "<import_('pkg'): copy a module's public names into the namespace>"


class Exit:
    """`exit(code)` / `quit(code)` in the shell's namespace: SystemExit, as the builtin raises,
    without the builtin's closing of stdin first (a `__repr__` or a callback that calls
    ``exit()`` would otherwise take the shell's terminal input with it)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"

    def __call__(self, code: object = None) -> None:
        raise SystemExit(code)
