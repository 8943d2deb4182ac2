"""The lazy facades: a name is imported from its home on first use and kept."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from braggcheck.util.lazy import lazy_attributes


def test_a_name_is_loaded_from_its_home_once_and_kept(monkeypatch):
    facade = types.ModuleType("scratch_facade")
    monkeypatch.setitem(sys.modules, "scratch_facade", facade)
    facade.__getattr__, facade.__dir__ = lazy_attributes(
        "scratch_facade", {"sqrt": "math"}, ["sqrt"])
    assert "sqrt" not in vars(facade)
    assert facade.sqrt(4.0) == 2.0
    assert vars(facade)["sqrt"] is facade.sqrt
    assert "sqrt" in dir(facade)
    with pytest.raises(AttributeError, match="'scratch_facade' has no attribute 'cbrt'"):
        _ = facade.cbrt


def test_importing_the_package_facade_loads_no_torch():
    code = "import sys, braggcheck, braggcheck.testing; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "False"
