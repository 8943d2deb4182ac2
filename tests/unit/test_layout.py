"""The package's shape: layers import one way, no cycles, small modules, a complete public API.

The layers and what each may import (besides itself): ``util`` (errors, safe file writing,
validators) <- ``sim`` (the differentiable simulator) <- ``nanobragg`` (flags, files, the
reference program) <- ``testing.nanobragg`` (braggcheck's simulator as a target) <- ``cli``;
and ``util`` <- ``testing.framework`` (the generic framework: any target) <- ``testing.nanobragg``.
The top-level ``braggcheck`` and ``braggcheck.testing`` packages are public facades; nothing
inside imports them. Imports under ``if TYPE_CHECKING:`` are for annotations only and are not
followed.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import braggcheck

PACKAGE = Path(braggcheck.__file__).parent
ALLOWED = {
    "util": {"util"},
    "sim": {"util", "sim"},
    "nanobragg": {"util", "sim", "nanobragg"},
    "testing.framework": {"util", "testing.framework"},
    "testing.nanobragg": {"util", "sim", "nanobragg", "testing.framework", "testing.nanobragg"},
    "cli": {"util", "sim", "nanobragg", "testing.framework", "testing.nanobragg", "cli"},
}
"""Which layers each layer may import at run time (the facades ``braggcheck`` and
``braggcheck.testing`` are imported by none)."""
FACADES = ("braggcheck", "braggcheck.testing", "braggcheck.__main__")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = ("braggcheck", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _runtime_imports(tree: ast.Module) -> list[tuple[ast.ImportFrom | ast.Import, bool]]:
    """(import node, whether it sits inside a function) for every import not under
    ``if TYPE_CHECKING:``."""
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(sub) for sub in ast.walk(node))
    local = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local.update(id(sub) for sub in ast.walk(node))
    return [(node, id(node) in local) for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in typing_only]


def _targets(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) pairs of braggcheck's own modules."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names if alias.name.startswith("braggcheck")]
    assert node.level == 0, "imports are absolute"
    module = node.module or ""
    if not module.startswith("braggcheck"):
        return []
    found = []
    for alias in node.names:
        submodule = f"{module}.{alias.name}"
        found.append((submodule, None) if submodule in MODULES else (module, alias.name))
    return found


def _graph() -> dict[str, list[tuple[str, str | None, bool]]]:
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = [(target, imported, local) for node, local in _runtime_imports(tree)
                       for target, imported in _targets(node)]
    return graph


GRAPH = _graph()


def _layer(module: str) -> str | None:
    """The layer of a braggcheck module (None for the facades)."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "testing":
        return f"testing.{parts[2]}"
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def _against_the_layers(module: str, target: str) -> bool:
    if target in FACADES[:2]:
        return True
    mine, theirs = _layer(module), _layer(target)
    return mine is not None and theirs is not None and theirs not in ALLOWED[mine]


def test_every_module_has_a_layer():
    assert [m for m in MODULES if m not in FACADES and _layer(m) is None
            and m != "braggcheck.testing.framework" and m != "braggcheck.testing.nanobragg"
            ] == []


def test_imports_run_one_way_through_the_layers():
    upward = [f"{module} -> {target}" for module, edges in GRAPH.items()
              for target, _, _ in edges
              if module not in FACADES and _against_the_layers(module, target)]
    assert not upward, "imports against the allowed layer map (util <- sim <- nanobragg <- " \
                       "testing.nanobragg <- cli; util <- testing.framework <- " \
                       "testing.nanobragg; nothing imports a facade):\n" + "\n".join(upward)


