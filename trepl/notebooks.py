"""`th --export history.ipynb` and `th notebook.ipynb`: the shell and notebooks, both ways.

`export` writes the session log (`trepl.session_log`) as a notebook (nbformat 4, itorch
kernelspec): one code cell per input, with its printed text as stream outputs, its value as an
`execute_result` and its error as an `error` output. `run_notebook` runs a notebook's code
cells in order as a script would run (no auto-print; `?`, `$ cmd` and `%timeit` work as in a
cell); it stops at the first cell that fails, naming it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trepl.evaluator import Evaluator
    from trepl.session_log import SessionLog


class NotebookError(ValueError):
    """A file that is not a readable notebook."""


def to_notebook(log: SessionLog) -> Any:
    import nbformat
    from nbformat import v4

    cells = []
    for entry in log.entries:
        outputs = []
        if entry.stdout:
            outputs.append(v4.new_output("stream", name="stdout", text=entry.stdout))
        if entry.stderr:
            outputs.append(v4.new_output("stream", name="stderr", text=entry.stderr))
        if entry.value is not None:
            outputs.append(
                v4.new_output(
                    "execute_result",
                    data={"text/plain": entry.value},
                    execution_count=entry.count or None,
                )
            )
        if entry.error is not None:
            outputs.append(
                v4.new_output(
                    "error",
                    ename=entry.error[0],
                    evalue=entry.error[1],
                    traceback=entry.traceback,
                )
            )
        cells.append(
            v4.new_code_cell(entry.source, execution_count=entry.count or None, outputs=outputs)
        )
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "itorch", "display_name": "iTorch", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def export(log: SessionLog, path: str) -> int:
    """Write the log to `path` as a notebook (atomically); returns the number of cells."""
    import nbformat

    nb = to_notebook(log)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(nb.cells)


def read_cells(path: str) -> list[str]:
    """The sources of a notebook's code cells; `NotebookError` names the file and the fault."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except OSError as error:
        raise NotebookError(f"th: cannot read notebook {path}: {error.strerror}") from None
    except Exception as error:  # noqa: BLE001 - JSON or schema faults, several classes
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NotebookError(f"th: {path} is not a valid notebook: {first}") from None
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def run_notebook(evaluator: Evaluator, path: str, write_out: Any, write_err: Any) -> int:
    """Run the code cells of `path` in order; 0, or 1 at the first failing cell."""
    from trepl import printer

    cells = read_cells(path)
    evaluator.namespace["__file__"] = os.path.abspath(path)
    for number, source in enumerate(cells, 1):
        result = evaluator.execute(source, write_out, write_err)
        if result.help is not None:
            write_out(printer.format_help(result.help) + "\n")
        for warning in result.warnings:
            write_err(warning + "\n")
        if result.exit_code is not None:
            return result.exit_code
        if result.error is not None:
            write_err(f"th: {path}, code cell {number} failed:\n")
            write_err(printer.format_error(result.error) + "\n")
            return 1
    sys.stdout.flush()
    return 0
