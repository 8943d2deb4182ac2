"""``braggcheck.testing.__all__`` is the framework's small public API: each name exists, has
one home in a framework module (never nanoBragg-specific), and every module of the testing
package sits in ``framework/`` (any target) or ``nanobragg/`` (braggcheck's own target)."""

from __future__ import annotations

import importlib
from pathlib import Path

import braggcheck.testing as testing

PACKAGE = Path(testing.__file__).parent
MAX_PUBLIC_NAMES = 45
"""The user-facing surface (issue 20: ~35); tolerances live in framework/tolerances.py."""


def test_every_exported_name_exists_and_is_unique():
    assert len(set(testing.__all__)) == len(testing.__all__)
    assert [n for n in testing.__all__ if not hasattr(testing, n)] == []
    assert len(testing.__all__) <= MAX_PUBLIC_NAMES


def test_every_exported_name_comes_from_the_generic_framework():
    homes = {name: testing._HOMES[name] for name in testing.__all__}
    assert {n: getattr(testing, n).__module__ for n in testing.__all__
            if isinstance(getattr(testing, n), type)} == {
        n: homes[n] for n in testing.__all__ if isinstance(getattr(testing, n), type)}
    foreign = {n: m for n, m in homes.items()
               if not m.startswith("braggcheck.testing.framework.")}
    assert not foreign
    assert [n for n in testing.__all__ if n.isupper() and n != "TARGET_CHECKS"] == [], \
        "tuning constants belong in braggcheck.testing.framework.tolerances"


def test_every_module_is_in_the_framework_or_the_nanobragg_target():
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py"]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"
                  ) == ["framework", "nanobragg"]


def test_every_tolerance_is_declared_once_with_its_reason():
    tolerances = importlib.import_module("braggcheck.testing.framework.tolerances")
    source = Path(tolerances.__file__).read_text()
    names = [n for n in vars(tolerances) if n.isupper()]
    assert names
    undocumented = [n for n in names if f'{n} = ' in source
                    and '"""' not in source.split(f"\n{n} = ", 1)[1].split("\n", 2)[1][:3]
                    + source.split(f"\n{n} = ", 1)[1].split("\n", 2)[0]]
    assert undocumented == []


def test_the_check_names_above_the_api_are_the_generic_checks():
    """``from braggcheck.testing import check_gradient`` is the target-generic check (it takes a
    target), not nanoBragg's one-argument wrapper in ``braggcheck.testing.nanobragg.checks``."""
    assert testing.check_gradient.__module__ == "braggcheck.testing.framework.checks"
    assert set(testing.TARGET_CHECKS) == {"gradient", "forward_reverse", "taylor", "finite",
                                          "repeatable", "periodicity", "linearity"}
