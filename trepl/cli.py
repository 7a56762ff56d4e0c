"""The `th` command line, as Torch7's `th`: shell, script runner and one-liner.

th                         the interactive shell (stdin not a terminal: run it as a script)
th script.py [args]        run a script: sys.argv, __name__ == '__main__', status 1 on error
th -e 'stmt'               run a statement; -i then opens the shell on the same namespace
th -l module               import a module first (repeatable)
th -g                      warn when a statement creates a new global
th notebook.ipynb          run a notebook's code cells as a script
th --export FILE.ipynb     on leaving the shell, write its inputs and outputs as a notebook
th --seed N                seed nets and numpy first (recorded; replay() repeats it)
th --existing [KERNEL]     the shell on a running itorch kernel (its namespace)
th --doctor                what to send when the install misbehaves
th --version               trepl's version
"""

from __future__ import annotations

import argparse
import builtins
import os
import sys
import types

from trepl.results import ExecResult


def create_parser() -> argparse.ArgumentParser:
    """The argument parser (kept apart so tests and docs can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="th",
        description="A TREPL-style shell for tensors and nets on JAX.",
        epilog="In the shell, type ? for help. History: $TREPL_HISTORY or ~/.trepl_history; "
        "start-up file: $TREPLSTARTUP.",
    )
    parser.add_argument("-e", dest="statement", metavar="STMT", help="run a Python statement")
    parser.add_argument(
        "-l",
        dest="modules",
        metavar="MODULE",
        action="append",
        default=[],
        help="import MODULE before anything else (repeatable)",
    )
    parser.add_argument(
        "-i", dest="interactive", action="store_true", help="enter the shell after -e or a script"
    )
    parser.add_argument(
        "-g", dest="monitor_globals", action="store_true", help="warn on each new global variable"
    )
    parser.add_argument("--no-color", action="store_true", help="never print ANSI colour")
    parser.add_argument(
        "--colors",
        choices=("dark", "light", "none"),
        help="colour scheme for a dark or a light background, or none (default: from "
        "$COLORFGBG when the terminal sets it, else dark)",
    )
    parser.add_argument(
        "--export", metavar="FILE.ipynb", help="write the session as a notebook when it ends"
    )
    parser.add_argument(
        "--seed", type=int, metavar="N", help="nets.manual_seed(N) and np.random.seed(N) first"
    )
    parser.add_argument(
        "--existing",
        nargs="?",
        const="",
        metavar="KERNEL",
        help="attach to a running itorch kernel (a connection file or its id; default: the "
        "most recent)",
    )
    parser.add_argument("--doctor", action="store_true", help="print install diagnostics and exit")
    parser.add_argument("--version", action="store_true", help="print trepl's version and exit")
    parser.add_argument("script", nargs="?", help="a Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    return parser


def _report(result: ExecResult, color: bool | str) -> int:
    """Print a script's uncaught error; return the process exit status."""
    from trepl import printer

    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if result.exit_code is not None:
        if result.error is not None and result.exit_code == 1 and result.error.evalue not in ("1",):
            print(result.error.evalue, file=sys.stderr)  # sys.exit("message")
        return result.exit_code
    if result.error is not None:
        print(printer.format_error(result.error, color), file=sys.stderr)
        return 1
    return 0


