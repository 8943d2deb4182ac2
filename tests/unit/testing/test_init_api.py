"""``braggcheck.testing.__all__`` is the framework's complete public API (as Hypothesis checks
its own): every public name defined in a framework module is exported, every exported name
exists, and every module of the package is classified as framework or nanoBragg-specific."""

from __future__ import annotations

import ast
from pathlib import Path

import braggcheck.testing as testing

PACKAGE = Path(testing.__file__).parent
FRAMEWORK_MODULES = (
    "check_support", "differences", "gradients", "nanobragg_target", "probe", "projection",
    "rows", "table", "target", "target_case", "target_checks", "target_harness",
    "target_invariants", "target_loader", "target_strategies", "tier2_tolerance",
)
"""Modules whose public names make up the target framework."""
NANOBRAGG_MODULES = (
    "cases", "coverage", "detector_strategies", "example_store", "harness",
    "invalid_strategies", "placement", "plots", "profiles", "pytest_plugin",
    "reference_exclusions", "reference_strategies", "strategies", "strategy_cache", "tier2",
    "tier2_plots", "tier2_report", "hkl_strategies", "hkl_tables", "vector_gradients",
    "tier2_vectors", "input_strategies", "input_coverage", "input_reference_strategies",
    "pixel_strategies", "case_strategies", "reference_coverage",
)
"""nanoBragg-specific (or tooling) modules: public on their own, not re-exported."""


def defined_names(module: str) -> set[str]:
    """Top-level functions, classes and assignments of a module that do not start with _."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def test_every_public_name_of_the_framework_modules_is_exported():
    missing = {m: sorted(defined_names(m) - set(testing.__all__)) for m in FRAMEWORK_MODULES}
    assert not {m: names for m, names in missing.items() if names}


def test_every_exported_name_exists_and_is_unique():
    assert len(set(testing.__all__)) == len(testing.__all__)
    assert [n for n in testing.__all__ if not hasattr(testing, n)] == []


def test_every_module_is_classified():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert sorted(modules - set(FRAMEWORK_MODULES) - set(NANOBRAGG_MODULES)) == []
    assert sorted((set(FRAMEWORK_MODULES) | set(NANOBRAGG_MODULES)) - modules) == []


def test_the_check_names_above_the_api_are_the_generic_checks():
    """``from braggcheck.testing import check_gradient`` is the target-generic check (it takes a
    target), not nanoBragg's one-argument wrapper in ``braggcheck.testing.checks``."""
    assert testing.check_gradient.__module__ == "braggcheck.testing.target_checks"
    assert set(testing.TARGET_CHECKS) == {"gradient", "forward_reverse", "taylor", "finite",
                                          "repeatable", "periodicity", "linearity"}
