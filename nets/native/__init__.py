"""Native CPU kernels: oneDNN's direct convolutions, registered as XLA FFI targets.

`pip install -e .` compiles ``dnnl_conv.cc`` with the machine's C++ compiler against oneDNN's
headers (the ``onednn-devel-cpu-gomp`` wheel, a build requirement) into ``_dnnl_conv*.so``
beside this file; the library itself comes from the ``onednn-cpu-gomp`` wheel (oneDNN built
with GNU OpenMP, which needs nothing beyond the compiler's own runtime). Nothing is loaded
when nets is imported: `load` runs the first time a convolution is traced on the CPU.

Where the extension was not built, or the library is missing or broken, `load` prints one
line saying why and nets keeps XLA's convolutions; it never raises. ``NETS_NATIVE=0`` turns
the native kernels off; ``NETS_DNNL_LIBRARY`` names a ``libdnnl.so.3`` to use instead of the
wheel's. `status()` says which path is in use (``th --doctor`` prints it).
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import sys
import threading
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ("NetsDnnlConvForward", "NetsDnnlConvBackwardData", "NetsDnnlConvBackwardWeights")
RUNTIME_DIST = "onednn-cpu-gomp"

_lock = threading.Lock()
_state: dict[str, object] = {}  # "ok": bool, "why": str, "library": path, "version": str


def extension_path() -> Path | None:
    """The built extension (``_dnnl_conv.cpython-311-x86_64-linux-gnu.so``), if any."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = HERE / f"_dnnl_conv{suffix}"
        if path.is_file():
            return path
    return None


def library_path() -> Path | None:
    """oneDNN's shared library: ``NETS_DNNL_LIBRARY``, else the onednn-cpu-gomp wheel's."""
    override = os.environ.get("NETS_DNNL_LIBRARY")
    if override:
        return Path(override)
    try:
        files = metadata.distribution(RUNTIME_DIST).files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == "libdnnl.so.3":
            return Path(f.locate()).resolve()
    return None


def _load() -> tuple[bool, str]:
    if os.environ.get("NETS_NATIVE", "1") == "0":
        return False, "turned off (NETS_NATIVE=0)"
    if not (sys.platform == "linux" and os.uname().machine == "x86_64"):
        return False, f"built only for Linux x86_64 (this is {sys.platform} {os.uname().machine})"
    ext = extension_path()
    if ext is None:
        return False, f"the extension was not built (no _dnnl_conv*.so in {HERE})"
    lib = library_path()
    if lib is None or not lib.is_file():
        where = lib or f"the {RUNTIME_DIST} wheel is not installed"
        return False, f"oneDNN's library is missing ({where})"
    try:
        dnnl = ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
    except OSError as error:
        return False, f"cannot load oneDNN's library: {error}"
    try:
        native = ctypes.CDLL(str(ext))
    except OSError as error:
        return False, f"cannot load the extension: {error}"
    version = dnnl.dnnl_version
    version.restype = ctypes.POINTER(ctypes.c_int * 3)
    found = tuple(version().contents)
    built = native.nets_dnnl_built_version()
    if (found[0], found[1]) != (built // 10000, built // 100 % 100):
        return False, (
            f"{lib} is oneDNN {'.'.join(map(str, found))}, the extension was built against "
            f"{built // 10000}.{built // 100 % 100}"
        )
    import jax

    for name in TARGETS:
        jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(native, name)), platform="cpu")
    _state["library"] = str(lib)
    _state["version"] = ".".join(map(str, found))
    return True, ""


def load() -> bool:
    """Load and register the kernels once; True when they are in use. A failure prints one
    line (once) and leaves nets on XLA's convolutions."""
    with _lock:
        if "ok" not in _state:
            try:
                ok, why = _load()
            except Exception as error:  # noqa: BLE001 - a broken library must not end a session
                ok, why = False, f"{type(error).__name__}: {error}"
            _state["ok"], _state["why"] = ok, why
            quiet = why.startswith("turned off") or why.startswith("built only")
            if not ok and not quiet:
                print(f"nets: native convolutions unavailable, using XLA's: {why}", file=sys.stderr)
        return bool(_state["ok"])


def status() -> str:
    """One line for ``th --doctor``: which convolutions nets uses on the CPU, and why."""
    if load():
        return f"oneDNN {_state['version']} (native, {_state['library']})"
    return f"XLA's (native oneDNN kernels unavailable: {_state['why']})"
