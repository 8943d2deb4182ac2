"""The whole property suite of caustics (``examples/caustics_target.py``), a lensing simulator
braggcheck was not written with: the framework must raise no false alarm on it."""

from __future__ import annotations

import dataclasses

import pytest

from braggcheck.testing import TARGET_CHECKS, Projection, TargetCase, property_tests

from ..caustics import CAUSTICS_EXAMPLES, load_caustics_target

pytestmark = [pytest.mark.interop, pytest.mark.framework]  # caustics's physics, not ours

CHECKS = ("gradient", "forward_reverse", "taylor", "finite", "repeatable", "periodicity",
          "linearity", "resolves_every_parameter")

TESTS = property_tests(load_caustics_target().CAUSTICS, examples_dir=CAUSTICS_EXAMPLES)

FALSE_ALARMS: dict[str, str] = {}
# Emptied by the verdict engine of #21: the linearity check's false alarm on the FFT PSF (a dim
# pixel of image(3 Ie) 1.6e-14 relative off 3 image(Ie), 9x LINEAR_ULPS x eps) is now judged
# against the rounding of the same relation measured at nearby Ie; the stored case
# examples/caustics_examples/linearity_fft_psf.json keeps it checked.
"""Checks that fail on the right caustics because their tolerance assumes braggcheck's own
rounding: xfail(strict) until the adaptive verdict of issue #21 lands, then remove the entry."""

for _name, _test in TESTS.items():
    if _name in FALSE_ALARMS:
        _test = pytest.mark.xfail(strict=True, reason=FALSE_ALARMS[_name])(_test)
    globals()[_name] = _test


def test_the_suite_holds_every_check():
    assert sorted(TESTS) == sorted(f"test_caustics_{c}" for c in CHECKS)


# Former false alarms outside the drawn ranges (found by wider draws, issue #21's closing note),
# each pinned to one case as a regression test of the verdict engine.
NEAR_ROUND_LENS = "false alarm: near a round lens (1 - lens_q < 5e-8) the SIE's derivative in "\
    "its axis ratio is computed through atan(f x / psi) / f with f = sqrt(1 - q^2) ~ 1e-4, so "\
    "both AD modes carry rounding of eps / f^2 ~ 1e-8 relative and differ by 1.5e-8 to 4e-8, "\
    "above AD_RTOL = 1e-9 (the gap changes sign as q moves by 1e-9: noise, not a wrong "\
    "derivative); fixed by the adaptive verdict of #21"
FORMER_FALSE_ALARMS = {
    "forward_reverse_near_a_round_lens": ("forward_reverse", {"lens_q": 0.99999999},
                                          ("lens_q",), NEAR_ROUND_LENS),
}


@pytest.mark.parametrize(("check", "changes", "names"), [
    pytest.param(check, changes, names, id=key)
    for key, (check, changes, names, _reason) in FORMER_FALSE_ALARMS.items()])
def test_no_false_alarm_at_a_pinned_case(check, changes, names):
    target = load_caustics_target()
    config = dataclasses.replace(target.DEFAULT, **changes)
    for projection in (Projection(kind="normal", seed=1), Projection(kind="rank", rank=0)):
        result = TARGET_CHECKS[check](target.CAUSTICS,
                                      TargetCase(config, names, projection=projection))
        assert result.passed or result.inconclusive, result.report()
