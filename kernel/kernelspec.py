"""The `itorch` kernelspec, built from pure functions (after ipykernel's `kernelspec.py`).

`make_cmd` -> `get_kernel_dict` -> `write_kernel_spec(path)` -> `install(...)`: each step can be
called (and tested) on its own, and only `install`, `uninstall` and `ensure_current` touch a
Jupyter data directory.

A spec names the interpreter that wrote it. When that environment is gone (or another one runs
`itorch`), `stale_reason` says why the spec no longer fits, and `ensure_current` rewrites it for
the running interpreter: every `itorch` command calls it before it starts Jupyter.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_NAME = "itorch"
DISPLAY_NAME = "iTorch"
RESOURCES = Path(__file__).parent / "resources"


def make_cmd(executable: str | None = None, extra_arguments: list[str] | None = None) -> list[str]:
    """The argv Jupyter runs to start the kernel: `python -m kernel kernel -f {connection_file}`.

    `python -m kernel` is the `itorch` command, so this is `itorch kernel -f CONNECTION_FILE`
    without depending on the console script being on PATH.
    """
    return [
        executable or sys.executable,
        "-m",
        "kernel",
        "kernel",
        "-f",
        "{connection_file}",
        *(extra_arguments or []),
    ]


def get_kernel_dict(extra_arguments: list[str] | None = None) -> dict[str, Any]:
    """The content of `kernel.json`."""
    return {
        "argv": make_cmd(extra_arguments=extra_arguments),
        "display_name": DISPLAY_NAME,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def write_kernel_spec(
    path: str | Path | None = None, extra_arguments: list[str] | None = None
) -> Path:
    """Write a kernelspec directory (kernel.json + logos) to `path` (a new temp dir if None)."""
    if path is None:
        path = Path(tempfile.mkdtemp(suffix="_kernels")) / KERNEL_NAME
    path = Path(path)
    shutil.copytree(RESOURCES, path, dirs_exist_ok=True)
    (path / "kernel.json").write_text(json.dumps(get_kernel_dict(extra_arguments), indent=1))
    return path


def install(
    user: bool = False,
    sys_prefix: bool = False,
    prefix: str | None = None,
    kernel_name: str = KERNEL_NAME,
) -> str:
    """Install the kernelspec where Jupyter finds it; returns the installed directory.

    Args:
        user: install into the user's Jupyter data dir (`$JUPYTER_DATA_DIR/kernels`).
        sys_prefix: install into this Python environment (`sys.prefix/share/jupyter/kernels`).
        prefix: install under `PREFIX/share/jupyter/kernels`.
        kernel_name: directory name of the spec (what `--kernel=` selects).

    With none of the three, installs system-wide, as `jupyter kernelspec install` does.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    chosen = [
        name for name, on in (("user", user), ("sys_prefix", sys_prefix), ("prefix", prefix)) if on
    ]
    if len(chosen) > 1:
        raise ValueError(
            f"itorch install: choose one of --user, --sys-prefix, --prefix; got {', '.join(chosen)}"
        )
    if sys_prefix:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        spec_dir = write_kernel_spec(Path(tmp) / kernel_name)
        return KernelSpecManager().install_kernel_spec(
            str(spec_dir), kernel_name, user=user, prefix=prefix
        )


def find_installed(kernel_name: str = KERNEL_NAME) -> str | None:
    """The directory of the installed spec `kernel_name`, or None when Jupyter cannot find it."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().find_kernel_specs().get(kernel_name)


def uninstall(kernel_name: str = KERNEL_NAME) -> str | None:
    """Remove the spec Jupyter finds under `kernel_name`; returns its directory (None if none)."""
    from jupyter_client.kernelspec import KernelSpecManager

    if find_installed(kernel_name) is None:
        return None
    return KernelSpecManager().remove_kernel_spec(kernel_name)


def stale_reason(spec_dir: str | Path, executable: str | None = None) -> str | None:
    """Why the spec in `spec_dir` would not start this interpreter's itorch (None: it would)."""
    executable = executable or sys.executable
    try:
        argv = json.loads((Path(spec_dir) / "kernel.json").read_text())["argv"]
        python = argv[0]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
        return f"its kernel.json is unreadable ({err})"
    if not os.path.exists(python):
        return f"it runs {python}, which no longer exists"
    if os.path.normpath(python) != os.path.normpath(executable):
        return f"it runs {python}, not this environment's {executable}"
    return None


def ensure_current(kernel_name: str = KERNEL_NAME) -> tuple[str, str | None]:
    """Make sure the spec Jupyter finds runs this interpreter; returns (its directory, a note).

    No spec: install one for the user. A stale one: rewrite it where it is when that is
    writable, else install a user spec (which Jupyter looks at first). The note says what was
    done (None when the spec was already current).
    """
    found = find_installed(kernel_name)
    if found is None:
        path = install(user=True, kernel_name=kernel_name)
        return path, f"installed the iTorch kernelspec in {path}"
    reason = stale_reason(found)
    if reason is None:
        return found, None
    if os.access(found, os.W_OK) and os.access(Path(found) / "kernel.json", os.W_OK):
        write_kernel_spec(found)
        path = found
    else:
        path = install(user=True, kernel_name=kernel_name)
    return path, f"the iTorch kernelspec at {found} was stale ({reason}); rewrote it in {path}"
