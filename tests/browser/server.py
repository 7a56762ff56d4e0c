"""Starting `itorch notebook` for the browser tests: a private home, a free port, a known token.

The server is the real command (`python -m kernel notebook`), started as a user would start it,
in a folder holding copies of the notebooks (so autosave never writes into the repository).
If it exits before answering, the test fails with the server's own last lines (its reason),
never a timeout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TOKEN = "itorch-browser-test"
START_TIMEOUT = 90  # seconds; a server on two busy cores answers within about five


class ServerError(RuntimeError):
    """`itorch notebook` exited instead of serving; the message is its own output."""


@dataclass
class Server:
    """A running `itorch notebook`: its process, address and folder."""

    process: subprocess.Popen
    port: int
    root: Path
    log: Path

    def url(self, path: str) -> str:
        """The browser address of `path` (e.g. 'notebooks/x.ipynb'), token included."""
        return f"http://127.0.0.1:{self.port}/{path}?token={TOKEN}"

    def shutdown_kernels(self) -> None:
        """End every kernel session the pages started (each holds a JAX process)."""
        with urllib.request.urlopen(self.url("api/sessions"), timeout=10) as reply:
            sessions = json.load(reply)
        for session in sessions:
            request = urllib.request.Request(self.url(f"api/sessions/{session['id']}"))
            request.method = "DELETE"
            urllib.request.urlopen(request, timeout=30).close()

    def stop(self) -> None:
        """Stop the server and the kernels it started (Ctrl-C twice is Jupyter's own way)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_env(home: Path) -> dict[str, str]:
    """The environment for the server and its kernels: every Jupyter folder under `home`.

    Notebook's settings ask it to keep every cell in the page (no virtual scrolling), so the
    tests can read outputs that are scrolled out of view.
    """
    settings = home / ".jupyter/lab/user-settings/@jupyterlab/notebook-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
        IPYTHONDIR=str(home / ".ipython"),
        TREPL_HISTORY=str(home / ".trepl_history"),
        JAX_PLATFORMS="cpu",
    )
    return env


def start(home: Path, root: Path, port: int, ip: str = "127.0.0.1") -> Server:
    """Run `itorch notebook --ip=<ip> --port=<port>` serving `root`; return once it answers.

    `port_retries=0`: a port taken between `free_port()` and the start must fail loudly, not
    move the server to a port the browser does not know.

    Raises:
        ServerError: the server exited first; the message holds its last lines of output.
    """
    log = home / "notebook-server.log"
    command = [
        sys.executable, "-m", "kernel", "notebook", f"--ip={ip}", f"--port={port}",
        "--no-browser", "--allow-root", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
        "--JupyterNotebookApp.expose_app_in_browser=True",  # window.jupyterapp, for the tests
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, env=private_env(home), stdout=out, stderr=subprocess.STDOUT, cwd=root
        )
    server = Server(process, port, root, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = [line for line in log.read_text().splitlines() if line.strip()]
            raise ServerError(
                f"itorch notebook exited with status {process.returncode}: "
                + " | ".join(lines[-3:])
            )
        try:
            with urllib.request.urlopen(server.url("api/status"), timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    server.stop()
    raise ServerError(f"itorch notebook did not answer within {START_TIMEOUT} s; see {log}")
