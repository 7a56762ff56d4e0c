"""`th --doctor`: what a person debugging an install needs to see, one fact a line."""

from __future__ import annotations

import os
import socket
import sys

from trepl.app import history_path


def _jax_facts() -> list[str]:
    try:
        import jax
    except Exception as exc:  # noqa: BLE001 - the report must go on
        return [f"jax: cannot import ({exc})"]
    lines = [f"jax: {jax.__version__} (jaxlib {getattr(jax.lib, '__version__', '?')})"]
    try:
        lines.append(f"jax backend: {jax.default_backend()}")
        lines.append(f"jax devices: {', '.join(str(d) for d in jax.devices())}")
    except Exception as exc:  # noqa: BLE001
        lines.append(f"jax backend: unavailable ({exc})")
    lines.append(f"jax x64 mode: {'on' if jax.config.jax_enable_x64 else 'off'}")
    return lines


def _module_fact(name: str) -> str:
    try:
        module = __import__(name)
    except Exception as exc:  # noqa: BLE001
        return f"{name}: cannot import ({type(exc).__name__}: {exc})"
    return f"{name}: {os.path.dirname(getattr(module, '__file__', '') or '?')}"


def _kernelspec_fact() -> str:
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except Exception as exc:  # noqa: BLE001
        return f"itorch kernelspec: jupyter_client missing ({exc})"
    specs = KernelSpecManager().find_kernel_specs()
    if "itorch" not in specs:
        return "itorch kernelspec: not installed (run `itorch install`)"
    from kernel.kernelspec import stale_reason

    reason = stale_reason(specs["itorch"])
    if reason is not None:
        return (
            f"itorch kernelspec: STALE at {specs['itorch']}: {reason}; "
            "run `itorch install` (any itorch command also rewrites it)"
        )
    return f"itorch kernelspec: installed at {specs['itorch']}"


def _bind_fact() -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    except OSError as exc:
        return f"bind 127.0.0.1: FAILED ({exc}); Jupyter kernels will not start"
    return f"bind 127.0.0.1: ok (got port {port})"


def _allocator_fact() -> str:
    from trepl import hugepages

    tunables = os.environ.get("GLIBC_TUNABLES", "")
    state = "on" if hugepages.SETTING in tunables else "off"
    glibc = hugepages.glibc_version()
    libc = f"glibc {glibc[0]}.{glibc[1]}" if glibc else "not glibc"
    return (
        f"glibc huge pages for XLA's buffers: {state} (GLIBC_TUNABLES={tunables or 'unset'}, "
        f"{libc}; needs 2.35+; TREPL_HUGEPAGES=0 turns off)"
    )


def _native_fact() -> str:
    try:
        from nets import native
    except Exception as exc:  # noqa: BLE001
        return f"convolutions on the CPU: nets.native cannot import ({exc})"
    return f"convolutions on the CPU: {native.status()}"


def report() -> str:
    """The doctor's report as text."""
    history = history_path()
    startup = os.environ.get("TREPLSTARTUP")
    lines = [
        f"python: {sys.version.split()[0]} ({sys.executable})",
        *_jax_facts(),
        _module_fact("nets"),
        _native_fact(),
        f"history file: {history} ({'exists' if os.path.exists(history) else 'not created yet'})",
        f"startup file: {startup if startup else '(TREPLSTARTUP not set)'}",
        f"NO_COLOR: {'set' if os.environ.get('NO_COLOR') else 'not set'}",
        _allocator_fact(),
        _kernelspec_fact(),
        _bind_fact(),
    ]
    return "\n".join(lines)
