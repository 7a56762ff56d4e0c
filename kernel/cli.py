"""The `itorch` command: install | notebook | console | lab | kernel (plain `itorch` = console).

Front ends are started in-process by module (notebook, jupyterlab, jupyter_console), with the
`itorch` kernel as their default; nothing shells out or guesses versions. Every server or kernel
binds 127.0.0.1 unless `--ip` says otherwise, and an address that cannot be bound ends the command
with one sentence instead of a traceback (the seed's `[Errno 99] Cannot assign requested address`).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys

from kernel import kernelspec

DEFAULT_IP = "127.0.0.1"
FRONT_ENDS = ("notebook", "lab", "console")

_DESCRIPTION = """\
itorch: Jupyter on the trepl evaluator (what `th` runs), with itorch.image/html/Plot.

  itorch                      the terminal console (same as `itorch console`)
  itorch notebook [opts]      Jupyter Notebook with iTorch as the default kernel
  itorch lab [opts]           JupyterLab, likewise
  itorch console [opts]       jupyter console on an iTorch kernel
  itorch install [--user|--sys-prefix|--prefix P]   write the kernelspec (default --user)
  itorch uninstall            remove the kernelspec Jupyter finds
  itorch kernel -f FILE       run one kernel (what the kernelspec starts)
  itorch --version            trepl's version

Every command that starts Jupyter first makes sure the kernelspec runs this Python (a spec left
by an environment that is gone is rewritten, with a note).