def test_the_framework_loads_no_simulator_module():
    """In a fresh interpreter, every framework module and the public facade's names load no
    ``braggcheck.sim``, ``braggcheck.nanobragg`` or ``braggcheck.testing.nanobragg`` module."""
    framework = [m for m in MODULES if m.startswith("braggcheck.testing.framework")]
    code = ("import importlib, sys\n"
            f"for m in {framework!r}: importlib.import_module(m)\n"
            "import braggcheck.testing as t\n"
            "[getattr(t, n) for n in t.__all__]\n"
            "print(sorted(m for m in sys.modules if m.startswith(('braggcheck.sim', "
            "'braggcheck.nanobragg', 'braggcheck.testing.nanobragg'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=300)
    assert result.stdout.strip() == "[]", result.stdout


def test_no_name_is_re_exported_under_its_own_name():
    """``from m import X as X`` makes X importable from two paths; outside the facades each
    name has one home."""
    aliased = [f"{module}: {alias.name}" for module, path in MODULES.items()
               if module not in FACADES
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("braggcheck")
               for alias in node.names if alias.asname == alias.name]
    assert not aliased, "\n".join(aliased)


def test_the_import_graph_has_no_cycle():
    order: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        order[module] = 1
        stack.append(module)
        for target, _, _ in GRAPH.get(module, ()):
            if target not in MODULES:
                continue
            if order.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in order:
                cycle = visit(target)
                if cycle:
                    return cycle
        order[module] = 2
        stack.pop()
        return None

    for module in MODULES:
        if module not in order:
            cycle = visit(module)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_function_local_import_of_the_package():
    local = [f"{module} imports {target}" for module, edges in GRAPH.items()
             for target, _, inside in edges if inside]
    assert not local, "function-local imports (hoist them; a cycle is a layering bug):\n" \
                      + "\n".join(local)


def test_no_private_name_is_imported_from_another_module():
    private = [f"{module} imports {target}.{name}" for module, edges in GRAPH.items()
               for target, name, _ in edges
               if name and name.startswith("_") and not name.startswith("__")]
    assert not private, "\n".join(private)


def test_every_module_is_small():
    large = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    large = {name: lines for name, lines in large.items() if lines > MAX_LINES}
    assert not large, f"modules over {MAX_LINES} lines (split them by job): {large}"


def test_the_checker_sees_a_planted_upward_import(tmp_path):
    """The checks above parse real code: a planted sim -> testing import is an edge they see."""
    tree = ast.parse("from braggcheck.testing.nanobragg.case import Case\n"
                     "def f():\n    from braggcheck.cli import main\n")
    edges = [(target, local) for node, local in _runtime_imports(tree)
             for target, _ in _targets(node)]
    assert ("braggcheck.testing.nanobragg.case", False) in edges
    assert ("braggcheck.cli.main", True) in edges
    assert _against_the_layers("braggcheck.sim.config", "braggcheck.testing.nanobragg.case")
    assert _against_the_layers("braggcheck.testing.framework.checks",
                               "braggcheck.testing.nanobragg.case")
    assert not _against_the_layers("braggcheck.testing.nanobragg.case",
                                   "braggcheck.testing.framework.checks")


@pytest.mark.parametrize("package", ["braggcheck", "braggcheck.sim", "braggcheck.nanobragg",
                                     "braggcheck.testing"])
def test_all_is_complete_and_exists(package):
    """``__all__`` names exactly the public names the package defines or imports, as
    Hypothesis's own test does, and each exists."""
    module = importlib.import_module(package)
    declared = set(getattr(module, "__all__", ()))
    assert declared, f"{package} declares no __all__"
    missing = sorted(name for name in declared if not hasattr(module, name))
    assert not missing, f"{package}.__all__ names what does not exist: {missing}"
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and not (
                  hasattr(value, "__name__") and type(value).__name__ == "module")
              and name not in {"annotations", "VERSION"}}  # __version__'s source
    assert public <= declared, f"{package} exports names missing from __all__: " \
                               f"{sorted(public - declared)}"


def test_unit_tests_mirror_the_source_layout():
    """``tests/unit/<layer>/test_<module>[_<topic>].py`` tests ``braggcheck.<layer>.<module>``
    (``test_init*`` the package itself)."""
    unit = Path(__file__).parent
    strays = []
    for path in sorted(unit.rglob("test_*.py")):
        folder = path.parent.relative_to(unit).parts
        if not folder:
            if path.name != "test_layout.py":  # this file tests the whole package
                strays.append(str(path.relative_to(unit)))
            continue
        package = "braggcheck." + ".".join(folder)
        stem = path.stem.removeprefix("test_")
        modules = {name.removeprefix(package + ".").replace(".", "_") for name in MODULES
                   if name.startswith(package + ".")} | {"init"}  # the package's __init__
        if not any(stem == m or stem.startswith(m + "_") for m in modules):
            strays.append(str(path.relative_to(unit)))
    assert not strays, f"unit tests that name no module of their folder's package: {strays}"
