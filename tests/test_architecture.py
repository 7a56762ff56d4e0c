"""Import boundaries: the folder tree is the architecture, and these rules keep it so.

Each rule runs in a fresh interpreter, since the test process itself has imported everything.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "code, forbidden",
    [
        ("import nets, nets.nn", {"trepl", "kernel", "prompt_toolkit", "ipykernel"}),
        ("import trepl.evaluator", {"prompt_toolkit", "ipykernel", "kernel"}),
        (
            "import trepl.timing, trepl.shell, trepl.completer, trepl.printer, trepl.help",
            {"prompt_toolkit", "ipykernel"},
        ),
        ("import trepl.cli", {"jax", "ipykernel"}),  # th must show its prompt before JAX loads
        # (ipykernel itself brings prompt_toolkit in, through IPython: only our app is barred.)
        ("import kernel.kernel", {"trepl.app", "trepl.keybindings"}),
    ],
)
def test_import_boundaries(code, forbidden):
    loaded = _modules_after(code)
    assert not (forbidden & loaded), f"{code!r} loaded {sorted(forbidden & loaded)}"


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            dots = "." * node.level
            if node.module is None:
                names.update(dots + a.name for a in node.names)
            else:
                names.add(dots + node.module)
    return names


def test_layer_files_import_only_module_and_functional():
    """Inside nets/nn, a layer file depends on module.py and functional.py, never on a sibling."""
    allowed = {".module", ".functional", "..", ".._errors", ".._random", ".._shape"}
    containers = {
        "containers.py": {".printing"},
        "trainer.py": {".compiler"},
        "compiler.py": {".lowering"},
        "weight_layout.py": {".lowering"},
        "jacobian.py": {".criterion"},
    }
    for path in sorted((ROOT / "nets" / "nn").glob("*.py")):
        if path.name in {"__init__.py", "module.py", "functional.py", "printing.py"}:
            continue
        extra = containers.get(path.name, set())
        if path.name == "lowering.py":
            extra = set()
        bad = _imports(path) - allowed - extra
        assert not bad, f"nets/nn/{path.name} imports {sorted(bad)}"


def test_nn_exports_are_documented_torch_classes():
    """Every public class of nets.nn has a docstring opening with its signature and a repr."""
    from nets import nn

    for name in nn.__all__ if hasattr(nn, "__all__") else dir(nn):
        obj = getattr(nn, name)
        if not isinstance(obj, type) or name.startswith("_") or name == "Jacobian":
            continue
        doc = (obj.__doc__ or "").strip()
        assert doc.startswith(f"nn.{name}("), (
            f"nn.{name}'s docstring should open with its Torch7 signature, got {doc[:40]!r}"
        )
