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


def _typing_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:``: imports for type checkers only."""
    return {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }


def _imports(path: pathlib.Path) -> set[str]:
    """The relative imports of a file, but for those made for type checking only."""
    names = set()
    tree = ast.parse(path.read_text())
    typing_only = _typing_only(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            dots = "." * node.level
            if node.module is None:
                names.update(dots + a.name for a in node.names)
            else:
                names.add(dots + node.module)
    return names


# nets/nn in layers (docs/architecture.md): each file imports only the files of lower layers
# listed for it. Foundations first, then the maths and its lowering, the pure call, the compile
# layer, Module, and the layer families on top.
_BASE = {"..", ".._errors", ".._random", ".._shape", ".._switch"}
_NN_IMPORTS = {
    "state.py": set(),
    "structure.py": {".state"},
    "devices.py": set(),
    "printing.py": set(),
    "node.py": set(),
    "functional.py": set(),
    "lowering.py": {".functional", "..native"},  # ..native: the oneDNN kernels
    "compiler.py": {".lowering"},
    "binding.py": {".state", ".structure"},
    "custom_backward.py": {".binding", ".state"},
    "weight_layout.py": {".lowering", ".state", ".structure"},
    "compiled.py": {".compiler", ".lowering", ".weight_layout", ".binding", ".state", ".structure"},
    "deferred.py": {".compiled", ".state"},
    "module.py": {
        ".compiled",
        ".custom_backward",
        ".binding",
        ".deferred",
        ".devices",
        ".node",
        ".state",
        ".structure",
    },
}
# A layer family: Module, the maths, and what its family needs besides.
_LAYER = {".module", ".functional"}
_LAYER_EXTRA = {
    "containers.py": {".printing", ".structure"},
    "convolution.py": {".lowering"},
    "pooling.py": {".lowering"},
    "normalization.py": {".lowering"},
    "criterion.py": {".compiled", ".state", ".structure"},
    "criterion_margin.py": {".criterion"},
    "criterion_class.py": {".criterion"},
    "criterion_composite.py": {".criterion"},
    "jacobian.py": {".criterion"},
    "trainer.py": {".compiled", ".binding", ".state", ".structure"},
    "recurrent.py": {".table", ".transfer"},  # Recurrent's default merge and transfer
    "sequencer.py": {".table"},  # BiSequencer's default merge, JoinTable
    "graph.py": {".node"},  # gModule is built from nngraph's nodes
}


def test_nn_files_import_only_their_lower_layers():
    """Inside nets/nn, every file imports only what its layer may (see _NN_IMPORTS)."""
    for path in sorted((ROOT / "nets" / "nn").glob("*.py")):
        if path.name == "__init__.py":
            continue
        if path.name in _NN_IMPORTS:
            allowed = _NN_IMPORTS[path.name] | _BASE
        else:
            allowed = _LAYER | _LAYER_EXTRA.get(path.name, set()) | _BASE
        bad = _imports(path) - allowed
        assert not bad, f"nets/nn/{path.name} imports {sorted(bad)}"


def _import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in the file, lazily too; imports
    for type checking only are not imports)."""
    files = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text())
        typing_only = _typing_only(tree)
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here
                    for _ in range(node.level - 1):
                        up = up.rpartition(".")[0]
                    base = up + ("." + node.module if node.module else "")
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in files else base)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def test_nets_has_no_import_cycles():
    graph = _import_graph("nets")
    assert "nets.nn.module" in graph and "nets.nn.compiled" in graph["nets.nn.module"]
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


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
