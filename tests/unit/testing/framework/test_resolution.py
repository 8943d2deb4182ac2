"""The resolution test (framework/resolution.py): a wrapper that ignores a parameter's override
is INCONCLUSIVE in every check, and the registry-derived test fails naming that parameter; the
right toy passes it for every parameter, and a parameter is demanded only where it applies."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from braggcheck.testing.framework.case import TargetCase
from braggcheck.testing.framework.checks import check_gradient
from braggcheck.testing.framework.harness import TARGET_CHECKS, property_tests
from braggcheck.testing.framework.resolution import (
    RESOLUTION,
    RESOLUTION_SAMPLE,
    UnresolvedParameter,
    check_resolves,
    focused_cases,
    unresolved,
    unresolved_parameters,
)
from braggcheck.testing.framework.results import CheckResult, Row
from braggcheck.testing.framework.strategies import lazy_sample

from ....planted import IgnoredOverride
from ....toy import load_toy

pytestmark = pytest.mark.framework

toy = load_toy()
IGNORING = IgnoredOverride(toy.TOY, "width_px")
"""The toy whose render ignores the ring width it is given (uses its configuration's)."""


def test_an_ignored_override_is_inconclusive_in_every_check_and_fails_none():
    """The gap this test closes: no property check fails on the ignoring wrapper."""
    case = TargetCase(toy.ToyConfig(texture=0.5), ("width_px",))
    for check in TARGET_CHECKS:
        result = TARGET_CHECKS[check](IGNORING, case)
        assert not result.failed, result.report()
    assert check_gradient(IGNORING, case).inconclusive


def test_the_resolution_test_names_the_ignored_parameter():
    test = property_tests(IGNORING)[f"test_toy_{RESOLUTION}"]
    with pytest.raises(UnresolvedParameter) as caught:
        test(parameter="width_px")
    assert str(caught.value) == (
        f"toy: the output does not respond to width_px in any of {RESOLUTION_SAMPLE} cases "
        f"where it applies (below noise in all): is the override used?")
    test(parameter="distance_mm")  # the others still resolve


def test_of_every_parameter_only_the_ignored_one_is_named():
    (line,) = unresolved_parameters(IGNORING)
    assert "does not respond to width_px" in line
    assert unresolved_parameters(toy.TOY) == []


def test_the_right_toy_resolves_every_parameter_at_its_first_case():
    runs = []

    def run(case):
        runs.append(case)
        return check_gradient(toy.TOY, case)

    for name in toy.PARAMETERS:
        runs.clear()
        assert unresolved(name, lazy_sample(focused_cases(toy.TOY, name), RESOLUTION_SAMPLE),
                          run) is None
        assert len(runs) == 1  # the sample stops at the first resolving case


def test_it_is_one_pytest_case_per_parameter_and_part_of_the_default_suite():
    tests = property_tests(toy.TOY)
    test = tests[f"test_toy_{RESOLUTION}"]
    (mark,) = test.pytestmark
    assert mark.name == "parametrize" and mark.args == ("parameter", list(toy.PARAMETERS))
    assert test.parameters == tuple(toy.PARAMETERS)
    assert f"test_toy_{RESOLUTION}" not in property_tests(toy.TOY, ["gradient"])


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(case=focused_cases(toy.TOY, "azimuth_deg"))
def test_a_parameter_is_demanded_only_where_it_applies(case):
    """The azimuth moves a textured ring only: its focused cases are all textured, and it is
    the one differentiated name."""
    assert case.config.texture > 0 and case.names == ("azimuth_deg",)


class NeverTextured(toy.ToyTarget):
    """A toy whose strategies draw only the uniform ring: the azimuth never applies."""

    with_value = None  # no parameter moved to special values either

    def configs(self):
        return st.just(toy.ToyConfig())


def test_a_parameter_the_strategies_never_make_applicable_is_named():
    with pytest.raises(UnresolvedParameter, match="no case where azimuth_deg applies was "
                                                  "drawn"):
        check_resolves(NeverTextured(), "azimuth_deg")
    check_resolves(NeverTextured(), "distance_mm")


def _result(status: str) -> CheckResult:
    return CheckResult("gradient", status == "ok", status, [Row("width_px", 0.0, 0.0, 0.0,
                                                                 status)],
                       inconclusive=status != "ok")


def test_mixed_outcomes_are_counted_in_the_one_line():
    outcomes = iter(["below noise", "unresolved", "below noise"])
    reason = unresolved("width_px", [None] * 3, lambda case: _result(next(outcomes)), "toy")
    assert reason == ("toy: no derivative of width_px resolved in any of 3 cases where it "
                      "applies (below noise in 2, unresolved in 1)")
    message = CheckResult("gradient", False, "no ring contrast on the detector",
                          inconclusive=True)
    assert unresolved("width_px", [None], lambda case: message) == (
        "no derivative of width_px resolved in any of 1 cases where it applies (no ring "
        "contrast on the detector in all)")


def test_a_failed_check_on_a_focused_case_fails_with_its_report():
    failed = CheckResult("gradient", False, "derivative mismatch for width_px",
                         [Row("width_px", 1.0, 2.0, 0.1, "FAIL")])
    with pytest.raises(UnresolvedParameter, match="derivative mismatch for width_px"):
        unresolved("width_px", [None], lambda case: failed)
