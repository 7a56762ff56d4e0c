"""`save_session('run1')` / `load_session('run1')`: a session's data in one file, no code.

The snapshot is one nets checkpoint (`nets.serialization`, written atomically by
`nets._atomic`): its module is an `nn.Container` of the session's modules (each rebuilt through
its constructor on load, shared weights kept shared), its extra arrays are the session's
arrays, and its metadata holds one JSON document: which name is which module or array, the
plain data (numbers, strings, lists, tuples, dicts of them, arrays inside them included, in
`nets.architecture`'s tagged JSON) and the history of inputs and outputs (`trepl.session_log`).

Nothing is pickled: functions, classes, modules of code and other objects are not saved; the
snapshot lists them with the reason. Loading imports nothing and runs nothing from the file;
modules of classes of your own load when the class is defined again in the namespace.
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trepl.session_log import Entry

if TYPE_CHECKING:
    from trepl.evaluator import Evaluator

SUFFIX = ".session"
FORMAT = "trepl-session"
VERSION = 1


class SnapshotError(ValueError):
    """A file that is not a session snapshot, or a damaged one; the message names the file."""


def snapshot_path(name: str | os.PathLike) -> Path:
    """`'run1'` -> `run1.session`; a name that has a suffix is used as it is."""
    if not isinstance(name, (str, os.PathLike)) or not str(name):
        raise TypeError(f"expected a snapshot name such as 'run1', got {name!r}")
    path = Path(name)
    return path if path.suffix else path.with_name(path.name + SUFFIX)


@dataclass
class SnapshotReport:
    """What was saved or restored, and what was not (name -> why)."""

    action: str
    path: Path
    arrays: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        def names(items: list[str]) -> str:
            return f" ({', '.join(items)})" if items else ""

        lines = [
            f"{self.action} {self.path}: {len(self.arrays)} array(s){names(self.arrays)}, "
            f"{len(self.modules)} module(s){names(self.modules)}, {len(self.data)} plain "
            f"value(s){names(self.data)}, history of {len(self.history)} input(s)"
        ]
        for name, why in self.skipped.items():
            lines.append(f"  not saved: {name}: {why}")
        return "\n".join(lines)


def _why_not(value: Any) -> str | None:
    """Why a value cannot go into a snapshot (None: it can, as array, module or data)."""
    if isinstance(value, types.ModuleType):
        return "a module: import it again"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return "code (a function): a snapshot never stores code"
    if isinstance(value, type):
        return "code (a class): a snapshot never stores code"
    return None


def _kind(value: Any) -> str | None:
    import jax
    import numpy as np

    if isinstance(value, jax.Array):
        return "jax"
    if isinstance(value, np.ndarray):
        return "numpy"
    return None


def save_session(evaluator: Evaluator, name: str | os.PathLike) -> SnapshotReport:
    """save_session('run1'): arrays, modules, plain data and history to `run1.session`."""
    from nets import architecture, nn
    from nets.serialization import write_checkpoint

    path = snapshot_path(name)
    report = SnapshotReport("saved", path)
    ns = evaluator.namespace
    arrays: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    found: dict[str, Any] = {}  # name -> module
    data: dict[str, Any] = {}
    for key in sorted(ns):
        value = ns[key]
        if key.startswith("_") or key in evaluator.preloaded:
            continue
        why = _why_not(value)
        if why is not None:
            report.skipped[key] = why
            continue
        kind = _kind(value)
        if kind is not None:
            arrays[f"name:{key}"], kinds[f"name:{key}"] = value, kind
            report.arrays.append(key)
            continue
        if isinstance(value, nn.Module):
            found[key] = value
            report.modules.append(key)
            continue
        inner: dict[str, Any] = {}

        def store(array: Any, key: str = key, inner: dict = inner) -> str:
            kind = _kind(array)
            if kind is None:
                raise architecture.ArchitectureError(f"{type(array).__name__} is not storable")
            label = f"data:{key}.{len(inner)}"
            inner[label] = (array, kind)
            return label

        try:
            encoded = architecture.encode(value, key, store, [])
            json.dumps(encoded, allow_nan=True)
        except (architecture.ArchitectureError, TypeError, ValueError, RecursionError) as error:
            report.skipped[key] = (
                f"a {type(value).__name__}, not an array, a module or plain data ({_short(error)})"
            )
            continue
        data[key] = encoded
        for label, (array, kind) in inner.items():
            arrays[label], kinds[label] = array, kind
        report.data.append(key)
    modules, module_of = _module_roots(found)
    report.history = evaluator.log.inputs()
    document = {
        "format": FORMAT,
        "version": VERSION,
        "modules": module_of,
        "kinds": kinds,
        "data": data,
        "history": [e.to_json() for e in evaluator.log.entries],
        "skipped": report.skipped,
    }
    root = nn.Container(*modules) if modules else None
    write_checkpoint(path, root, arrays, {"trepl_session": json.dumps(document)})
    return report


def _module_roots(found: dict[str, Any]) -> tuple[list[Any], dict[str, list]]:
    """The modules to store (none inside another) and, per name, ``[index, path inside]``:
    a name bound to a sub-module of another saved module comes back as that very sub-module."""
    roots: list[Any] = []
    for module in found.values():
        inside = any(
            m is module for other in found.values() if other is not module
            for _, m in other.named_modules()
        )  # fmt: skip
        if not inside and not any(r is module for r in roots):
            roots.append(module)
    module_of = {}
    for key, module in found.items():
        for index, root in enumerate(roots):
            path = next((p for p, m in root.named_modules() if m is module), None)
            if path is not None:
                module_of[key] = [index, path]
                break
    return roots, module_of


def _short(error: BaseException) -> str:
    text = str(error).split("; expected", 1)[0]
    return text if len(text) < 120 else text[:117] + "..."


class _Restored(Mapping):
    """The snapshot's arrays as they were: numpy arrays as numpy, JAX arrays on the device."""

    def __init__(self, raw: Mapping[str, Any], kinds: Mapping[str, str]) -> None:
        self._raw, self._kinds = raw, kinds
        self.device = True  # architecture.decode hands out what __getitem__ gives

    def __getitem__(self, label: str) -> Any:
        import jax.numpy as jnp
        import numpy as np

        value = self._raw[label]
        return jnp.asarray(value) if self._kinds.get(label) == "jax" else np.array(value)

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def load_session(evaluator: Evaluator, name: str | os.PathLike) -> SnapshotReport:
    """load_session('run1'): restore the names `save_session('run1')` saved, here."""
    from nets import architecture, nn
    from nets.serialization import CheckpointError, read_checkpoint

    path = snapshot_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"load_session: no snapshot at {path}")
    ns = evaluator.namespace
    own = {
        f"{v.__module__}.{v.__qualname__}": v
        for v in ns.values()
        if isinstance(v, type) and issubclass(v, nn.Module)
    }
    try:
        checkpoint = read_checkpoint(path, own)
    except (CheckpointError, OSError) as error:
        raise SnapshotError(f"load_session: {path} cannot be read: {error}") from None
    document = _document(path, checkpoint.meta)
    arrays = _Restored(checkpoint.arrays, document["kinds"])
    children = checkpoint.module.children() if checkpoint.module is not None else []
    restored: dict[str, Any] = {}
    report = SnapshotReport("restored", path, skipped=dict(document["skipped"]))
    for label in arrays:
        if label.startswith("name:"):
            restored[label[5:]] = arrays[label]
            report.arrays.append(label[5:])
    for key, place in document["modules"].items():
        try:
            index, inner = place
            restored[key] = dict(children[index].named_modules())[inner]
        except (TypeError, ValueError, IndexError, KeyError):
            raise SnapshotError(
                f"load_session: {path}: module {key!r} refers to {place!r}, which is not "
                f"[index, path] of one of its {len(children)} modules"
            ) from None
        report.modules.append(key)
    for key, encoded in document["data"].items():
        try:
            restored[key] = architecture.decode(encoded, arrays, [], key)
        except (architecture.ArchitectureError, KeyError, TypeError) as error:
            raise SnapshotError(
                f"load_session: {path}: value {key!r} is malformed: {error}"
            ) from None
        report.data.append(key)
    history = [Entry.from_json(e, f"load_session: {path}: history entry {i}")
               for i, e in enumerate(document["history"])]  # fmt: skip
    ns.update(restored)
    report.history = [e.source for e in history]
    return report


def _document(path: Path, meta: Any) -> dict:
    text = meta.get("trepl_session") if isinstance(meta, dict) else None
    if not isinstance(text, str):
        raise SnapshotError(
            f"load_session: {path} is a nets checkpoint but not a session snapshot (no "
            "'trepl_session' in its metadata; nets.load reads it)"
        )
    try:
        document = json.loads(text)
    except ValueError as error:
        raise SnapshotError(
            f"load_session: {path}: the session document is not JSON ({error})"
        ) from None
    expected = {"modules": dict, "kinds": dict, "data": dict, "history": list, "skipped": dict}
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"load_session: {path}: expected a {FORMAT} document")
    if document.get("version") != VERSION:
        raise SnapshotError(
            f"load_session: {path}: snapshot version {document.get('version')!r}, this trepl "
            f"reads version {VERSION}"
        )
    for key, kind in expected.items():
        if not isinstance(document.get(key), kind):
            raise SnapshotError(
                f"load_session: {path}: the session document's {key!r} is not a {kind.__name__}"
            )
    return document