Servers listen on 127.0.0.1 unless you pass --ip=ADDRESS. Other options go to Jupyter.
"""


def bind_problem(ip: str) -> str | None:
    """Why a TCP socket cannot listen on `ip`, or None when it can (tried on a free port)."""
    try:
        infos = socket.getaddrinfo(ip, 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        return f"the name does not resolve ({getattr(err, 'strerror', None) or err})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        try:
            sock.bind(address)
        except OSError as err:
            return err.strerror or str(err)
    return None


def bind_error_sentence(ip: str, reason: str, port_in_use: bool = False) -> str:
    """The one line printed when `ip` cannot be bound."""
    if port_in_use:
        return (
            f"itorch: cannot listen on address {ip!r} ({reason}); another program holds the port."
        )
    return (
        f"itorch: cannot listen on address {ip!r} ({reason}); "
        f"start it with --ip={DEFAULT_IP} to listen on this machine only."
    )


def _find_ip(argv: list[str]) -> str | None:
    """The address a Jupyter command line asks for (`--ip=X`, `--ip X`, `--ServerApp.ip=X`)."""
    for i, arg in enumerate(argv):
        for flag in ("--ip", "--ServerApp.ip", "--NotebookApp.ip"):
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
    return None


def _checked_ip_argv(argv: list[str]) -> tuple[list[str], str | None]:
    """`argv` with `--ip=127.0.0.1` added when absent; plus the bind error sentence, if any."""
    ip = _find_ip(argv)
    if ip is None:
        ip = DEFAULT_IP
        argv = [f"--ip={DEFAULT_IP}", *argv]
    problem = bind_problem(ip)
    return argv, (bind_error_sentence(ip, problem) if problem else None)


def _ensure_kernelspec() -> None:
    """Make sure the spec Jupyter will start runs this Python (install or rewrite it if not)."""
    _, note = kernelspec.ensure_current()
    if note:
        print(f"itorch: {note}", file=sys.stderr)


def _run_server(app_name: str, argv: list[str]) -> int:
    argv, error = _checked_ip_argv(argv)
    if error:
        print(error, file=sys.stderr)
        return 1
    _ensure_kernelspec()
    argv = [*argv, f"--MultiKernelManager.default_kernel_name={kernelspec.KERNEL_NAME}"]
    try:
        if app_name == "notebook":
            from notebook.app import JupyterNotebookApp as App
        else:
            from jupyterlab.labapp import LabApp as App
    except ImportError as err:
        package = "notebook" if app_name == "notebook" else "jupyterlab"
        print(f"itorch {app_name}: {package} is not installed ({err}); "
              f"install it with: pip install {package}", file=sys.stderr)  # fmt: skip
        return 1
    try:
        App.launch_instance(argv=argv)
    except OSError as err:
        if err.errno in (errno.EADDRNOTAVAIL, errno.EADDRINUSE, errno.ENODEV):
            in_use = err.errno == errno.EADDRINUSE
            sentence = bind_error_sentence(_find_ip(argv) or DEFAULT_IP, err.strerror, in_use)
            print(sentence, file=sys.stderr)
            return 1
        raise
    return 0


def _run_console(argv: list[str]) -> int:
    argv, error = _checked_ip_argv(argv)
    if error:
        print(error, file=sys.stderr)
        return 1
    _ensure_kernelspec()
    if not any(a.startswith("--kernel") or a.startswith("--existing") for a in argv):
        argv = [f"--kernel={kernelspec.KERNEL_NAME}", *argv]
    if not _has_display() and not any("image_handler" in a for a in argv):
        # jupyter console opens images with PIL's viewer (xdg-open, then a browser): without a
        # display that prints "www-browser: not found" lines into the prompt. Show the image's
        # text form instead (`<itorch.image 64x64 PNG>`).
        argv = ["--ZMQTerminalInteractiveShell.image_handler=None", *argv]
    from jupyter_console.app import ZMQTerminalIPythonApp

    ZMQTerminalIPythonApp.launch_instance(argv=argv)
    return 0


def _has_display() -> bool:
    """Can a picture be shown in a window here? (Linux needs an X or Wayland display.)"""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _connection_ip(connection_file: str | None) -> str | None:
    """The `ip` an existing connection file asks for (None when absent or unreadable)."""
    if not connection_file:
        return None
    try:
        with open(connection_file, encoding="utf-8") as f:
            return json.load(f).get("ip")
    except (OSError, ValueError, AttributeError):
        return None


def _run_kernel(connection_file: str | None, ip: str | None, extra: list[str]) -> int:
    """Run one kernel process; bind failures become one sentence and exit status 1."""
    import zmq

    argv = list(extra)
    if connection_file:
        argv += ["-f", connection_file]
    if ip is not None:
        argv.append(f"--ip={ip}")
    address = ip or _connection_ip(connection_file) or DEFAULT_IP
    problem = bind_problem(address)
    if problem:
        print(bind_error_sentence(address, problem), file=sys.stderr)
        return 1
    from kernel.kernel import launch

    try:
        launch(argv)
    except zmq.ZMQError as err:
        if err.errno in (errno.EADDRNOTAVAIL, errno.EADDRINUSE, errno.ENODEV, errno.EINVAL):
            in_use = err.errno == errno.EADDRINUSE
            print(bind_error_sentence(address, err.strerror, in_use), file=sys.stderr)
            return 1
        raise
    return 0


def create_parser() -> argparse.ArgumentParser:
    """The `itorch` argument parser (front-end options pass through unparsed)."""
    parser = argparse.ArgumentParser(
        prog="itorch",
        usage="itorch [COMMAND] [options]",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print trepl's version and exit")
    # The description lists the commands; the subparsers' own listing would repeat it.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", help=argparse.SUPPRESS)
    install = sub.add_parser("install", help="write the iTorch kernelspec")
    where = install.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="the user's Jupyter dir (default)")
    where.add_argument("--sys-prefix", action="store_true", help="this Python environment")
    where.add_argument("--prefix", metavar="P", help="PREFIX/share/jupyter/kernels")
    sub.add_parser("uninstall", help="remove the iTorch kernelspec")
    run = sub.add_parser("kernel", help="run one kernel (what the kernelspec starts)")
    run.add_argument("-f", dest="connection_file", metavar="CONNECTION_FILE")
    run.add_argument("--ip", default=None, help=f"address to bind (default {DEFAULT_IP})")
    for name in FRONT_ENDS:
        sub.add_parser(name, help=f"start Jupyter {name} with the iTorch kernel", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `itorch` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--version"], ["-V"]):
        import trepl

        print(f"itorch (trepl) {trepl.version()}")
        return 0
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["console", *argv]
    if argv[0] in FRONT_ENDS:
        command, rest = argv[0], argv[1:]
        if command == "console":
            return _run_console(rest)
        return _run_server(command, rest)
    parser = create_parser()
    if argv[0] == "kernel":
        args, extra = parser.parse_known_args(argv)  # the rest goes to ipykernel's kernel app
    else:
        args, extra = parser.parse_args(argv), []
    if args.command == "install":
        user = args.user or not (args.sys_prefix or args.prefix)
        path = kernelspec.install(user=user, sys_prefix=args.sys_prefix, prefix=args.prefix)
        print(f"itorch: installed kernelspec {kernelspec.KERNEL_NAME} in {path}")
        return 0
    if args.command == "uninstall":
        removed = kernelspec.uninstall()
        if removed is None:
            print(f"itorch: no kernelspec named {kernelspec.KERNEL_NAME} is installed")
            return 1
        print(f"itorch: removed kernelspec {kernelspec.KERNEL_NAME} from {removed}")
        return 0
    if args.command == "kernel":
        return _run_kernel(args.connection_file, args.ip, extra)
    parser.print_help()
    return 2


def console_main() -> int:
    """The `itorch` command: `main` in a process under glibc's huge-page tunable, which the
    kernels it starts inherit (see `trepl.hugepages`). Tests call `main` instead."""
    from trepl import hugepages

    hugepages.ensure()
    return main()
