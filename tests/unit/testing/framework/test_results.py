"""Result tables a scientist can read: no relative error against a reference of 0, and a
NOT APPLICABLE verdict that is neither a pass nor a failure."""

from __future__ import annotations

import pytest

from braggcheck.testing.framework.results import CheckResult, Row, relative_cell, relative_text

pytestmark = pytest.mark.framework


def test_a_zero_reference_prints_no_relative_error():
    row = Row("d/d x", 3.0e-13, 0.0, 1e-12, "ok")
    assert row.relative_error > 1e287  # the number the tables used to print
    assert relative_text(row) == "-" and relative_cell(1.0, 0.0) == "-"
    table = CheckResult("gradient", True, rows=[row]).table()
    assert "e+" not in table and "3e-13" in table and " - " in table


def test_a_nonzero_reference_prints_its_relative_error():
    assert relative_text(Row("x", 1.01, 1.0)) == "0.01"
    assert relative_cell(2.0, -4.0, ".1e") == "5.0e-01"


def test_not_applicable_is_reported_and_is_no_failure():
    result = CheckResult("forward_reverse", False, "why", not_applicable="no forward mode")
    assert result.report() == "forward_reverse: NOT APPLICABLE - no forward mode"
    assert not result.passed and not result.failed
    assert CheckResult("gradient", False).failed
    assert not CheckResult("gradient", False, inconclusive=True).failed