def _main_module(script: str | None) -> types.ModuleType:
    """A real module registered as `sys.modules['__main__']`, whose dict is the namespace.

    As under python: pickle finds a script's functions as `__main__.f` (multiprocessing with
    fork), and with `__file__` set and `__spec__` None, a spawned child re-runs the script as
    `__mp_main__` to find them (multiprocessing.spawn, runpy.run_path).
    """
    module = types.ModuleType("__main__")
    module.__spec__ = None
    module.__dict__["__builtins__"] = builtins
    if script is not None:
        module.__file__ = os.path.abspath(script)
    sys.modules["__main__"] = module
    return module


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `th` console script."""
    args = create_parser().parse_args(argv)
    if args.version:
        import trepl

        print(f"th (trepl) {trepl.version()}")
        return 0
    if args.doctor:
        from trepl import doctor

        print(doctor.report())
        return 0

    if args.existing is not None:
        from trepl import attach

        return attach.main(args)

    from trepl.app import use_color
    from trepl.evaluator import Evaluator
    from trepl.printer import scheme_from_env

    color = use_color(sys.stdout, args.no_color or args.colors == "none")
    scheme = args.colors if args.colors in ("dark", "light") else scheme_from_env()
    colors = scheme if color else False  # what the printer takes for error reports
    evaluator = Evaluator(_main_module(args.script).__dict__)
    evaluator.monitor_globals = args.monitor_globals
    out, err = sys.stdout, sys.stderr

    def write_out(text: str) -> None:
        out.write(text)
        out.flush()

    def write_err(text: str) -> None:
        err.write(text)
        err.flush()

    if args.seed is not None:
        if args.seed < 0:
            print(f"th: --seed expects a non-negative integer, got {args.seed}", file=sys.stderr)
            return 2
        result = evaluator.execute(f"nets.manual_seed({args.seed}); np.random.seed({args.seed})")
        if result.error is not None:
            return _report(result, colors)
        evaluator.log.entries[-1].origin = "th --seed"

    for module in args.modules:
        status = _report(evaluator.run_source(f"import {module}", "<-l>"), colors)
        if status:
            return status

    ran_something = args.statement is not None or args.script is not None
    if args.statement is not None:
        status = _report(evaluator.run_source(args.statement, "<-e>", write_out, write_err), colors)
        if status and not args.interactive:
            return status
    if args.script is not None:
        if not os.path.isfile(args.script):
            print(f"th: cannot open script {args.script!r}: no such file", file=sys.stderr)
            return 2
        sys.argv = [args.script, *args.args]
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
        if args.script.endswith(".ipynb"):
            from trepl import notebooks

            try:
                status = notebooks.run_notebook(evaluator, args.script, write_out, write_err)
            except notebooks.NotebookError as error:
                print(error, file=sys.stderr)
                return 2
        else:
            status = _report(evaluator.run_file(args.script, write_out, write_err), colors)
        if not args.interactive:
            return status

    if ran_something and not args.interactive:
        if args.export:
            print("th: --export writes an interactive session; add -i", file=sys.stderr)
        return 0
    if not sys.stdin.isatty():
        # `echo 'print(1)' | th`: the input is a script.
        source = sys.stdin.read()
        return _report(evaluator.run_source(source, "<stdin>", write_out, write_err), colors)

    startup = os.environ.get("TREPLSTARTUP")
    if startup:
        if os.path.isfile(startup):
            _report(evaluator.run_file(startup, write_out, write_err), colors)
        else:
            print(f"th: TREPLSTARTUP names {startup!r}, which is not a file", file=sys.stderr)
    from trepl.app import App, AppConfig

    config = AppConfig(color=color, scheme=scheme, banner=not ran_something)
    app = App(evaluator, config=config)
    status = app.run()
    if args.export:
        _export(evaluator, args.export)
    warming = app.warm_up_thread is not None and app.warm_up_thread.is_alive()
    if evaluator.abandoned_work or warming:
        # An interrupted XLA program is still running (the runtime would wait for it at
        # interpreter exit), or the warm-up thread is mid-import (finalizing under it can
        # crash). History is already on disk: FileHistory appends each line as it is entered.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def _export(evaluator: object, path: str) -> None:
    from trepl import notebooks

    try:
        cells = notebooks.export(evaluator.log, path)  # type: ignore[attr-defined]
    except (OSError, ValueError) as error:
        print(f"th: --export could not write {path}: {error}", file=sys.stderr)
        return
    print(f"th: wrote the session ({cells} cells) to {path}", file=sys.stderr)


def console_main() -> int:
    """The `th` command: `main` in a process under glibc's huge-page tunable (see
    `trepl.hugepages`; ``TREPL_HUGEPAGES=0`` turns that off). Tests call `main` instead."""
    from trepl import hugepages

    hugepages.ensure()
    return main()
