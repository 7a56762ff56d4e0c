"""Builds nets' native CPU kernels (nets/native/dnnl_conv.cc) during `pip install -e .`.

Everything else is declared in pyproject.toml. The extension is optional: without a C++
compiler, or off Linux x86_64, the install goes on and nets uses XLA's convolutions.
"""

import platform
import sys
from importlib import metadata
from pathlib import Path

from setuptools import Extension, setup


def _dnnl_include() -> str | None:
    """oneDNN's headers, from the onednn-devel-cpu-gomp wheel (a build requirement)."""
    try:
        files = metadata.distribution("onednn-devel-cpu-gomp").files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).endswith("oneapi/dnnl/dnnl.hpp"):
            return str(Path(f.locate()).resolve().parents[2])
    return None


def _extensions() -> list[Extension]:
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return []
    include = _dnnl_include()
    if include is None:
        print("nets: oneDNN headers not found; native convolutions will not be built")
        return []
    return [
        Extension(
            "nets.native._dnnl_conv",
            sources=["nets/native/dnnl_conv.cc"],
            include_dirs=[include, "nets/native/include"],
            extra_compile_args=["-std=c++17", "-O2", "-fvisibility=hidden"],
            language="c++",
            optional=True,  # a failed build leaves nets on XLA's convolutions
        )
    ]


setup(ext_modules=_extensions())
