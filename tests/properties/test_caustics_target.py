"""The whole property suite of caustics (``examples/caustics_target.py``), a lensing simulator
braggcheck was not written with: the framework must raise no false alarm on it."""

from __future__ import annotations

import pytest

from braggcheck.testing import property_tests

from ..caustics import CAUSTICS_EXAMPLES, load_caustics_target

pytestmark = [pytest.mark.interop, pytest.mark.framework]  # caustics's physics, not ours

CHECKS = ("gradient", "forward_reverse", "taylor", "finite", "repeatable", "periodicity",
          "linearity")

TESTS = property_tests(load_caustics_target().CAUSTICS, examples_dir=CAUSTICS_EXAMPLES)

FALSE_ALARMS: dict[str, str] = {
    # The stored case examples/caustics_examples/linearity_fft_psf.json (the default image
    # blurred by the FFT PSF, k = 3) makes it fail in every profile, not only when drawn.
    "test_caustics_linearity": "false alarm: the FFT PSF convolution rounds every pixel at "
    "~eps x the image's peak, so a dim pixel of image(3 Ie) differs from 3 image(Ie) by 1.6e-14 "
    "relative, 9x LINEAR_ULPS x eps (8 ulps of the pixel itself); fixed by the adaptive verdict "
    "of #21",
}
"""Checks that fail on the right caustics because their tolerance assumes braggcheck's own
rounding: xfail(strict) until the adaptive verdict of issue #21 lands, then remove the entry."""

for _name, _test in TESTS.items():
    if _name in FALSE_ALARMS:
        _test = pytest.mark.xfail(strict=True, reason=FALSE_ALARMS[_name])(_test)
    globals()[_name] = _test


def test_the_suite_holds_every_check():
    assert sorted(TESTS) == sorted(f"test_caustics_{c}" for c in CHECKS)
