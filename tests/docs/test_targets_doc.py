"""docs/targets.md stays true: its example target runs and passes its property suite, and its
worked failure is what the framework prints today."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from braggcheck.testing import PropertyFailure, Target, property_tests
from braggcheck.testing.framework.resolution import UnresolvedParameter

from ..planted import IgnoredOverride
from ..toy import EXAMPLES, load_toy

pytestmark = pytest.mark.framework

DOC = Path(__file__).parents[2] / "docs" / "targets.md"
TEXT = DOC.read_text()
QUICK = settings(max_examples=5, derandomize=True, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck))


def _peak() -> dict:
    blocks = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
    module = types.ModuleType("targets_doc_peak")
    sys.modules[module.__name__] = module  # dataclasses look their module up while defined
    exec(compile(blocks[0], str(DOC), "exec"), module.__dict__)
    return module.__dict__


def test_the_docs_example_target_is_a_target_and_passes_its_property_suite():
    peak = _peak()["PEAK"]
    assert isinstance(peak, Target)
    tests = property_tests(peak)
    assert tests["test_peak_periodicity"].not_applicable.startswith("target peak declares no")
    resolution = tests.pop("test_peak_resolves_every_parameter")
    for name in resolution.parameters:
        resolution(name)  # every parameter moves the peak somewhere
    for test in tests.values():
        if not hasattr(test, "not_applicable"):
            QUICK(test)()  # raises PropertyFailure on a (false) alarm


def test_the_worked_failure_is_the_real_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its failure file goes to ./reports/failures
    load_toy()
    spec = importlib.util.spec_from_file_location("toy_with_a_bug",
                                                  EXAMPLES / "toy_with_a_bug.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_with_a_bug"] = module
    spec.loader.exec_module(module)
    test = module.test_toy_gradient
    with pytest.raises(PropertyFailure) as caught:
        settings(phases=[Phase.explicit], database=None, deadline=None)(test)()
    table = str(caught.value).split("\n\nreplay with:")[0]
    for line in table.splitlines():
        assert line in TEXT, line


def test_the_resolution_failure_is_the_real_output():
    ignoring = IgnoredOverride(load_toy().TOY, "width_px")
    with pytest.raises(UnresolvedParameter) as caught:
        property_tests(ignoring, ["resolves_every_parameter"])[
            "test_toy_resolves_every_parameter"]("width_px")
    assert f"UnresolvedParameter: {caught.value}\n" in TEXT
