"""Naming a target on the command line, and the name a failure message prints for one."""

from __future__ import annotations

import sys

import pytest

from braggcheck.testing.framework.loader import load_target, target_spec
from braggcheck.testing.nanobragg.target import NANOBRAGG
from braggcheck.util.errors import ConfigError

from ....toy import EXAMPLES, load_toy

pytestmark = pytest.mark.framework  # framework self-tests: no braggcheck physics


def test_a_module_target_is_named_by_its_module():
    assert target_spec(NANOBRAGG) == "braggcheck.testing.nanobragg.target:NANOBRAGG"
    assert load_target("braggcheck.testing.nanobragg.target:NANOBRAGG") is NANOBRAGG


def test_a_file_target_is_named_by_its_path_and_loads_back_as_the_same_object():
    toy = load_toy()
    spec = target_spec(toy.TOY)
    assert spec is not None and spec.endswith("toy_target.py:TOY")
    assert load_target(spec) is toy.TOY
    assert load_target(f"{EXAMPLES / 'toy_target.py'}:TOY") is toy.TOY


def test_an_unbound_target_has_no_name():
    assert target_spec(type(load_toy().TOY)()) is None


@pytest.mark.parametrize(("spec", "expected"), [
    ("TOY", "expected MODULE:NAME"),
    ("examples/missing.py:TOY", "does not exist"),
    ("no_such_module_here:TOY", "cannot import module"),
    ("braggcheck.testing.nanobragg.target:NOTHING", "has no attribute 'NOTHING'"),
    ("braggcheck.testing.nanobragg.target:GRADGRAD_PREFIXES", "is a tuple, not a target"),
])
def test_a_bad_target_name_is_a_one_line_error(spec, expected):
    with pytest.raises(ConfigError, match=expected) as caught:
        load_target(spec)
    assert "\n" not in str(caught.value) and "--target" in str(caught.value)


def test_a_file_target_is_named_by_its_absolute_path():
    spec = target_spec(load_toy().TOY)
    assert spec == f"{(EXAMPLES / 'toy_target.py').resolve()}:TOY"


def test_a_module_inside_a_package_folder_loads_under_its_dotted_name(tmp_path):
    """Its relative imports work, whatever the working directory."""
    package = tmp_path / "protocol_loader_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("import sys\nTARGET = sys.modules['toy_target'].TOY\n")
    (package / "targets.py").write_text("from .helper import TARGET as MINE\n")
    load_toy()
    assert load_target(f"{package / 'targets.py'}:MINE") is load_toy().TOY
    assert "protocol_loader_pkg.targets" in sys.modules
