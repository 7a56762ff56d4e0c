"""Shared test set-up: strict JAX, CPU only, a private HOME so nothing touches the user's files."""

import os

# Must be set before JAX is imported anywhere in the test process.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import pytest  # noqa: E402


def pytest_configure(config):
    import jax

    jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    """Give every test its own HOME, history file and Jupyter dirs."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TREPL_HISTORY", str(home / ".trepl_history"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home / ".local/share/jupyter"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home / ".jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(home / ".local/share/jupyter/runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(home / ".ipython"))
    yield home


@pytest.fixture
def seed():
    import nets

    nets.manual_seed(0)
    return 0
