"""The whole property suite for the toy target of ``examples/toy_target.py``: the few lines a
user of the framework writes for their own simulator (docs/targets.md)."""

from __future__ import annotations

import pytest

from braggcheck.testing import property_tests

from ..toy import TOY_EXAMPLES, load_toy

pytestmark = pytest.mark.framework  # the toy target runs no braggcheck physics

TESTS = property_tests(load_toy().TOY, examples_dir=TOY_EXAMPLES)
globals().update(TESTS)


def test_the_suite_holds_every_check():
    assert sorted(TESTS) == sorted(f"test_toy_{c}" for c in (
        "gradient", "forward_reverse", "taylor", "finite", "repeatable", "periodicity",
        "linearity", "resolves_every_parameter"))
