"""The Tier-2 table of caustics (``examples/caustics_target.py``): every parameter on the
default image and on a supersampled, PSF-blurred one, deterministic float64 gradchecks with
tolerances measured from the finite differences."""

from __future__ import annotations

import dataclasses

import pytest

from braggcheck.testing import TableCase, missing_parameters, run_case

from ..caustics import load_caustics_target

pytestmark = [pytest.mark.interop, pytest.mark.framework]

caustics_target = load_caustics_target()

FALSE_ALARMS: dict[str, str] = {}
"""Rows that fail on the right caustics because a tolerance assumes braggcheck's own rounding:
xfail(strict) until the adaptive verdict of issue #21 lands, then remove the entry."""


def _row(case):
    marks = ([pytest.mark.xfail(strict=True, reason=FALSE_ALARMS[case.id])]
             if case.id in FALSE_ALARMS else [])
    return pytest.param(case, id=case.id, marks=marks)


def test_every_parameter_has_a_row():
    assert missing_parameters(caustics_target.TABLE, caustics_target.PARAMETERS) == []


@pytest.mark.parametrize("case", [_row(c) for c in caustics_target.TABLE])
def test_tier2_case_of_caustics(case):
    outcome = run_case(case)
    assert outcome.passed, (outcome.problems, outcome.derivative, outcome.atol)


# A former false alarm outside the table's setups (found by harsher setups, issue #21's closing
# note), kept as a regression case: the verdict engine judges the jvp/vjp gap against its
# measured scatter at nearby points.
NEAR_ROUND = {"near_round": lambda: dataclasses.replace(caustics_target.DEFAULT,
                                                        lens_q=0.9999999, source_q=0.9999)}
FORMER_FALSE_ALARMS = {
    "lens_phi@near_round": "false alarm: the jvp/vjp comparison is relative to the derivative "
    "alone (FORWARD_REVERSE_RTOL = 1e-9, no floor): a nearly round lens's position angle moves "
    "the order-1 loss by only -2.4e-8 per radian, and jvp and vjp differ by 8.8e-17, half an "
    "ulp of the loss, which reads as 3.6e-9 relative; fixed by the adaptive verdict of #21",
}


@pytest.mark.parametrize("case_id", list(FORMER_FALSE_ALARMS))
def test_no_false_alarm_of_jvp_against_vjp_at_a_pinned_case(case_id):
    name, setup = case_id.split("@")
    case = TableCase((name,), setup, target=caustics_target.CAUSTICS, setups=NEAR_ROUND)
    outcome = run_case(case)
    assert not any(p.startswith("jvp") for p in outcome.problems), outcome.problems
