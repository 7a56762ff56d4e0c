"""Kernel test set-up: a private Jupyter home with the itorch kernelspec installed, real kernels.

Kernels take a second or more to start, so each test module shares one (`kernel`, module-scoped);
`jupyter_helpers` drives it through jupyter_client exactly as a front end does.
The session-wide autouse fixture in tests/conftest.py gives each *test* a private HOME; a
module-scoped kernel needs its own, made here before the kernel starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .jupyter_helpers import drain, start_kernel


@pytest.fixture(scope="module")
def jupyter_home(tmp_path_factory):
    """A private HOME / JUPYTER_* for the module, with the itorch kernelspec installed (--user)."""
    from kernel import kernelspec

    home = tmp_path_factory.mktemp("kernel-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", str(home))
    patch.setenv("JUPYTER_DATA_DIR", str(home / ".local/share/jupyter"))
    patch.setenv("JUPYTER_CONFIG_DIR", str(home / ".jupyter"))
    patch.setenv("JUPYTER_RUNTIME_DIR", str(home / ".local/share/jupyter/runtime"))
    patch.setenv("IPYTHONDIR", str(home / ".ipython"))
    patch.setenv("TREPL_HISTORY", str(home / ".trepl_history"))
    patch.setenv("JAX_PLATFORMS", "cpu")
    installed = kernelspec.install(user=True)
    assert Path(installed).is_relative_to(home), installed
    yield home
    patch.undo()


@pytest.fixture(scope="module")
def kernel(jupyter_home):
    """(manager, client) of one running itorch kernel shared by a test module."""
    km, kc = start_kernel()
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=False)


@pytest.fixture
def kc(kernel):
    """The module's kernel client, with stale iopub messages drained."""
    client = kernel[1]
    drain(client)
    return client
