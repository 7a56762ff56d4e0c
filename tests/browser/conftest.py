"""Browser suite set-up: one `itorch notebook` server and one headless Chromium per session.

The server serves a temporary folder holding copies of `notebooks/*.ipynb` plus the small
notebooks the tests write; pages are driven through Selenium. Where Chromium, chromedriver or
selenium is missing, the tests that need a browser are skipped with a one-line reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from . import page, server

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory):
    """A running `itorch notebook --ip=127.0.0.1` on a free port, serving copies of notebooks/."""
    home = tmp_path_factory.mktemp("browser-home")
    root = home / "work"
    shutil.copytree(NOTEBOOKS, root / "notebooks")
    running = server.start(home, root, server.free_port())
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium under Selenium (skips the test with the reason when there is none)."""
    reason = page.missing_browser()
    if reason:
        pytest.skip(f"browser suite: {reason}")
    driver = page.launch()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where each notebook's screenshot goes (under pytest's temporary directory)."""
    return tmp_path_factory.mktemp("screenshots")
