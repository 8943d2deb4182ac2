"""The verdict engine (framework/verdict.py) on planted numbers: the ceiling, the noise guards
(zero, NaN), gaps judged by behaviour, and Tier-2's retry at larger steps."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from braggcheck.testing.framework.differences import Differences, central_differences
from braggcheck.testing.framework.results import Row
from braggcheck.testing.framework.table import CaseOutcome
from braggcheck.testing.framework.tolerances import GAP_OFFSETS, MAX_MEASURED_RTOL, STEP
from braggcheck.testing.framework.verdict import (
    INFLATED,
    declared_precision,
    derivative_row,
    gap_row,
    image_gap,
    loss_noise,
    scatter,
    settle,
    settled_step,
)

pytestmark = pytest.mark.framework

NAN = float("nan")


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(noise=st.floats(0.0, 1e6), base=st.floats(0.0, 1e-5),
       reference=st.floats(1e-6, 1e6), sign=st.sampled_from([-1.0, 1.0]))
def test_a_6e_4_error_never_passes_whatever_the_noise(noise, base, reference, sign):
    row = settle("x", reference * (1 + sign * 6e-4), reference, base * reference,
                 noise * reference, reference)
    assert row.status in ("FAIL", "inconclusive")


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(error=st.floats(1e-4, 1e-3), noise=st.floats(0.0, 1e-5))
def test_a_1e_4_error_fails_where_the_noise_allows_it(error, noise):
    row = derivative_row("x", 1.0 + error, 1.0, 0.0, noise / 10)
    assert row.status == "FAIL"


def test_inflated_tolerances_are_inconclusive_and_say_so():
    row = settle("x", 1.0001, 1.0, 0.0, 1e-2, 1.0)
    assert row.status == "inconclusive"
    row = derivative_row("x", 1.0001, 1.0, 0.0, 1e-4)
    assert row.status == "inconclusive"
    assert settle("x", 1.0, 1.0, 0.0, 1e-5, 1.0).status == "ok"
    assert INFLATED == "tolerance inflated by noise"


@pytest.mark.parametrize(("analytic", "reference", "noise"), [
    (NAN, 1.0, 0.0), (1.0, NAN, 0.0), (math.inf, 1.0, 0.0), (1.0, 1.0, NAN),
    (1.0, 1.0, math.inf), (1.0, 1.0, -1.0)])
def test_non_finite_values_or_noise_fail_never_pass(analytic, reference, noise):
    assert settle("x", analytic, reference, 0.0, noise, 1.0).status == "FAIL"


@pytest.mark.parametrize("spread", [0.0, NAN])
def test_a_nan_noise_estimate_fails_the_derivative_row(spread):
    assert derivative_row("x", 1.0, 1.0, spread, NAN).status == "FAIL"
    assert derivative_row("x", 1.0, 1.0, NAN, 1e-12).status == "FAIL"


def test_a_zero_noise_estimate_is_floored_and_still_catches_an_error():
    """A loss that is exactly quadratic has fourth differences 0: the noise is then an ulp
    floor, never 0, and a wrong derivative still fails."""
    def loss(x):
        return float((x**2).sum())

    x = torch.tensor([0.3], dtype=torch.float64)
    d = central_differences(loss, x, torch.ones(1, dtype=torch.float64), STEP)
    assert d.fourth == 0.0 or d.fourth < 1e-15
    noise = loss_noise([d], loss(x), STEP)
    assert noise > 0
    assert derivative_row("x", 0.6, d.extrapolated, d.spread, noise).status == "ok"
    assert derivative_row("x", 0.6 * (1 + 1e-4), d.extrapolated, d.spread,
                          noise).status == "FAIL"


def pairs(gap: Callable, value: float = 2.0) -> list[tuple[float, float]]:
    return [(value + gap(k), value) for k in GAP_OFFSETS]


ROUGH = [1.3, -0.7, 0.4, -1.1, 0.9, -0.2, 0.6]
"""A fixed 'rounding' pattern: sign and size vary from point to point."""


def test_a_gap_that_scatters_like_rounding_passes():
    # Centre gap 1e-8 (far above AD_RTOL-like 1e-12), scattering by 1e-8 at nearby points.
    rough = dict(zip((*GAP_OFFSETS[:3], 0, *GAP_OFFSETS[3:]), ROUGH, strict=True))
    row = gap_row("d", (2.0 + 1e-8 * rough[0], 2.0),
                  lambda: pairs(lambda k: 1e-8 * rough[k]), 1e-12, 2.0)
    assert row.status == "ok" and "nearby" in row.name


def test_a_constant_gap_fails_however_small_its_scatter():
    row = gap_row("d", (2.0 * (1 + 1e-6), 2.0), lambda: pairs(lambda k: 2e-6 + 1e-15 * k),
                  1e-12, 2.0)
    assert row.status == "FAIL"


def test_a_gap_hidden_in_a_huge_scatter_is_inconclusive():
    rough = dict(zip((*GAP_OFFSETS[:3], 0, *GAP_OFFSETS[3:]), ROUGH, strict=True))
    row = gap_row("d", (2.0 + 1e-3 * rough[0], 2.0),
                  lambda: pairs(lambda k: 1e-3 * rough[k]), 1e-12, 2.0)
    assert row.status == "inconclusive"


def test_a_gap_with_a_nan_at_a_nearby_point_fails():
    row = gap_row("d", (2.0 + 1e-6, 2.0), lambda: pairs(lambda k: NAN if k == 2 else 1e-6),
                  1e-12, 2.0)
    assert row.status == "FAIL"


def test_a_gap_without_room_to_measure_is_judged_at_its_tight_tolerance():
    assert gap_row("d", (2.0 + 1e-6, 2.0), None, 1e-12, 2.0).status == "FAIL"


def test_scatter_needs_three_points_and_ignores_a_straight_line():
    assert math.isnan(scatter([1.0, 2.0]))
    assert scatter([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(0.0, abs=1e-15)
    assert scatter([1.0, -1.0, 1.0, -1.0, 1.0]) > 0.5


def test_an_image_gap_with_a_non_finite_element_fails():
    first = torch.ones(4, dtype=torch.float64)
    second = first.clone()
    second[2] = NAN
    assert image_gap("image", first, second, 1e-9, None).status == "FAIL"


@pytest.mark.parametrize("bad", [-1.0, NAN, math.inf, 2.0, "1e-7"])
def test_a_bad_declared_precision_is_refused(bad):
    class Target:
        name = "t"
        precision = bad

    with pytest.raises(ValueError, match="precision"):
        declared_precision(Target())


def test_no_declared_precision_means_measure():
    assert declared_precision(object()) == 0.0


def differences_of(loss: Callable[[float], float], x: float, h: float) -> Differences:
    return central_differences(lambda t: loss(float(t[0])), torch.tensor([x]),
                               torch.ones(1, dtype=torch.float64), h)


def noisy(size: float) -> Callable[[float], float]:
    """sin(x) plus a rough deterministic 'rounding' of ``size``."""
    return lambda x: math.sin(x) + size * math.sin(1e12 * x)


def test_tier2_retries_a_noisy_comparison_at_larger_steps():
    step, (d,) = settled_step([math.cos(0.3)],
                              lambda h: [differences_of(noisy(1e-10), 0.3, h)],
                              STEP, lambda reach: True)
    assert step > STEP and d.tolerance <= MAX_MEASURED_RTOL * abs(d.single)


@pytest.mark.parametrize(("error", "noise"), [(1e-4, 1e-13), (-1e-4, 1e-13), (6e-4, 1e-10),
                                              (-6e-4, 1e-10)])
def test_tier2_keeps_a_wrong_derivative_failing_at_every_step(error, noise):
    """A 6e-4 error fails whatever the noise; a 1e-4 one where the noise allows it (at 1e-10
    the retry at 10x the step is allowed 1.2e-4: under the ceiling, by design)."""
    step, (d,) = settled_step([math.cos(0.3) * (1 + error)],
                              lambda h: [differences_of(noisy(noise), 0.3, h)], STEP,
                              lambda reach: True)
    assert step == STEP
    assert abs(math.cos(0.3) * (1 + error) - d.single) > d.tolerance or (
        d.tolerance > MAX_MEASURED_RTOL * abs(d.single))


def outcome(**changes) -> CaseOutcome:
    values = dict(case=None, derivative=Row("x", 1.0, 1.0), vacuity=None,
                  gradcheck_error=None, jvp=1.0, vjp=1.0, second=None, second_vacuity=None,
                  gradgradcheck_error=None, seconds=0.0,
                  forward_reverse=Row("jvp vs vjp", 1.0, 1.0, 1e-9, "ok"))
    values.update(changes)
    return CaseOutcome(**values)


def test_a_tier2_outcome_has_its_own_inconclusive_status():
    assert outcome().status == "pass"
    assert outcome(vacuity=f"c: {INFLATED}: ...").status == "INCONCLUSIVE"
    assert outcome(gradcheck_error="Jacobian mismatch").status == "FAIL"
    assert outcome(forward_reverse=Row("jvp vs vjp", 1.0, 1.1, 1e-9, "FAIL")).status == "FAIL"
    inflated = outcome(forward_reverse=Row("jvp vs vjp", 1.0, 1.0, 1.0, "inconclusive"))
    assert inflated.status == "INCONCLUSIVE" and not inflated.passed
